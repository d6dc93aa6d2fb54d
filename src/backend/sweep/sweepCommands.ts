/**
 * `lesion-lab sweep`, `cv`, `sweep-status` and `sweep-cancel`: expand a spec into a plan written before anything runs,
 * hand the unfinished tasks to an executor, and (locally, or with --watch) follow them to the summary, submitting
 * failed or pre-empted tasks again (they resume) up to --max-retries times.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SweepKind, SweepPlan, SweepStatus, SweepTask } from '../../shared/sweep';
import type { CrossValidateOptions, FollowOptions, SweepOptions } from '../../shared/protocol/sweeps';
import { CancelledError, UserError } from '../errors';
import type { JobContext } from '../job';
import { sleep } from '../job';
import { recordFoldScheme } from '../dataset/foldScheme';
import { withFolderLock } from '../folderLock';
import type { Executor, ExecutorOptions } from './executor';
import { readExecutorRecord } from './executorRecord';
import { kubernetesIndexedJob } from './kubernetesJob';
import { LocalExecutor } from './localExecutor';
import { SlurmExecutor, sbatchScript } from './slurmExecutor';
import { assertNever } from '../../shared/assertNever';
import { SweepFolder, readPlan, writePlan } from './sweepFolder';
import type { SweepSpec } from './sweepSpec';
import { SweepSpecError, expandSweep, parseSweepSpec } from './sweepSpec';
import { sweepStatus } from './sweepStatus';
import { writeSummary } from './sweepSummary';
import { writeFileAtomic } from '../fsAtomic';


export function makeExecutor(folder: SweepFolder, options: ExecutorOptions, ctx?: JobContext, onStatus?: () => void): Executor {
  switch (options.kind) {
    case 'local':
      return new LocalExecutor(folder, options, (_, e) => {
        if (e.type === 'train/didEpoch' || e.type === 'train/didStart' || e.type === 'job/didEnd') onStatus?.();
        if (e.type === 'error' && ctx) ctx.emit({ type: 'log', level: 'warn', message: e.message });
      });
    case 'slurm':
      return new SlurmExecutor(folder, options);
    case 'kubernetes':
      throw new UserError('The Kubernetes executor only writes a manifest: use it with --dry-run, then `kubectl apply -f` the file it writes.');
    default:
      return assertNever(options.kind, 'executor');
  }
}

const specError = (err: unknown, where: string): never => {
  if (err instanceof SweepSpecError) throw new UserError(`${where}: ${err.message}`);
  throw err;
};

/** `sweep --spec FILE`: paths in the spec are relative to its folder. */
export async function sweepFromSpec(o: SweepOptions, ctx: JobContext): Promise<void> {
  const specFile = path.resolve(o.spec);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(specFile, 'utf8'));
  } catch (err) {
    throw new UserError(`Could not read the sweep spec ${specFile}: ${(err as Error).message}.`);
  }
  const spec = (() => {
    try {
      return parseSweepSpec(raw);
    } catch (err) {
      return specError(err, specFile);
    }
  })();
  const base = path.dirname(specFile);
  const out = path.resolve(base, o.out ?? spec.out ?? path.basename(specFile).replace(/\.json$/i, ''));
  await runSweep({ ...spec, prepared: path.resolve(base, spec.prepared) }, 'sweep', raw, out, o, ctx);
}

/** `cv --prepared DIR --folds K --out DIR [train options]`: a sweep over the K folds. */
export async function crossValidate(o: CrossValidateOptions, ctx: JobContext): Promise<void> {
  const spec: SweepSpec = { prepared: path.resolve(o.prepared), train: {}, grid: {}, folds: { k: o.folds, seed: o.foldSeed } };
  try {
    Object.assign(spec, parseSweepSpec({ prepared: spec.prepared, train: o.train, folds: spec.folds }));
  } catch (err) {
    specError(err, 'cv');
  }
  await runSweep(spec, 'cv', { prepared: spec.prepared, folds: spec.folds, train: o.train }, path.resolve(o.out), o, ctx);
}

async function runSweep(spec: SweepSpec, kind: SweepKind, source: unknown, out: string, o: { executor: ExecutorOptions } & FollowOptions, ctx: JobContext): Promise<void> {
  let tasks: Omit<SweepTask, 'run'>[];
  try {
    tasks = expandSweep(spec);
  } catch (err) {
    return specError(err, kind);
  }
  if (spec.folds) {
    // Under the prepared folder's lock: prepare and augment write the same manifest.
    const { k, seed } = spec.folds;
    const { scheme, created } = await withFolderLock(spec.prepared, `${kind} --prepared ${spec.prepared} (recording ${k} folds)`, 'The prepared folder', ctx, () => recordFoldScheme(spec.prepared, k, seed));
    ctx.emit({ type: 'log', level: 'info', message: `${created ? 'made and recorded' : 'using the recorded'} ${scheme.folds} folds (seed ${scheme.seed}, each ${scheme.groupedBy} whole in one fold): ${scheme.counts.map((c) => c.reduce((a, b) => a + b, 0)).join(' / ')} images` });
  }
  await fs.mkdir(out, { recursive: true });
  const folder = new SweepFolder(out);
  const planned: SweepPlan = {
    version: 1,
    kind,
    name: path.basename(out),
    createdAt: new Date().toISOString(),
    prepared: spec.prepared,
    ...(spec.folds ? { folds: spec.folds } : {}),
    spec: source,
    tasks: tasks.map((t) => ({ ...t, run: `runs/${t.name}` })),
  };
  const { plan, reused } = await writePlan(folder, planned);
  ctx.emit({ type: 'log', level: 'info', message: `${reused ? 'continuing' : 'planned'} ${plan.tasks.length} run${plan.tasks.length === 1 ? '' : 's'} in ${folder.dir} (${folder.plan})` });
  if (o.dryRun) return dryRun(folder, plan, o.executor, ctx);
  const emitStatus = throttledStatus(folder, plan, ctx);
  const executor = makeExecutor(folder, o.executor, ctx, () => emitStatus.soon(executor));
  const status = await sweepStatus(folder, plan, executor);
  const todo = plan.tasks.filter((t) => {
    const s = status.tasks[t.index]!;
    return s.state !== 'finished' && s.state !== 'pending' && s.state !== 'running';
  });
  if (todo.length < plan.tasks.length) ctx.emit({ type: 'log', level: 'info', message: `${plan.tasks.length - todo.length} of ${plan.tasks.length} runs are finished or queued already; ${todo.length} to ${o.executor.kind === 'local' ? 'run' : 'submit'}` });
  ctx.emit({ type: 'sweep/didStatus', status });
  if (o.executor.kind === 'local') {
    try {
      await executor.submit(plan, todo, ctx);
    } finally {
      await emitStatus.now(executor);
    }
    return finish(folder, plan, ctx);
  }
  await executor.submit(plan, todo, ctx);
  await emitStatus.now(executor);
  if (o.watch) await watch(folder, plan, executor, o, ctx);
}

/** Status snapshots for live views: at most one a second, and one at the end. */
function throttledStatus(folder: SweepFolder, plan: SweepPlan, ctx: JobContext): { soon(e: Executor): void; now(e: Executor): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  const now = async (e: Executor): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    ctx.emit({ type: 'sweep/didStatus', status: await sweepStatus(folder, plan, e) });
  };
  return {
    soon: (e) => {
      timer ??= setTimeout(() => void now(e).catch(() => undefined), 1000);
    },
    now,
  };
}

async function finish(folder: SweepFolder, plan: SweepPlan, ctx: JobContext): Promise<void> {
  const summary = await writeSummary(folder, plan);
  ctx.emit({ type: 'sweep/didFinish', folder: folder.dir, summary, path: folder.summary });
}

/** Follows a submitted sweep until every task has finished, resubmitting failed ones; cancelling stops following (not the tasks). */
async function watch(folder: SweepFolder, plan: SweepPlan, executor: Executor, o: FollowOptions, ctx: JobContext): Promise<void> {
  for (;;) {
    await sleep(o.pollSeconds * 1000, ctx.signal);
    const status = await sweepStatus(folder, plan, executor);
    ctx.emit({ type: 'sweep/didStatus', status });
    if (status.tasks.every((t) => t.state === 'finished')) return finish(folder, plan, ctx);
    if (status.schedulerProblem) continue;
    const cancelledByPerson = new Set((await readExecutorRecord(folder))?.cancelled ?? []);
    const again = status.tasks.filter((t) => (t.state === 'failed' || (t.state === 'cancelled' && !cancelledByPerson.has(t.index))) && t.attempts <= o.maxRetries);
    if (again.length > 0) {
      ctx.emit({ type: 'log', level: 'warn', message: `resubmitting ${again.map((t) => `task ${t.index} (${t.schedulerState ?? t.state}, attempt ${t.attempts})`).join(', ')}; each resumes from its last checkpoint` });
      await executor.submit(plan, again.map((t) => plan.tasks[t.index]!), ctx);
      continue;
    }
    if (!status.tasks.some((t) => t.state === 'pending' || t.state === 'running')) {
      await writeSummary(folder, plan);
      const left = status.tasks.filter((t) => t.state !== 'finished');
      throw new UserError(`${left.length} of ${plan.tasks.length} runs did not finish (${left.map((t) => `task ${t.index}: ${t.schedulerState ?? t.state}${t.attempts > o.maxRetries ? ` after ${t.attempts} attempts` : ''}`).join('; ')}). Their logs are in ${folder.logs}; \`lesion-lab sweep-status --sweep ${folder.dir} --resubmit\` tries them again.`);
    }
  }
}

async function dryRun(folder: SweepFolder, plan: SweepPlan, options: ExecutorOptions, ctx: JobContext): Promise<void> {
  switch (options.kind) {
    case 'slurm': {
      const executor = new SlurmExecutor(folder, options);
      await writeFileAtomic(executor.script, sbatchScript(folder, plan, options));
      ctx.emit({ type: 'log', level: 'info', message: `wrote ${executor.script}; submit it with: \`sbatch --array=0-${plan.tasks.length - 1}${options.parallel ? `%${options.parallel}` : ''} ${executor.script}\`` });
      return;
    }
    case 'kubernetes': {
      const file = path.join(folder.dir, 'kubernetes', 'indexed-job.yaml');
      await writeFileAtomic(file, kubernetesIndexedJob(folder, plan, options));
      ctx.emit({ type: 'log', level: 'info', message: `wrote ${file}; run it with: kubectl apply -f ${file}` });
      return;
    }
    case 'local':
      ctx.emit({ type: 'log', level: 'info', message: `the plan is in ${folder.plan}; nothing was run (--dry-run)` });
      return;
    default:
      assertNever(options.kind, 'executor');
  }
}

/** The executor a sweep folder was run with (executor.json), for status, cancel and resubmit. */
async function recordedExecutor(folder: SweepFolder, ctx: JobContext): Promise<Executor> {
  const record = await readExecutorRecord(folder);
  return makeExecutor(folder, record?.options ?? { kind: 'local' }, ctx);
}

/** `sweep-status --sweep DIR [--resubmit]`: every task's state, the summary so far, and optionally the failed tasks submitted again. */
export async function sweepStatusCommand(o: { sweep: string; resubmit: boolean }, ctx: JobContext): Promise<SweepStatus> {
  const folder = new SweepFolder(path.resolve(o.sweep));
  const plan = await readPlan(folder.dir);
  const executor = await recordedExecutor(folder, ctx);
  let status = await sweepStatus(folder, plan, executor);
  if (o.resubmit) {
    const again = status.tasks.filter((t) => t.state === 'failed' || t.state === 'cancelled' || t.state === 'waiting').map((t) => plan.tasks[t.index]!);
    if (again.length === 0) ctx.emit({ type: 'log', level: 'info', message: 'no task needs submitting again' });
    else if (executor.kind === 'local') throw new UserError(`Run the sweep again (\`lesion-lab sweep\` with the same spec) to resume its ${again.length} unfinished runs locally.`);
    else {
      await executor.submit(plan, again, ctx);
      status = await sweepStatus(folder, plan, executor);
    }
  }
  ctx.emit({ type: 'sweep/didStatus', status });
  const summary = await writeSummary(folder, plan);
  if (summary.finished === plan.tasks.length) ctx.emit({ type: 'sweep/didFinish', folder: folder.dir, summary, path: folder.summary });
  return status;
}

export async function sweepCancelCommand(o: { sweep: string; tasks?: number[] }, ctx: JobContext): Promise<void> {
  const folder = new SweepFolder(path.resolve(o.sweep));
  const plan = await readPlan(folder.dir);
  const executor = await recordedExecutor(folder, ctx);
  if (ctx.signal.aborted) throw new CancelledError();
  await executor.cancel(plan, o.tasks);
  ctx.emit({ type: 'sweep/didStatus', status: await sweepStatus(folder, plan, executor) });
}
