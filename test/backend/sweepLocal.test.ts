import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { SweepPlan, SweepStatus, SweepSummary } from '../../src/shared/sweep';
import { assertBuilt, runCli, startCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';

// MobileNetV2-0.35 at 32 px from scratch, head phase: the sweep machinery, not the model, is under test.
const TRAIN = { model: 'mobilenetv2', alpha: 0.35, weights: 'none', size: 32, batch: 8, phase: 'head', engine: 'wasm', threads: 1 };

describe('backend process: a local sweep cancelled with sweep-cancel, its sweep-status, and resumed; one run per GPU', function () {
  this.timeout(900_000);
  let dir: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-sweep-local-'));
    await preparedDemoDataset(dir, 4); // <dir>/prepared: the specs name it relative to their folder
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const why = (r: { stderr: string; events: BackendEvent[] }): string => r.events.filter((e) => e.type === 'error' || (e.type === 'log' && e.level === 'warn')).map((e) => JSON.stringify(e)).join('\n') || r.stderr;
  const lastStatus = (events: BackendEvent[]): SweepStatus => {
    const all = events.filter((e): e is Extract<BackendEvent, { type: 'sweep/didStatus' }> => e.type === 'sweep/didStatus');
    assert.ok(all.length, 'a sweep/didStatus event');
    return all.at(-1)!.status;
  };
  const epochsIn = async (file: string): Promise<number[]> => (await fs.readFile(file, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { epoch: number }).epoch);

  it('sweep-cancel stops it mid-run; sweep-status says cancelled and --resubmit says how to resume; the same spec again resumes: every epoch once', async () => {
    const spec = path.join(dir, 'long.json');
    const epochs = 12;
    await fs.writeFile(spec, JSON.stringify({ prepared: 'prepared', train: { ...TRAIN, epochs, lr: 0.0001 }, seeds: [7] }));
    const sweep = path.join(dir, 'long');
    const running = startCli(['sweep', '--spec', spec, '--json']);
    const plan = JSON.parse(await waitForFile(path.join(sweep, 'sweep.json'), 120_000)) as SweepPlan;
    const runDir = path.join(sweep, plan.tasks[0]!.run);
    const metrics = path.join(runDir, 'metrics.jsonl');
    await waitFor(async () => (await epochsIn(metrics)).length >= 1, 300_000, `an epoch in ${metrics}`);

    // The local executor stops a sweep as a whole: one task alone is refused, saying so.
    const one = await runCli(['sweep-cancel', '--sweep', sweep, '--tasks', '0', '--json']);
    assert.equal(one.code, 1);
    assert.match(why(one), /stops a sweep as a whole.*running it again resumes the rest/);
    const cancel = await runCli(['sweep-cancel', '--sweep', sweep, '--json']);
    assert.equal(cancel.code, 0, why(cancel));
    const stopped = await running.done;
    assert.equal(stopped.code, 130, `the sweep ends as cancelled: ${why(stopped)}`);
    const atCancel = await epochsIn(metrics);
    assert.ok(atCancel.length >= 1 && atCancel.length < epochs, `cancelled mid-run, after ${atCancel.length} of ${epochs} epochs`);
    assert.equal((JSON.parse(await fs.readFile(path.join(runDir, 'status.json'), 'utf8')) as { status: string }).status, 'cancelled');

    const status = await runCli(['sweep-status', '--sweep', sweep, '--json']);
    assert.equal(status.code, 0, why(status));
    assert.deepEqual(lastStatus(status.events).tasks.map((t) => t.state), ['cancelled']);
    const resubmit = await runCli(['sweep-status', '--sweep', sweep, '--resubmit', '--json']);
    assert.equal(resubmit.code, 1);
    assert.match(why(resubmit), /Run the sweep again .*to resume its 1 unfinished runs locally/);

    // The same spec again: the run resumes after its last epoch; none is trained twice, none lost.
    const again = await runCli(['sweep', '--spec', spec, '--json']);
    assert.equal(again.code, 0, why(again));
    const log = await fs.readFile(path.join(sweep, 'logs', 'task-0.log'), 'utf8');
    assert.match(log, /task 0 \([^)]*\): resuming the run/);
    const after = await epochsIn(metrics);
    assert.deepEqual(after, Array.from({ length: after.length }, (_, i) => i + 1), 'every epoch exactly once, in order');
    assert.deepEqual(after.slice(0, atCancel.length), atCancel, 'the epochs before the cancel are kept');
    assert.ok(after.length > atCancel.length, `trained on after the cancel (${atCancel.length} → ${after.length} epochs)`);
    if (after.length < epochs) assert.match(log, new RegExp(`early stop at epoch ${after.length}:`));
    const finished = await runCli(['sweep-status', '--sweep', sweep, '--json']);
    assert.deepEqual(lastStatus(finished.events).tasks.map((t) => t.state), ['finished']);
    const done = finished.events.find((e): e is Extract<BackendEvent, { type: 'sweep/didFinish' }> => e.type === 'sweep/didFinish');
    assert.equal(done?.summary.runs[0]!.epochs, after.length);
    const summary = JSON.parse(await fs.readFile(path.join(sweep, 'summary.json'), 'utf8')) as SweepSummary;
    assert.equal(summary.finished, 1);
  });

  it('LESION_LAB_LOCAL_GPUS=2: without --parallel, two tasks run at once, one on each GPU', async () => {
    const spec = path.join(dir, 'gpus.json');
    await fs.writeFile(spec, JSON.stringify({ prepared: 'prepared', train: { ...TRAIN, epochs: 1 }, grid: { lr: [0.001, 0.0003] } }));
    const sweep = path.join(dir, 'gpus');
    const r = await runCli(['sweep', '--spec', spec, '--json'], { env: { LESION_LAB_LOCAL_GPUS: '2' } });
    assert.equal(r.code, 0, why(r));
    const logs = await Promise.all([0, 1].map((i) => fs.readFile(path.join(sweep, 'logs', `task-${i}.log`), 'utf8')));
    assert.match(logs[0]!, /task 0 \([^)]*\): starting the run in .* \(CUDA_VISIBLE_DEVICES=0\)/);
    assert.match(logs[1]!, /task 1 \([^)]*\): starting the run in .* \(CUDA_VISIBLE_DEVICES=1\)/);
    // At once: each run started before the other finished.
    const plan = JSON.parse(await fs.readFile(path.join(sweep, 'sweep.json'), 'utf8')) as SweepPlan;
    const spans = await Promise.all(plan.tasks.map(async (t) => {
      const metrics = (await fs.readFile(path.join(sweep, t.run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { finishedAt: string; seconds: number });
      const config = JSON.parse(await fs.readFile(path.join(sweep, t.run, 'config.json'), 'utf8')) as { createdAt: string };
      return { start: Date.parse(config.createdAt), end: Date.parse(metrics.at(-1)!.finishedAt) };
    }));
    assert.ok(spans[0]!.start < spans[1]!.end && spans[1]!.start < spans[0]!.end, `the two runs overlap in time: ${JSON.stringify(spans)}`);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function waitForFile(file: string, timeoutMs: number): Promise<string> {
  let text = '';
  await waitFor(async () => (text = await fs.readFile(file, 'utf8').catch(() => '')).length > 0, timeoutMs, file);
  return text;
}
