/**
 * Executors: what runs a sweep's tasks. One interface, so that a sweep runs the same way on this machine and on a
 * cluster: `local` runs N tasks at a time as child processes and waits for them; `slurm` submits them as a job array
 * and returns (the tasks run on the cluster against the shared sweep folder). Every task is the same command,
 * `lesion-lab sweep-task --sweep DIR --index I`, which resumes an unfinished run and skips a finished one.
 */
import type { ExecutorKind, ExecutorOptions, SweepPlan, SweepTask, TaskState } from '../../shared/sweep';

export type { ExecutorKind, ExecutorOptions } from '../../shared/sweep';
import type { JobContext } from '../job';
import type { SweepFolder } from './sweepFolder';

/** What the scheduler says about one task's latest submission. */
export interface SchedulerTask {
  state: TaskState;
  /** The scheduler's own word (Slurm: PENDING, RUNNING, COMPLETED, PREEMPTED, TIMEOUT, CANCELLED …). */
  word: string;
  jobId: string;
  attempts: number;
}

export interface SchedulerView {
  tasks: Map<number, SchedulerTask>;
  /** Set when the scheduler could not be asked; the states then come from the run folders alone. */
  problem?: string;
}

export interface Executor {
  readonly kind: ExecutorKind;
  /** Runs (local: until they end) or submits (slurm) these tasks of the plan. */
  submit(plan: SweepPlan, tasks: readonly SweepTask[], ctx: JobContext): Promise<void>;
  /** The scheduler's view of every task it was given. */
  view(plan: SweepPlan): Promise<SchedulerView>;
  /** Cancels these tasks (all when omitted); they are not resubmitted unless asked. */
  cancel(plan: SweepPlan, indices?: readonly number[]): Promise<void>;
}

/** The command a task runs, as argv: the Node.js binary, the CLI, and its arguments. */
export function taskCommand(folder: SweepFolder, opts: Pick<ExecutorOptions, 'node' | 'cli'>, index: string): string[] {
  return [opts.node ?? process.execPath, opts.cli ?? process.argv[1] ?? 'lesion-lab', 'sweep-task', '--sweep', folder.dir, '--index', index];
}
