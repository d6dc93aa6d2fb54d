/**
 * The local executor: N tasks at a time, each a child process running `lesion-lab sweep-task` (TF.js trains one
 * model per process). On a machine with several NVIDIA GPUs each slot gets its own (CUDA_VISIBLE_DEVICES). The
 * sweep command waits for its tasks; cancelling it stops them (each writes its checkpoint and exits), and running
 * the sweep again resumes them.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendEvent } from '../../shared/protocol/backend';
import { validateBackendEvent } from '../../shared/protocol/backend';
import type { SweepPlan, SweepTask } from '../../shared/sweep';
import { CancelledError, UserError } from '../errors';
import type { JobContext } from '../job';
import { processAlive } from '../folderLock';
import type { Executor, ExecutorOptions, SchedulerTask, SchedulerView } from './executor';
import { taskCommand } from './executor';
import { readExecutorRecord, recordSubmission, thisHost, updateExecutorRecord } from './executorRecord';
import { readRunProgress } from './runProgress';
import type { SweepFolder } from './sweepFolder';

/** LESION_LAB_LOCAL_GPUS: how many GPUs this machine gives its local sweeps (0 when unset or not a whole number ≥ 1). */
export function localGpuCount(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LESION_LAB_LOCAL_GPUS ?? 0);
  return Number.isInteger(n) && n >= 1 ? n : 0;
}

/** Runs at a time: --parallel, else one per GPU (one when there are none). */
export function localSlotCount(parallel: number | undefined, gpus: number): number {
  return Math.max(1, parallel ?? gpus);
}

/**
 * The environment a slot's task gets: with several GPUs, slot k sees only GPU k mod G (CUDA_VISIBLE_DEVICES), so
 * G slots train one run per GPU and more slots share them round-robin. With one GPU or none, nothing is set.
 */
export function slotGpuEnv(slot: number, gpus: number): { CUDA_VISIBLE_DEVICES?: string } {
  return gpus > 1 ? { CUDA_VISIBLE_DEVICES: String(slot % gpus) } : {};
}

export class LocalExecutor implements Executor {
  readonly kind = 'local' as const;
  constructor(
    private readonly folder: SweepFolder,
    private readonly options: ExecutorOptions,
    /** Called with each event a task prints (train/didEpoch …), for live views. */
    private readonly onTaskEvent: (index: number, event: BackendEvent) => void = () => undefined,
  ) {}

  async submit(plan: SweepPlan, tasks: readonly SweepTask[], ctx: JobContext): Promise<void> {
    const slots = localSlotCount(this.options.parallel, localGpuCount());
    await fs.mkdir(this.folder.logs, { recursive: true });
    await updateExecutorRecord(this.folder, this.options, (r) => {
      recordSubmission(r, { indices: tasks.map((t) => t.index), at: new Date().toISOString() });
      r.pid = process.pid;
      r.host = thisHost();
    });
    const queue = [...tasks];
    const failures: string[] = [];
    const worker = async (slot: number): Promise<void> => {
      for (let task = queue.shift(); task && !ctx.signal.aborted; task = queue.shift()) {
        const code = await this.runTask(task, slot, ctx);
        if (code !== 0 && !ctx.signal.aborted) failures.push(`task ${task.index} (${task.name}) exited with ${code}; see ${path.join(this.folder.logs, `task-${task.index}.log`)}`);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(slots, tasks.length) }, (_, slot) => worker(slot)));
    } finally {
      // The process that ran the sweep may live on (the extension's backend): once it is done, queued tasks are not pending
      // any more, and sweep-cancel must not signal it.
      await updateExecutorRecord(this.folder, this.options, (r) => {
        if (r.pid === process.pid && r.host === thisHost()) {
          delete r.pid;
          delete r.host;
        }
      });
    }
    if (ctx.signal.aborted) throw new CancelledError();
    if (failures.length) throw new UserError(`${failures.length} of ${tasks.length} tasks failed: ${failures.join('; ')}. Run the sweep again to resume them.`);
  }

  private runTask(task: SweepTask, slot: number, ctx: JobContext): Promise<number> {
    const [node, ...args] = taskCommand(this.folder, this.options, String(task.index));
    const env: NodeJS.ProcessEnv = { ...process.env, ...slotGpuEnv(slot, localGpuCount()) };
    delete env.LESION_LAB_IPC;
    return new Promise((resolve) => {
      const log = createWriteStream(path.join(this.folder.logs, `task-${task.index}.log`), { flags: 'a' });
      const child = spawn(node!, [...args, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const stop = (): void => void child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', stop, { once: true });
      let buffered = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          log.write(line + '\n');
          let parsed: unknown;
          try {
            parsed = JSON.parse(line);
          } catch {
            continue;
          }
          const event = validateBackendEvent(parsed);
          if (event.ok) this.onTaskEvent(task.index, event.value);
        }
      });
      child.stderr.pipe(log, { end: false });
      child.on('error', (err) => {
        log.write(`could not start the task: ${err.message}\n`);
      });
      child.on('close', (code, signal) => {
        ctx.signal.removeEventListener('abort', stop);
        log.end(`task exited with ${code ?? signal}\n`);
        resolve(code ?? 1);
      });
    });
  }

  async view(plan: SweepPlan): Promise<SchedulerView> {
    const record = await readExecutorRecord(this.folder);
    const alive = !!record?.pid && record.host === thisHost() && processAlive(record.pid);
    const tasks = new Map<number, SchedulerTask>();
    for (const task of plan.tasks) {
      const attempts = record?.submissions.filter((s) => s.indices.includes(task.index)).length ?? 0;
      if (attempts === 0) continue;
      const p = await readRunProgress(this.folder.runDir(task));
      const runAlive = p.status === 'running' && alive;
      const state = p.status === 'finished' ? (p.predicted ? 'finished' : alive ? 'running' : 'failed') : runAlive ? 'running' : p.status === 'cancelled' ? 'cancelled' : p.status === 'failed' || p.status === 'running' ? 'failed' : alive ? 'pending' : 'waiting';
      tasks.set(task.index, { state, word: state, jobId: `local:${record!.pid}`, attempts });
    }
    return { tasks };
  }

  async cancel(_plan: SweepPlan, indices?: readonly number[]): Promise<void> {
    const record = await readExecutorRecord(this.folder);
    if (!record?.pid || record.host !== thisHost() || !processAlive(record.pid)) return;
    if (indices && indices.length) throw new UserError('The local executor stops a sweep as a whole; its finished runs are kept and running it again resumes the rest.');
    process.kill(record.pid, 'SIGTERM');
  }
}
