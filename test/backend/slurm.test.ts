import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { SweepPlan, SweepSummary } from '../../src/shared/sweep';
import type { ExecutorRecord } from '../../src/backend/sweep/executorRecord';
import { assertBuilt, runCli, startCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';
import type { SlurmCluster } from '../helpers/slurmCluster';
import { startSlurm } from '../helpers/slurmCluster';

// Tiny runs (MobileNetV2-0.35 at 32 px from scratch, head phase) on a real single-node Slurm with 2 CPUs.
const TRAIN = { model: 'mobilenetv2', alpha: 0.35, weights: 'none', size: 32, batch: 8, phase: 'head', engine: 'wasm', threads: 1 };

describe('backend process: sweeps on a real Slurm (sbatch --array, squeue/sacct, scancel, resubmit with --resume)', function () {
  this.timeout(900_000);
  let dir: string;
  let slurm: SlurmCluster;

  before(async () => {
    assertBuilt();
    slurm = await startSlurm(2);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-sweep-slurm-'));
    await preparedDemoDataset(dir, 4); // <dir>/prepared: the specs name it relative to their folder
  });
  after(async () => {
    await slurm?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({ SLURM_CONF: slurm.env.SLURM_CONF! });
  const why = (r: { stderr: string; events: BackendEvent[] }): string => `${r.events.filter((e) => e.type === 'error' || (e.type === 'log' && e.level === 'warn')).map((e) => JSON.stringify(e)).join('\n') || r.stderr}\n${slurm.logs()}`;
  /**
   * sacct's (task, state) rows once `tasks` of them are there and every one has ended: a run writes "finished" a
   * moment before Slurm records the task COMPLETED, and slurmdbd can record one array task later than the others.
   */
  const sacct = async (jobIds: string[], tasks = 1): Promise<[string, string][]> => {
    let rows: [string, string][] = [];
    await waitFor(
      async () => {
        rows = slurm
          .run('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State'])
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('|') as [string, string]);
        return rows.length >= tasks && rows.every(([, s]) => !/PENDING|RUNNING|COMPLETING/.test(s));
      },
      60_000,
      `sacct to record the end of ${jobIds.join(', ')}`,
    );
    return rows;
  };
  const record = async (sweep: string): Promise<ExecutorRecord> => JSON.parse(await fs.readFile(path.join(sweep, 'executor.json'), 'utf8')) as ExecutorRecord;
  const taskLogs = async (sweep: string): Promise<string> => {
    const logs = path.join(sweep, 'logs');
    const names = existsSync(logs) ? await fs.readdir(logs) : [];
    return (await Promise.all(names.map(async (n) => `--- ${n}\n${await fs.readFile(path.join(logs, n), 'utf8')}`))).join('\n');
  };

  it('--dry-run writes the batch script with every resource option, and Slurm accepts it (sbatch --test-only)', async () => {
    const spec = path.join(dir, 'dry.json');
    await fs.writeFile(spec, JSON.stringify({ prepared: 'prepared', train: { ...TRAIN, epochs: 1 }, grid: { lr: [0.001, 0.0003] } }));
    const r = await runCli(['sweep', '--spec', spec, '--executor', 'slurm', '--partition', 'debug', '--time', '0:10:00', '--cpus', '1', '--mem', '100M', '--sbatch', 'comment="lesion lab";--nice=10', '--setup', 'echo set up', '--dry-run', '--json'], { env: env() });
    assert.equal(r.code, 0, why(r));
    const script = path.join(dir, 'dry', 'slurm', 'tasks.sbatch');
    const text = await fs.readFile(script, 'utf8');
    for (const line of ['#SBATCH --partition=debug', '#SBATCH --time=0:10:00', '#SBATCH --mem=100M', '#SBATCH --comment="lesion lab"', '#SBATCH --nice=10', 'echo set up']) assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
    assert.ok(r.events.some((e) => e.type === 'log' && e.message.includes(`\`sbatch --array=0-1 ${script}\``)), 'says how to submit it');
    assert.equal(existsSync(path.join(dir, 'dry', 'executor.json')), false, 'nothing was submitted');
    // --test-only: slurmctld checks the script and its directives and says when it would start the array, submitting nothing.
    const check = spawnSync('sbatch', ['--test-only', '--array=0-1', script], { env: slurm.env, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr, /Job \d+ to start at/);
  });

  it('2 folds × 2 learning rates: one job array through sbatch, 4 tasks COMPLETED in sacct, a summary of 4 runs', async () => {
    const spec = path.join(dir, 'lr.json');
    await fs.writeFile(spec, JSON.stringify({ prepared: 'prepared', train: { ...TRAIN, epochs: 1 }, grid: { lr: [0.001, 0.0003] }, folds: 2 }));
    const r = await runCli(['sweep', '--spec', spec, '--executor', 'slurm', '--cpus', '1', '--watch', '--poll-seconds', '1', '--json'], { env: env() });
    const sweep = path.join(dir, 'lr');
    assert.equal(r.code, 0, `${why(r)}\n${await taskLogs(sweep)}`);
    const script = await fs.readFile(path.join(sweep, 'slurm', 'tasks.sbatch'), 'utf8');
    assert.match(script, /^#SBATCH --cpus-per-task=1$/m);
    assert.match(script, /sweep-task' '--sweep' '[^']+' '--index' "\$SLURM_ARRAY_TASK_ID"$/m);
    const { submissions } = await record(sweep);
    assert.equal(submissions.length, 1, 'one submission: nothing failed');
    assert.deepEqual(submissions[0]!.indices, [0, 1, 2, 3]);
    const states = await sacct([submissions[0]!.jobId!], 4);
    assert.deepEqual(states.map(([, s]) => s), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED'], JSON.stringify(states));
    assert.deepEqual(states.map(([id]) => id).sort(), [0, 1, 2, 3].map((i) => `${submissions[0]!.jobId}_${i}`));
    // squeue/sacct were asked while the tasks ran: the states came from the scheduler, with its job ids.
    const statuses = r.events.filter((e): e is Extract<BackendEvent, { type: 'sweep/didStatus' }> => e.type === 'sweep/didStatus');
    assert.ok(statuses.some((e) => e.status.tasks.some((t) => t.schedulerState === 'RUNNING' || t.schedulerState === 'PENDING')), 'a task seen queued or running');
    assert.ok(statuses.at(-1)!.status.tasks.every((t) => t.state === 'finished' && t.jobId === `${submissions[0]!.jobId}_${t.index}`), JSON.stringify(statuses.at(-1)));

    const summary = JSON.parse(await fs.readFile(path.join(sweep, 'summary.json'), 'utf8')) as SweepSummary;
    assert.equal(summary.runs.length, 4);
    assert.equal(summary.crossValidation.length, 2, 'one cross-validation per learning rate');
    for (const cv of summary.crossValidation) {
      assert.equal(cv.perFold.length, 2);
      assert.ok(cv.outOfFold, `out of fold for ${JSON.stringify(cv.config)}`);
    }
    assert.deepEqual(summary.crossValidation.map((c) => c.config.lr).sort(), [0.0003, 0.001]);
  });

  it('a task killed with scancel mid-run is submitted again and resumes: every epoch once, none lost', async () => {
    const spec = path.join(dir, 'long.json');
    const epochs = 12;
    await fs.writeFile(spec, JSON.stringify({ prepared: 'prepared', train: { ...TRAIN, epochs, lr: 0.0001 }, seeds: [7] }));
    const sweep = path.join(dir, 'long');
    const watcher = startCli(['sweep', '--spec', spec, '--executor', 'slurm', '--cpus', '1', '--watch', '--poll-seconds', '1', '--json'], { env: env() });
    const plan = JSON.parse(await waitForFile(path.join(sweep, 'sweep.json'), 120_000)) as SweepPlan;
    const metrics = path.join(sweep, plan.tasks[0]!.run, 'metrics.jsonl');
    // Wait until the run has written an epoch (and is still running), then cancel its Slurm task behind the sweep's back.
    await waitFor(async () => (await fs.readFile(metrics, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length >= 1, 300_000, `an epoch in ${metrics}`);
    const first = (await record(sweep)).submissions[0]!;
    slurm.run('scancel', [`${first.jobId}_0`]);
    const r = await watcher.done;
    assert.equal(r.code, 0, `${why(r)}\n${await taskLogs(sweep)}`);

    const { submissions } = await record(sweep);
    assert.equal(submissions.length, 2, 'submitted again once');
    const [[, killed]] = (await sacct([first.jobId!])) as [[string, string]];
    assert.match(killed, /^CANCELLED/);
    const [[, again]] = (await sacct([submissions[1]!.jobId!])) as [[string, string]];
    assert.equal(again, 'COMPLETED');
    assert.ok(r.events.some((e) => e.type === 'log' && /resubmitting task 0 \(CANCELLED/.test(e.message)), 'the sweep says it resubmits');
    const logs = await taskLogs(sweep);
    assert.match(logs, /task 0 \([^)]*\): resuming the run/, 'the second attempt resumed the run');
    const resumedAfter = Number(/resuming after epoch (\d+)/.exec(logs)?.[1]);

    // Every epoch once, in order: none trained twice, none lost; the kill came after epoch 1 and before the end
    // (training may stop early: val_loss patience 3).
    const lines = (await fs.readFile(metrics, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
    assert.deepEqual(lines.map((m) => m.epoch), Array.from({ length: lines.length }, (_, i) => i + 1), 'every epoch exactly once, in order');
    assert.ok(resumedAfter >= 1 && resumedAfter < lines.length, `resumed after epoch ${resumedAfter} of ${lines.length}`);
    if (lines.length < epochs) assert.match(logs, new RegExp(`early stop at epoch ${lines.length}:`));
    const status = JSON.parse(await fs.readFile(path.join(sweep, plan.tasks[0]!.run, 'status.json'), 'utf8')) as { status: string };
    assert.equal(status.status, 'finished');
    const summary = JSON.parse(await fs.readFile(path.join(sweep, 'summary.json'), 'utf8')) as SweepSummary;
    assert.equal(summary.runs[0]!.epochs, lines.length);
  });

  it('sweep-cancel scancels a task (sweep-status: cancelled); sweep-status --resubmit submits it again and it resumes: every epoch once', async () => {
    const spec = path.join(dir, 'cancel.json');
    const epochs = 12;
    await fs.writeFile(spec, JSON.stringify({ prepared: 'prepared', train: { ...TRAIN, epochs, lr: 0.0001 }, seeds: [11] }));
    const sweep = path.join(dir, 'cancel');
    const submitted = await runCli(['sweep', '--spec', spec, '--executor', 'slurm', '--cpus', '1', '--json'], { env: env() });
    assert.equal(submitted.code, 0, why(submitted));
    const plan = JSON.parse(await fs.readFile(path.join(sweep, 'sweep.json'), 'utf8')) as SweepPlan;
    const metrics = path.join(sweep, plan.tasks[0]!.run, 'metrics.jsonl');
    const epochsIn = async (): Promise<number[]> => (await fs.readFile(metrics, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    await waitFor(async () => (await epochsIn()).length >= 1, 300_000, `an epoch in ${metrics}`);

    const cancel = await runCli(['sweep-cancel', '--sweep', sweep, '--tasks', '0', '--json'], { env: env() });
    assert.equal(cancel.code, 0, why(cancel));
    const first = (await record(sweep)).submissions[0]!;
    const [[, killed]] = (await sacct([first.jobId!])) as [[string, string]];
    assert.match(killed, /^CANCELLED/, 'scancel ended the task');
    assert.deepEqual((await record(sweep)).cancelled, [0], 'recorded as cancelled by a person');
    const atCancel = await epochsIn();
    assert.ok(atCancel.length < epochs, `cancelled mid-run, after ${atCancel.length} of ${epochs} epochs`);

    const status = await runCli(['sweep-status', '--sweep', sweep, '--json'], { env: env() });
    assert.equal(status.code, 0, why(status));
    const seen = status.events.filter((e): e is Extract<BackendEvent, { type: 'sweep/didStatus' }> => e.type === 'sweep/didStatus').at(-1)!.status.tasks[0]!;
    assert.deepEqual([seen.state, seen.schedulerState?.replace(/ .*/, '')], ['cancelled', 'CANCELLED'], JSON.stringify(seen));

    const resubmit = await runCli(['sweep-status', '--sweep', sweep, '--resubmit', '--json'], { env: env() });
    assert.equal(resubmit.code, 0, why(resubmit));
    const { submissions, cancelled } = await record(sweep);
    assert.equal(submissions.length, 2, 'submitted again, once');
    assert.deepEqual(submissions[1]!.indices, [0]);
    assert.deepEqual(cancelled, [], 'no longer "cancelled by a person"');
    const status2 = path.join(sweep, plan.tasks[0]!.run, 'status.json');
    await waitFor(async () => /"finished"/.test(await fs.readFile(status2, 'utf8').catch(() => '')), 300_000, `the resubmitted run to finish (${status2})`);
    const [[, again]] = (await sacct([submissions[1]!.jobId!])) as [[string, string]];
    assert.equal(again, 'COMPLETED');
    const logs = await taskLogs(sweep);
    assert.match(logs, /task 0 \([^)]*\): resuming the run/, 'the second attempt resumed the run');
    const after = await epochsIn();
    assert.deepEqual(after, Array.from({ length: after.length }, (_, i) => i + 1), 'every epoch exactly once, in order');
    assert.deepEqual(after.slice(0, atCancel.length), atCancel, 'the epochs before the cancel are kept');
    const done = await runCli(['sweep-status', '--sweep', sweep, '--json'], { env: env() });
    assert.ok(done.events.some((e) => e.type === 'sweep/didFinish'), 'sweep-status reports the finished sweep');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function waitForFile(file: string, timeoutMs: number): Promise<string> {
  let text = '';
  await waitFor(async () => (text = await fs.readFile(file, 'utf8').catch(() => '')).length > 0, timeoutMs, file);
  return text;
}
