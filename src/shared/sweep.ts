/**
 * A sweep (or a cross-validation, which is a sweep over folds) as the backend writes it into its folder and the
 * extension reads it: the expanded plan (`sweep.json`, written before any task runs), each task's state as the
 * scheduler reports it, and the summary (`summary.json`) once runs have finished.
 */
import type { Check } from './validate';
import { arrayOf, literal, num, obj, optional, recordOf, str } from './validate';

/** A confidence interval (the bootstrap's 95%). */
export interface Interval {
  low: number;
  high: number;
}

/** Which executor runs a sweep's tasks, and how (see src/backend/sweep/executor.ts). */
export type ExecutorKind = 'local' | 'slurm' | 'kubernetes';
export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['local', 'slurm', 'kubernetes'];

export interface ExecutorOptions {
  kind: ExecutorKind;
  /** Tasks at once (local), or the array's throttle (`%N`, slurm). */
  parallel?: number;
  partition?: string;
  /** Slurm's time limit per task, e.g. "4:00:00". */
  time?: string;
  cpus?: number;
  gpus?: number;
  /** Memory per task, e.g. "16G". */
  mem?: string;
  /** Extra `#SBATCH` lines (each without the prefix, e.g. "--qos=high"). */
  sbatch?: string[];
  /** A shell line run before each task, e.g. "module load nodejs/20". */
  setup?: string;
  /** The Node.js and the Lesion Lab CLI the tasks run (default: this process's own). */
  node?: string;
  cli?: string;
  /** Kubernetes: the container image and the volume claim that holds the sweep folder. */
  image?: string;
  claim?: string;
}

/** A train option's value in a sweep: what the command line would take. */
export type SweepValue = string | number | boolean;

export interface SweepTask {
  /** 0-based: the Slurm array index and the Kubernetes completion index. */
  index: number;
  /** Short and unique in the sweep, safe as a folder name: "003-lr-0.0003_fold-2". */
  name: string;
  /** The run folder, relative to the sweep folder. */
  run: string;
  /** The options this task sets beyond the sweep's base (what varies), and its seed and fold. */
  params: Record<string, SweepValue>;
  /** `lesion-lab train` arguments, without --prepared and --run (the sweep adds them). */
  args: string[];
}

export type SweepKind = 'sweep' | 'cv';

export interface SweepPlan {
  version: 1;
  kind: SweepKind;
  name: string;
  createdAt: string;
  /** Absolute. */
  prepared: string;
  folds?: { k: number; seed: number };
  /** The spec as given (for `cv`: the command's options), to tell a re-run of the same sweep from another. */
  spec: unknown;
  tasks: SweepTask[];
}

/** A task's state in words every scheduler maps onto. */
export type TaskState = 'waiting' | 'pending' | 'running' | 'finished' | 'failed' | 'cancelled';
export const TASK_STATES: readonly TaskState[] = ['waiting', 'pending', 'running', 'finished', 'failed', 'cancelled'];

export interface TaskStatus {
  index: number;
  name: string;
  /** Absolute run folder. */
  run: string;
  state: TaskState;
  /** The scheduler's own word (Slurm: PENDING, RUNNING, COMPLETED, PREEMPTED, TIMEOUT …), when it has one. */
  schedulerState?: string;
  /** The scheduler's id for this task (Slurm: 1234_3). */
  jobId?: string;
  /** Times it was submitted (resubmissions count). */
  attempts: number;
  params: Record<string, SweepValue>;
  /** Epochs written to the run's metrics.jsonl, and how many the run will train. */
  epochs: number;
  epochsTotal?: number;
  /** The latest epoch's validation figures. */
  valBalancedAccuracy?: number;
  /** Its 95% bootstrap interval, when the run's metrics have one. */
  valBalancedAccuracyCi?: Interval;
  valAccuracy?: number;
  valLoss?: number;
  /** The best checkpoint's validation balanced accuracy (what the summary ranks by). */
  bestValBalancedAccuracy?: number;
  message?: string;
}

export interface SweepStatus {
  folder: string;
  kind: SweepKind;
  name: string;
  executor: string;
  tasks: TaskStatus[];
  /** When the scheduler could not be asked (squeue missing, slurmctld down): why, in words. */
  schedulerProblem?: string;
  checkedAt: string;
}

/** One finished run in the summary. */
export interface SweepRunResult {
  index: number;
  name: string;
  params: Record<string, SweepValue>;
  epochs: number;
  /** The best checkpoint's epoch and its validation figures (on its fold, for a cross-validation run). */
  bestEpoch: number;
  valBalancedAccuracy: number;
  valAccuracy: number;
  valImages: number;
}

/** A configuration's cross-validation: its folds' figures, their mean ± sd, and the out-of-fold pool. */
export interface CrossValidationResult {
  /** The options that make this configuration (the params without fold). */
  config: Record<string, SweepValue>;
  folds: number;
  /** Per fold, in fold order; a fold not finished yet is absent. */
  perFold: { fold: number; balancedAccuracy: number; accuracy: number; images: number }[];
  balancedAccuracy: { mean: number; sd: number };
  accuracy: { mean: number; sd: number };
  /** Every fold's validation images pooled, each predicted by the model that did not train on it. */
  outOfFold?: { images: number; balancedAccuracy: number; accuracy: number; balancedAccuracyCi: Interval; accuracyCi: Interval; perClassRecall: Record<string, number>; perClassRecallCi?: Record<string, Interval> };
}

export interface SweepSummary {
  kind: SweepKind;
  name: string;
  classes: string[];
  finished: number;
  total: number;
  runs: SweepRunResult[];
  crossValidation: CrossValidationResult[];
  writtenAt: string;
}

// ───────────────────────── validators (what arrives from the backend process) ─────────────────────────

const sweepValue: Check = (v, p) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? undefined : `${p} should be a string, number or boolean`);
const sweepKind = literal('sweep', 'cv');
const interval = obj({ low: num, high: num });
const meanSd = obj({ mean: num, sd: num });

export const sweepStatus: Check = obj({
  folder: str,
  kind: sweepKind,
  name: str,
  executor: str,
  schedulerProblem: optional(str),
  checkedAt: str,
  tasks: arrayOf(
    obj({
      index: num,
      name: str,
      run: str,
      state: literal(...TASK_STATES),
      schedulerState: optional(str),
      jobId: optional(str),
      attempts: num,
      params: recordOf(sweepValue),
      epochs: num,
      epochsTotal: optional(num),
      valBalancedAccuracy: optional(num),
      valBalancedAccuracyCi: optional(interval),
      valAccuracy: optional(num),
      valLoss: optional(num),
      bestValBalancedAccuracy: optional(num),
      message: optional(str),
    }),
  ),
});

export const sweepSummary: Check = obj({
  kind: sweepKind,
  name: str,
  classes: arrayOf(str),
  finished: num,
  total: num,
  writtenAt: str,
  runs: arrayOf(obj({ index: num, name: str, params: recordOf(sweepValue), epochs: num, bestEpoch: num, valBalancedAccuracy: num, valAccuracy: num, valImages: num })),
  crossValidation: arrayOf(
    obj({
      config: recordOf(sweepValue),
      folds: num,
      perFold: arrayOf(obj({ fold: num, balancedAccuracy: num, accuracy: num, images: num })),
      balancedAccuracy: meanSd,
      accuracy: meanSd,
      outOfFold: optional(obj({ images: num, balancedAccuracy: num, accuracy: num, balancedAccuracyCi: interval, accuracyCi: interval, perClassRecall: recordOf(num) })),
    }),
  ),
});
