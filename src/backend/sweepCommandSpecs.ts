/**
 * How `cv`, `sweep`, `sweep-task`, `sweep-status` and `sweep-cancel` are spelled on the command line: the executor's
 * options (`--executor local|slurm|kubernetes` and Slurm's resources) and how a submitted sweep is followed.
 */
import type { ExecutorKind, ExecutorOptions, SweepValue } from '../shared/sweep';
import { EXECUTOR_KINDS } from '../shared/sweep';
import type { FollowOptions } from '../shared/protocol/sweeps';
import { CV_MANAGED_TRAIN_OPTIONS } from '../shared/protocol/jobs';
import type { OptionSpec, OptionValue, ParsedArgs } from './args';
import { b, n, optN, optS, optionKey, s } from './optionSpecs';
import { TRAIN_OPTIONS } from './trainCommand';
import { DEFAULT_FOLD_SEED } from './sweep/sweepSpec';

export const EXECUTOR_OPTIONS: OptionSpec[] = [
  { name: 'executor', kind: 'string', choices: EXECUTOR_KINDS, default: 'local', help: 'local: N runs at a time on this machine; slurm: a job array (`sbatch --array`); kubernetes: an Indexed Job manifest (with --dry-run)' },
  { name: 'parallel', kind: 'int', min: 1, max: 10000, metavar: 'N', help: 'runs at a time (local: default 1, or one per GPU with LESION_LAB_LOCAL_GPUS; slurm: the array throttle %N)' },
  { name: 'partition', kind: 'string', metavar: 'NAME', help: 'slurm: the partition (default: the cluster’s)' },
  { name: 'time', kind: 'string', metavar: 'D-HH:MM:SS', help: 'slurm: time limit per run' },
  { name: 'cpus', kind: 'int', min: 1, max: 1024, metavar: 'N', help: 'slurm/kubernetes: CPUs per run' },
  { name: 'gpus', kind: 'int', min: 0, max: 64, metavar: 'N', help: 'slurm/kubernetes: GPUs per run' },
  { name: 'mem', kind: 'string', metavar: 'SIZE', help: 'slurm/kubernetes: memory per run, e.g. 16G' },
  { name: 'sbatch', kind: 'string', metavar: 'LINES', help: 'slurm: extra #SBATCH options, separated by ";", with or without their dashes (e.g. "qos=high;account=derm")' },
  { name: 'setup', kind: 'string', metavar: 'SHELL', help: 'a shell line each run does first, e.g. "module load nodejs/20"' },
  { name: 'node', kind: 'string', metavar: 'PATH', help: 'the Node.js each run uses (default: this one)' },
  { name: 'cli', kind: 'string', metavar: 'PATH', help: 'the Lesion Lab CLI each run uses (default: this one — the installed extension’s or a checkout’s)' },
  { name: 'image', kind: 'string', metavar: 'IMAGE', help: 'kubernetes: the container image (with Node.js and Lesion Lab)' },
  { name: 'claim', kind: 'string', metavar: 'NAME', help: 'kubernetes: the volume claim holding the sweep folder and the data' },
];

export const FOLLOW_OPTIONS: OptionSpec[] = [
  { name: 'watch', kind: 'boolean', help: 'slurm: follow the runs until they end, submitting failed or pre-empted ones again (they resume)' },
  { name: 'poll-seconds', kind: 'number', min: 0.1, max: 3600, default: 30, metavar: 'S', help: 'slurm with --watch: how often to ask squeue/sacct' },
  { name: 'max-retries', kind: 'int', min: 0, max: 100, default: 3, metavar: 'N', help: 'times a failed run is submitted again before the sweep gives up on it' },
  { name: 'dry-run', kind: 'boolean', help: 'write the plan (and the sbatch script or Kubernetes manifest) without running anything' },
];

export function executorFromArgs(v: Record<string, OptionValue>): ExecutorOptions {
  const sbatch = optS(v.sbatch)
    ?.split(';')
    .map((l) => l.trim())
    .filter(Boolean)
    // A value starting with "--" would read as another option on the command line, so the dashes are optional.
    .map((l) => (l.startsWith('-') ? l : `--${l}`));
  const o: ExecutorOptions = { kind: s(v.executor) as ExecutorKind };
  const set = <K extends keyof ExecutorOptions>(key: K, value: ExecutorOptions[K] | undefined): void => {
    if (value !== undefined) o[key] = value;
  };
  set('parallel', optN(v.parallel));
  set('partition', optS(v.partition));
  set('time', optS(v.time));
  set('cpus', optN(v.cpus));
  set('gpus', optN(v.gpus));
  set('mem', optS(v.mem));
  set('sbatch', sbatch?.length ? sbatch : undefined);
  set('setup', optS(v.setup));
  set('node', optS(v.node));
  set('cli', optS(v.cli));
  set('image', optS(v.image));
  set('claim', optS(v.claim));
  return o;
}

export function followFromArgs(v: Record<string, OptionValue>): FollowOptions {
  return { watch: b(v.watch), pollSeconds: n(v['poll-seconds']), maxRetries: n(v['max-retries']), dryRun: b(v['dry-run']) };
}

/** train's options a fold run may set (the cross-validation decides its folder, dataset and fold). */
export const CV_TRAIN_OPTIONS: OptionSpec[] = TRAIN_OPTIONS.filter((o) => !(CV_MANAGED_TRAIN_OPTIONS as string[]).includes(optionKey(o.name)));

export const CV_OPTIONS: OptionSpec[] = [
  { name: 'prepared', kind: 'string', required: true, metavar: 'DIR', help: 'a folder written by `prepare` (its folds are recorded in its manifest)' },
  { name: 'out', kind: 'string', required: true, metavar: 'DIR', help: 'the cross-validation folder: one run folder per fold, and the summary' },
  { name: 'folds', kind: 'int', required: true, min: 2, max: 100, metavar: 'K', help: 'number of folds' },
  { name: 'fold-seed', kind: 'int', default: DEFAULT_FOLD_SEED, metavar: 'S', help: 'seed of the fold assignment (the same seed gives the same folds)' },
  ...CV_TRAIN_OPTIONS,
  ...EXECUTOR_OPTIONS,
  ...FOLLOW_OPTIONS,
];

/** The train options given on the command line, by option key: what every fold run sets beyond train's defaults. */
export function cvTrainValues({ values, given }: ParsedArgs): Record<string, SweepValue> {
  const out: Record<string, SweepValue> = {};
  for (const o of CV_TRAIN_OPTIONS) if (given.includes(o.name) && values[o.name] !== undefined) out[optionKey(o.name)] = values[o.name] as SweepValue;
  return out;
}
