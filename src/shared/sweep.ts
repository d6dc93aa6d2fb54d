/**
 * A sweep (or a cross-validation, which is a sweep over folds) as the backend writes it into its folder and the
 * extension reads it: the expanded plan (`sweep.json`, written before any task runs), each task's state as the
 * scheduler reports it, and the summary (`summary.json`) once runs have finished.
 */
/** A confidence interval (the bootstrap's 95%). */
export interface Interval {
  low: number;
  high: number;
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
  outOfFold?: { images: number; balancedAccuracy: number; accuracy: number; balancedAccuracyCi: Interval; accuracyCi: Interval; perClassRecall: Record<string, number> };
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
