/**
 * The Slurm executor: one job array per submission (`sbatch --array=I,J,…%N`), each array task running
 * `lesion-lab sweep-task` against the shared sweep folder; states from `squeue` (queued and running tasks) and
 * `sacct` (finished ones: COMPLETED, FAILED, TIMEOUT, PREEMPTED, CANCELLED …), cancel with `scancel`. A task that
 * failed, timed out, was pre-empted or cancelled by someone else is submitted again, and resumes its run.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SweepPlan, SweepTask, TaskState } from '../../shared/sweep';
import { UserError } from '../errors';
import { writeFileAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import type { Executor, ExecutorOptions, SchedulerTask, SchedulerView } from './executor';
import { taskCommand } from './executor';
import { readExecutorRecord, recordSubmission, updateExecutorRecord } from './executorRecord';
import type { SweepFolder } from './sweepFolder';

/** Slurm's job states (squeue's long names, sacct's first word) in Lesion Lab's words. */
export function slurmTaskState(word: string): TaskState {
  switch (word) {
    case 'PENDING':
    case 'CONFIGURING':
    case 'REQUEUED':
    case 'REQUEUE_FED':
    case 'REQUEUE_HOLD':
    case 'RESIZING':
    case 'SUSPENDED':
    case 'STOPPED':
      return 'pending';
    case 'RUNNING':
    case 'COMPLETING':
    case 'SIGNALING':
    case 'STAGE_OUT':
      return 'running';
    case 'COMPLETED':
      return 'finished';
    case 'CANCELLED':
    case 'REVOKED':
      return 'cancelled';
    default:
      // FAILED, TIMEOUT, PREEMPTED, NODE_FAIL, BOOT_FAIL, OUT_OF_MEMORY, DEADLINE, SPECIAL_EXIT …
      return 'failed';
  }
}

/** Runs a Slurm command; a missing one, or slurmctld not answering, is a UserError that says so. */
function slurm(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return reject(new UserError(`${command} is not on this machine's PATH: the Slurm executor runs where Slurm's commands do (a cluster's login node). Load Slurm's module, or use --executor local.`));
      reject(new UserError(`${command} ${args.join(' ')} failed: ${(stderr || e.message).trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

/** The lines of the batch script; `$SLURM_ARRAY_TASK_ID` picks the task. */
export function sbatchScript(folder: SweepFolder, plan: SweepPlan, o: ExecutorOptions): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['#!/bin/bash', `#SBATCH --job-name=${`lesion-lab-${plan.name}`.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60)}`, `#SBATCH --output=${q(path.join(folder.logs, '%A_%a.out'))}`];
  if (o.partition) lines.push(`#SBATCH --partition=${o.partition}`);
  if (o.time) lines.push(`#SBATCH --time=${o.time}`);
  if (o.cpus) lines.push(`#SBATCH --cpus-per-task=${o.cpus}`);
  if (o.gpus) lines.push(`#SBATCH --gpus-per-task=${o.gpus}`);
  if (o.mem) lines.push(`#SBATCH --mem=${o.mem}`);
  for (const extra of o.sbatch ?? []) lines.push(`#SBATCH ${extra.trim()}`);
  lines.push('', '# Written by Lesion Lab: each array task trains one run of the sweep (resuming it if it had started).', 'set -e');
  if (o.setup) lines.push(o.setup);
  const [node, ...args] = taskCommand(folder, o, '"$SLURM_ARRAY_TASK_ID"');
  lines.push(`exec ${[node!, ...args.slice(0, -1)].map(q).join(' ')} "$SLURM_ARRAY_TASK_ID"`, '');
  return lines.join('\n');
}

export class SlurmExecutor implements Executor {
  readonly kind = 'slurm' as const;
  constructor(
    private readonly folder: SweepFolder,
    private readonly options: ExecutorOptions,
  ) {}

  get script(): string {
    return path.join(this.folder.dir, 'slurm', 'tasks.sbatch');
  }

  async submit(plan: SweepPlan, tasks: readonly SweepTask[], ctx: JobContext): Promise<void> {
    if (tasks.length === 0) return;
    await fs.mkdir(this.folder.logs, { recursive: true });
    await writeFileAtomic(this.script, sbatchScript(this.folder, plan, this.options));
    await fs.chmod(this.script, 0o755);
    const indices = tasks.map((t) => t.index);
    const array = `${indices.join(',')}${this.options.parallel ? `%${this.options.parallel}` : ''}`;
    const out = await slurm('sbatch', ['--parsable', `--array=${array}`, this.script]);
    const jobId = out.trim().split(';')[0]!;
    if (!/^\d+$/.test(jobId)) throw new UserError(`sbatch answered "${out.trim()}" instead of a job id.`);
    await updateExecutorRecord(this.folder, this.options, (r) => recordSubmission(r, { jobId, indices, at: new Date().toISOString() }));
    ctx.emit({ type: 'log', level: 'info', message: `submitted ${tasks.length} task${tasks.length === 1 ? '' : 's'} as Slurm job array ${jobId} (${this.script})` });
  }

  async view(plan: SweepPlan): Promise<SchedulerView> {
    const record = await readExecutorRecord(this.folder);
    const tasks = new Map<number, SchedulerTask>();
    if (!record || record.submissions.length === 0) return { tasks };
    // Each task's latest submission is the one that counts.
    const latest = new Map<number, { jobId: string; attempts: number }>();
    for (const s of record.submissions) for (const i of s.indices) latest.set(i, { jobId: s.jobId!, attempts: (latest.get(i)?.attempts ?? 0) + 1 });
    const jobIds = [...new Set([...latest.values()].map((l) => l.jobId))];
    const words = new Map<string, string>();
    let problem: string | undefined;
    try {
      // sacct first (finished and running tasks), then squeue, which knows queued ones best and wins.
      const acct = await slurm('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State']);
      for (const line of acct.split('\n')) {
        const [id, state] = line.split('|');
        if (id && state && /^\d+_\d+$/.test(id)) words.set(id, state.split(' ')[0]!);
      }
      const queue = await slurm('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%i|%T']).catch((err: unknown) => {
        // squeue refuses ids it no longer knows (all finished): sacct has them.
        if (err instanceof UserError && /Invalid job id/i.test(err.message)) return '';
        throw err;
      });
      for (const line of queue.split('\n')) {
        const [id, state] = line.split('|');
        if (id && state && /^\d+_\d+$/.test(id)) words.set(id, state);
      }
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    for (const [index, { jobId, attempts }] of latest) {
      const id = `${jobId}_${index}`;
      const word = words.get(id);
      if (word) tasks.set(index, { state: slurmTaskState(word), word, jobId: id, attempts });
      else if (!problem) tasks.set(index, { state: 'pending', word: 'SUBMITTED', jobId: id, attempts });
    }
    void plan;
    return { tasks, ...(problem ? { problem } : {}) };
  }

  async cancel(plan: SweepPlan, indices?: readonly number[]): Promise<void> {
    const view = await this.view(plan);
    const targets = [...view.tasks.entries()].filter(([i, t]) => (!indices || indices.includes(i)) && (t.state === 'pending' || t.state === 'running'));
    if (targets.length > 0) await slurm('scancel', targets.map(([, t]) => t.jobId));
    await updateExecutorRecord(this.folder, this.options, (r) => {
      r.cancelled = [...new Set([...r.cancelled, ...(indices ?? plan.tasks.map((t) => t.index))])];
    });
  }
}
