/**
 * The requests of cross-validation and sweeps (`cv`, `sweep`, `sweep-task`, `sweep-status`, `sweep-cancel`) and
 * their checks where they arrive from another process.
 */
import type { Check, FieldChecks } from '../validate';
import { arrayOf, bool, exact, int, literal, nonEmpty, numberIn, optional, str } from '../validate';
import type { ExecutorOptions, SweepValue } from '../sweep';
import { EXECUTOR_KINDS } from '../sweep';

/** How a submitted sweep is followed, and whether anything is run at all. */
export interface FollowOptions {
  /** Slurm: keep following the tasks (resubmitting failed ones) until they end; local always does. */
  watch: boolean;
  pollSeconds: number;
  /** Times a failed or pre-empted task is submitted again (it resumes) before the sweep gives up on it. */
  maxRetries: number;
  /** Write what would be submitted (the plan, the sbatch script, the Kubernetes manifest) and stop. */
  dryRun: boolean;
}

export interface CrossValidateOptions extends FollowOptions {
  prepared: string;
  /** The sweep folder the fold runs go into. */
  out: string;
  folds: number;
  foldSeed: number;
  /** `train` options every fold run shares, by option key (`finetuneLr`), as the command line gives them. */
  train: Record<string, SweepValue>;
  executor: ExecutorOptions;
}

export interface SweepOptions extends FollowOptions {
  spec: string;
  /** Default: the spec's "out", else beside the spec, named after it. */
  out?: string;
  executor: ExecutorOptions;
}

export const executorOptionChecks: FieldChecks<ExecutorOptions> = {
  kind: literal(...EXECUTOR_KINDS),
  parallel: optional(int(1, 10000)),
  partition: optional(nonEmpty),
  time: optional(nonEmpty),
  cpus: optional(int(1, 1024)),
  gpus: optional(int(0, 64)),
  mem: optional(nonEmpty),
  sbatch: optional(arrayOf(nonEmpty)),
  setup: optional(str),
  node: optional(nonEmpty),
  cli: optional(nonEmpty),
  image: optional(nonEmpty),
  claim: optional(nonEmpty),
};

const followChecks: FieldChecks<FollowOptions> = { watch: bool, pollSeconds: numberIn(0.1, 3600), maxRetries: int(0, 100), dryRun: bool };

/** `train` checks by option key, each optional: what a fold run may set. */
export function trainValuesCheck(trainChecks: Readonly<Record<string, Check>>, managed: readonly string[]): Check {
  const fields = Object.fromEntries(Object.entries(trainChecks).filter(([k]) => !managed.includes(k)).map(([k, c]) => [k, optional(c)]));
  return exact(fields);
}

export const crossValidateChecks = (train: Check): FieldChecks<CrossValidateOptions> => ({
  ...followChecks,
  prepared: nonEmpty,
  out: nonEmpty,
  folds: int(2, 100),
  foldSeed: int(),
  train,
  executor: exact(executorOptionChecks),
});

export const sweepOptionChecks: FieldChecks<SweepOptions> = { ...followChecks, spec: nonEmpty, out: optional(nonEmpty), executor: exact(executorOptionChecks) };
export const sweepTaskChecks: FieldChecks<{ sweep: string; index: number }> = { sweep: nonEmpty, index: int(0) };
export const sweepStatusChecks: FieldChecks<{ sweep: string; resubmit: boolean }> = { sweep: nonEmpty, resubmit: bool };
export const sweepCancelChecks: FieldChecks<{ sweep: string; tasks?: number[] }> = { sweep: nonEmpty, tasks: optional(arrayOf(int(0))) };
