/**
 * What the backend can do: one request per command, with its options (host → backend, and the CLI's parsed
 * arguments), and the checks each command's options must pass where they arrive from another process. The
 * ranges are the CLI's (commands.ts); a unit test holds the two to each other.
 */
import type { Check, FieldChecks, Validated } from '../validate';
import { arrayOf, arrayOfAtLeast, bool, exact, int, literal, nonEmpty, numberIn, optional, str } from '../validate';
import type { AugmentRanges, FillMode } from './augmentation';
import { fillMode } from './augmentation';
import type { EngineChoice } from './engines';
import { ENGINE_NAMES } from './engines';
import type { CrossValidateOptions, SweepOptions } from './sweeps';
import { crossValidateChecks, sweepCancelChecks, sweepOptionChecks, sweepStatusChecks, sweepTaskChecks, trainValuesCheck } from './sweeps';

export type SplitMode = 'lesion' | 'image';
export type LinkMode = 'hard' | 'symlink' | 'copy';
export type ModelName = 'resnet50' | 'resnet101' | 'resnet152' | 'mobilenetv2';
export const MODEL_NAMES: readonly ModelName[] = ['resnet50', 'resnet101', 'resnet152', 'mobilenetv2'];
export type TrainPhase = 'head' | 'finetune' | 'both';
export type OptimizerName = 'rmsprop' | 'adam' | 'sgd';
export type AugmentMode = 'none' | 'disk' | 'online';
/** `mixed`: float16 convolution arithmetic with float32 variables (webgpu on adapters with shader-f16). */
export type Precision = 'float32' | 'mixed';
export const PRECISIONS: readonly Precision[] = ['float32', 'mixed'];
/**
 * The validation figure that picks the best checkpoint (Keras' ModelCheckpoint monitor): balanced accuracy,
 * the ISIC 2018 metric, by default; `val_acc` as the reference workflow; `val_loss`, lowest wins.
 */
export type Monitor = 'val_bal_acc' | 'val_acc' | 'val_loss';
export const MONITORS: readonly Monitor[] = ['val_bal_acc', 'val_acc', 'val_loss'];
/** Which split of a prepared folder `evaluate` reads. */
export type EvaluationSplit = 'val' | 'test';

export interface DemoDataOptions {
  out: string;
  /** N images in every class. */
  perClass?: number;
  /** HAM10000's class proportions at N images in all. */
  total?: number;
  /** Width in pixels; height is 3/4 of it, as HAM10000's 600×450. */
  size: number;
  seed: number;
}

/** A table of the user's: which columns hold the image (file name, id or path), the label and, optionally, the group. */
export interface TableSpec {
  /** The table file; by default the one table in the dataset folder that has these columns. */
  file?: string;
  image: string;
  label: string;
  group?: string;
}

export interface PrepareOptions {
  data: string;
  out: string;
  split: SplitMode;
  valFraction: number;
  seed: number;
  link: LinkMode;
  /** Read the dataset as this table says (any layout Lesion Lab does not recognise by itself). */
  table?: TableSpec;
  /** Near-duplicate clusters (perceptual hash): kept on one side of the split (default), or only reported. */
  nearDuplicates?: NearDuplicateMode;
  /** Hamming threshold in bits of the 64-bit hash; default DEFAULT_NEAR_DUPLICATE_DISTANCE. */
  nearDuplicateDistance?: number;
}

export type NearDuplicateMode = 'group' | 'ignore';
/** Resized or re-encoded copies of one photo stay within 4 bits (README › Near-duplicates has the figures). */
export const DEFAULT_NEAR_DUPLICATE_DISTANCE = 4;

/** The datasets `download` fetches. */
export type DownloadDataset = 'isic2018' | 'isic2019';
export const DOWNLOAD_DATASETS: readonly DownloadDataset[] = ['isic2018', 'isic2019'];

export interface DownloadOptions {
  out: string;
  /** Default isic2018 (HAM10000 under its ISIC names). */
  dataset?: DownloadDataset;
  /** Also the ISIC 2018 Task 3 test set (1,512 images, public ground truth). */
  includeTest: boolean;
  /** Where the files are served; the official bucket unless a mirror or a test server is given. */
  baseUrl?: string;
  /** The user has seen and accepted the licence (CC BY-NC 4.0 for both). */
  acceptLicense: boolean;
}

export interface AugmentOptions {
  prepared: string;
  target: number;
  /** Classes to leave as they are; by default nv where the dataset has it (the reference workflow's). */
  skip?: string[];
  size: number;
  seed: number;
  /** Images in flight at once. */
  concurrency?: number;
}

export interface TrainOptions {
  /** The prepared folder; required for a new run, taken from the run's config.json on `resume`. */
  prepared?: string;
  run: string;
  model: ModelName;
  /** MobileNetV2 width multiplier (0.35–1.4). */
  alpha?: number;
  weights: string; // 'imagenet' | 'none' | a file path
  phase: TrainPhase;
  epochs: number;
  finetuneEpochs?: number;
  batch: number;
  size: number;
  lr?: number;
  finetuneLr?: number;
  optimizer?: OptimizerName;
  unfreezeFrom?: string;
  /**
   * Keras EarlyStopping's start_from_epoch: the epochs of each phase the early-stopping callbacks ignore
   * (validation loss from random weights rises before batch-norm statistics settle). Default 0; 10 from scratch.
   */
  earlyStoppingStart?: number;
  /** Epochs of each phase over which the learning rate warms up linearly (default 0; 2 from scratch). */
  warmupEpochs?: number;
  augment: AugmentMode;
  engine: EngineChoice;
  /** Default float32. */
  precision?: Precision;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
  resume: boolean;
  classWeights: boolean;
  seed: number;
  /** Cross-validation: train on every fold of the manifest's `folds`-fold scheme but `fold` (1-based), validate on that one. */
  folds?: number;
  fold?: number;
  /** Which recorded scheme of `folds` folds (default: the only one). */
  foldSeed?: number;
  /** What chooses the best checkpoint; default val_bal_acc (runs from before it was an option used val_acc). */
  monitor?: Monitor;
  /**
   * The options the user actually gave (TrainOptions keys); the others hold defaults. With `resume` every
   * option comes from the run's config.json, and one listed here that differs from it is refused (engine
   * and precision may change). Absent: none given.
   */
  explicit?: (keyof TrainOptions)[];
}

/**
 * The learning-rate range test: from a new model (as `train` would build it from these options) or from a
 * run's last checkpoint, for the head or the fine-tuning phase. Nothing is written: the weights stay as they were.
 */
export interface LrFindOptions {
  /** The prepared folder; with `run`, the run's own by default. */
  prepared?: string;
  /** Start from this run's last checkpoint, with its model and options. */
  run?: string;
  model: ModelName;
  alpha?: number;
  weights: string;
  phase: 'head' | 'finetune';
  batch: number;
  size: number;
  optimizer?: OptimizerName;
  unfreezeFrom?: string;
  classWeights: boolean;
  /** The range, geometric, over `steps` batches (default 1e-7 to 10 over 100, as fastai). */
  startLr: number;
  endLr: number;
  steps: number;
  engine: EngineChoice;
  threads?: number;
  seed: number;
}

export interface EvaluateOptions {
  /** The run to evaluate; absent with `ensemble`. */
  run?: string;
  /** Another prepared folder; a run's report on it is evaluation-<folder name>.json. */
  data?: string;
  /** A run's split to read: default val for the run's own folder; test, else val, for --data. */
  split?: EvaluationSplit;
  /** Instead of `run`: run folders, or sweep/cross-validation folders (their finished runs), whose probabilities are averaged. */
  ensemble?: string[];
  /** Ensemble: average each image's 8 flipped and rotated copies too. */
  tta?: boolean;
  /** Ensemble: where ensemble-evaluation.json goes (default: the sweep folder given). */
  out?: string;
  /** Default auto. */
  engine?: EngineChoice;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
}

/** Exactly one of `run` (its best checkpoint) and `model` (an export folder or an .onnx file). */
export interface PredictOptions {
  run?: string;
  model?: string;
  images: string[];
  tta: boolean;
  gradcam?: string;
  /** Scale the probabilities by the temperature fitted on validation (evaluate writes it to evaluation.json). */
  calibrated?: boolean;
  /** Default auto. */
  engine?: EngineChoice;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
}

export type ExportFormat = 'onnx' | 'tfjs' | 'keras';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs', 'keras'];
export type ExportCheckpoint = 'best' | 'last';
export const EXPORT_CHECKPOINTS: readonly ExportCheckpoint[] = ['best', 'last'];

export interface ExportOptions {
  /** The run to export; or `ensemble`. */
  run?: string;
  /** Run folders (a sweep or cross-validation folder: its finished runs) exported as one ONNX model averaging them. */
  ensemble?: string[];
  format: ExportFormat;
  /** Default best. */
  checkpoint?: ExportCheckpoint;
  /** Default `<run>/exports/<format>` (an ensemble: `<sweep>/exports/onnx-ensemble`); replaced whole if it holds an earlier export. */
  out?: string;
  /** Default auto. */
  engine?: EngineChoice;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
}

/** A backbone's official ImageNet weights (Keras' no-top file): cached? downloadable? (and with `download`, fetch them). */
export interface WeightsOptions {
  model: ModelName;
  alpha?: number;
  /** The run's input size (MobileNetV2's files are published per size). */
  size: number;
  /** Download (with progress, verified) when not cached; otherwise only check. */
  download: boolean;
  /** A mirror of storage.googleapis.com/tensorflow/keras-applications/. */
  baseUrl?: string;
}

/** Installs a native engine package with npm into `dir` (the folder the backend looks in: LESION_LAB_ENGINES_DIR). */
export interface InstallEngineOptions {
  package: 'tfjs-node-gpu' | 'tfjs-node';
  dir: string;
  /** npm registry URL (default: npm's configured registry). */
  registry?: string;
  /** What npm installs instead of `@tensorflow/<package>@4.22.0`: a version, a .tgz file or a URL. */
  spec?: string;
}

export type JobRequest =
  | { command: 'engines' }
  | { command: 'install-engine'; options: InstallEngineOptions }
  | { command: 'demo-data'; options: DemoDataOptions }
  | { command: 'prepare'; options: PrepareOptions }
  /** Which layout a dataset folder holds, and the tables in it (for the extension to ask about their columns). */
  | { command: 'inspect-dataset'; options: { data: string } }
  | { command: 'download'; options: DownloadOptions }
  | { command: 'augment'; options: AugmentOptions }
  | { command: 'train'; options: TrainOptions }
  | { command: 'lr-find'; options: LrFindOptions }
  /** K-fold cross-validation: records the folds in the prepared manifest and trains one run per fold (a sweep over folds). */
  | { command: 'cv'; options: CrossValidateOptions }
  | { command: 'sweep'; options: SweepOptions }
  /** One task of a sweep, as every executor runs it: starts, resumes or skips its run. */
  | { command: 'sweep-task'; options: { sweep: string; index: number } }
  | { command: 'sweep-status'; options: { sweep: string; resubmit: boolean } }
  | { command: 'sweep-cancel'; options: { sweep: string; tasks?: number[] } }
  | { command: 'evaluate'; options: EvaluateOptions }
  | { command: 'predict'; options: PredictOptions }
  | { command: 'export'; options: ExportOptions }
  | { command: 'weights'; options: WeightsOptions }
  /** Small JPEG thumbnails as data URIs, for the Samples and Evaluation panels. */
  | { command: 'thumbnails'; options: { files: string[]; size: number } }
  /** An image and augmented variants of it, each with its sampled parameters. */
  | { command: 'augment-preview'; options: { image: string; count: number; seed: number; size: number; ranges: AugmentRanges; fill: FillMode } }
  /** Diagnostics used by the tests: a long cancellable wait, and a deliberate crash. */
  | { command: 'debug-wait'; options: { seconds: number } }
  | { command: 'debug-crash'; options: { message: string } };

export type JobCommand = JobRequest['command'];

// ───────────────────────── validators ─────────────────────────

const seed = int();
const imageSize = int(32, 1024);
const threads = optional(int(1, 256));
const engineChoice = literal('auto', ...ENGINE_NAMES);

/** The transform ranges Preview Augmentations accepts (its panel's inputs have the same bounds). */
export const augmentRangesInLimits: Check = exact({ rotationDeg: numberIn(0, 180), widthShift: numberIn(0, 1), heightShift: numberIn(0, 1), zoom: numberIn(0, 0.9), horizontalFlip: bool, verticalFlip: bool });

export const demoDataOptionChecks: FieldChecks<DemoDataOptions> = { out: nonEmpty, perClass: optional(int(1)), total: optional(int(21)), size: int(32, 2048), seed };
export const prepareOptionChecks: FieldChecks<PrepareOptions> = {
  data: nonEmpty,
  out: nonEmpty,
  split: literal('lesion', 'image'),
  valFraction: numberIn(0.01, 0.9),
  seed,
  link: literal('hard', 'symlink', 'copy'),
  table: optional(exact({ file: optional(nonEmpty), image: nonEmpty, label: nonEmpty, group: optional(nonEmpty) } satisfies FieldChecks<TableSpec>)),
  nearDuplicates: optional(literal('group', 'ignore')),
  nearDuplicateDistance: optional(int(0, 32)),
};
export const downloadOptionChecks: FieldChecks<DownloadOptions> = { out: nonEmpty, dataset: optional(literal(...DOWNLOAD_DATASETS)), includeTest: bool, baseUrl: optional(nonEmpty), acceptLicense: bool };
export const augmentOptionChecks: FieldChecks<AugmentOptions> = { prepared: nonEmpty, target: int(1), skip: optional(arrayOf(str)), size: imageSize, seed, concurrency: optional(int(1, 64)) };
export const trainOptionChecks: FieldChecks<TrainOptions> = {
  prepared: optional(nonEmpty),
  run: nonEmpty,
  model: literal(...MODEL_NAMES),
  alpha: optional(numberIn(0.35, 1.4)),
  weights: nonEmpty,
  phase: literal('head', 'finetune', 'both'),
  epochs: int(1),
  finetuneEpochs: optional(int(1)),
  batch: int(1),
  size: imageSize,
  lr: optional(numberIn(0)),
  finetuneLr: optional(numberIn(0)),
  optimizer: optional(literal('rmsprop', 'adam', 'sgd')),
  unfreezeFrom: optional(nonEmpty),
  earlyStoppingStart: optional(int(0)),
  warmupEpochs: optional(int(0)),
  augment: literal('none', 'disk', 'online'),
  engine: engineChoice,
  precision: optional(literal(...PRECISIONS)),
  threads,
  resume: bool,
  classWeights: bool,
  seed,
  folds: optional(int(2, 100)),
  fold: optional(int(1, 100)),
  foldSeed: optional(int()),
  monitor: optional(literal(...MONITORS)),
  explicit: optional(arrayOf(nonEmpty)),
};
export const lrFindOptionChecks: FieldChecks<LrFindOptions> = {
  prepared: optional(nonEmpty),
  run: optional(nonEmpty),
  model: literal(...MODEL_NAMES),
  alpha: optional(numberIn(0.35, 1.4)),
  weights: nonEmpty,
  phase: literal('head', 'finetune'),
  batch: int(1),
  size: imageSize,
  optimizer: optional(literal('rmsprop', 'adam', 'sgd')),
  unfreezeFrom: optional(nonEmpty),
  classWeights: bool,
  startLr: numberIn(1e-12, 100),
  endLr: numberIn(1e-12, 1000),
  steps: int(5, 10000),
  engine: engineChoice,
  threads,
  seed,
};
/** Exactly one of run and ensemble: checked by the CLI and by evaluate itself. */
export const evaluateOptionChecks: FieldChecks<EvaluateOptions> = {
  run: optional(nonEmpty),
  data: optional(nonEmpty),
  split: optional(literal('val', 'test')),
  ensemble: optional(arrayOfAtLeast(1, nonEmpty)),
  tta: optional(bool),
  out: optional(nonEmpty),
  engine: optional(engineChoice),
  threads,
};
/** Exactly one of run and model: checked by the command itself (predict.ts), which says which to give. */
export const predictOptionChecks: FieldChecks<PredictOptions> = { run: optional(nonEmpty), model: optional(nonEmpty), images: arrayOfAtLeast(1, nonEmpty), tta: bool, gradcam: optional(nonEmpty), calibrated: optional(bool), engine: optional(engineChoice), threads };
/** Exactly one of run and ensemble: checked by the CLI and by export itself. */
export const exportOptionChecks: FieldChecks<ExportOptions> = { run: optional(nonEmpty), ensemble: optional(arrayOfAtLeast(1, nonEmpty)), format: literal(...EXPORT_FORMATS), checkpoint: optional(literal(...EXPORT_CHECKPOINTS)), out: optional(nonEmpty), engine: optional(engineChoice), threads };
export const weightsOptionChecks: FieldChecks<WeightsOptions> = { model: literal(...MODEL_NAMES), alpha: optional(numberIn(0.35, 1.4)), size: imageSize, download: bool, baseUrl: optional(nonEmpty) };
export const installEngineOptionChecks: FieldChecks<InstallEngineOptions> = { package: literal('tfjs-node-gpu', 'tfjs-node'), dir: nonEmpty, registry: optional(nonEmpty), spec: optional(nonEmpty) };

/** Train options a cross-validation decides itself (every fold run's folder, dataset and fold). */
export const CV_MANAGED_TRAIN_OPTIONS: readonly (keyof TrainOptions)[] = ['prepared', 'run', 'resume', 'folds', 'fold', 'foldSeed', 'explicit'];

type OptionsOf<C extends JobCommand> = Extract<JobRequest, { command: C }> extends { options: infer O } ? O : undefined;

/** `undefined`: the command takes no options. */
const jobOptionChecks: { [C in JobCommand]: OptionsOf<C> extends undefined ? undefined : FieldChecks<OptionsOf<C>> } = {
  engines: undefined,
  'install-engine': installEngineOptionChecks,
  'demo-data': demoDataOptionChecks,
  prepare: prepareOptionChecks,
  'inspect-dataset': { data: nonEmpty },
  download: downloadOptionChecks,
  augment: augmentOptionChecks,
  train: trainOptionChecks,
  'lr-find': lrFindOptionChecks,
  cv: crossValidateChecks(trainValuesCheck(trainOptionChecks, CV_MANAGED_TRAIN_OPTIONS)),
  sweep: sweepOptionChecks,
  'sweep-task': sweepTaskChecks,
  'sweep-status': sweepStatusChecks,
  'sweep-cancel': sweepCancelChecks,
  evaluate: evaluateOptionChecks,
  predict: predictOptionChecks,
  export: exportOptionChecks,
  weights: weightsOptionChecks,
  thumbnails: { files: arrayOf(nonEmpty), size: int(16, 512) },
  'augment-preview': {
    image: nonEmpty,
    count: int(1, 64),
    seed,
    size: imageSize,
    ranges: augmentRangesInLimits,
    fill: fillMode,
  },
  'debug-wait': { seconds: numberIn(0) },
  'debug-crash': { message: str },
};

const JOB_COMMANDS = Object.keys(jobOptionChecks) as JobCommand[];

/** A job request as it arrives over IPC: a known command, and exactly that command's options, each in range. */
export const jobRequest: Check = (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} should be an object`;
  const { command, options, ...rest } = v as { command?: unknown; options?: unknown };
  if (typeof command !== 'string' || !(JOB_COMMANDS as string[]).includes(command)) return `${p}.command should be one of ${JOB_COMMANDS.join(', ')}, got ${JSON.stringify(command)}`;
  if (Object.keys(rest).length) return `${p} has unexpected field${Object.keys(rest).length > 1 ? 's' : ''} ${Object.keys(rest).map((k) => `"${k}"`).join(', ')}`;
  const checks = jobOptionChecks[command as JobCommand] as Readonly<Record<string, Check>> | undefined;
  if (!checks) return options === undefined ? undefined : `${p}.options: ${command} takes no options`;
  return exact(checks)(options, `${p}.options`);
};

export function validateJobRequest(value: unknown): Validated<JobRequest> {
  const err = jobRequest(value, 'request');
  return err ? { ok: false, error: `job request is malformed: ${err}` } : { ok: true, value: value as JobRequest };
}
