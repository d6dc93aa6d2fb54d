/** What the backend can do: one request per command, with its options (host → backend, and the CLI's parsed arguments). */
import type { AugmentRanges, FillMode } from './augmentation';
import type { EngineChoice } from './engines';

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

export interface PrepareOptions {
  data: string;
  out: string;
  split: SplitMode;
  valFraction: number;
  seed: number;
  link: LinkMode;
}

export interface DownloadOptions {
  out: string;
  /** Also the ISIC 2018 Task 3 test set (1,512 images, public ground truth). */
  includeTest: boolean;
  /** Where the files are served; the official bucket unless a mirror or a test server is given. */
  baseUrl?: string;
  /** The user has seen and accepted CC BY-NC 4.0. */
  acceptLicense: boolean;
}

export interface AugmentOptions {
  prepared: string;
  target: number;
  skip: string[];
  size: number;
  seed: number;
  /** Images in flight at once. */
  concurrency?: number;
}

export interface TrainOptions {
  prepared: string;
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
  augment: AugmentMode;
  engine: EngineChoice;
  /** Default float32. */
  precision?: Precision;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
  resume: boolean;
  classWeights: boolean;
  seed: number;
}

export interface EvaluateOptions {
  run: string;
  data?: string;
  /** Default auto. */
  engine?: EngineChoice;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
}

export interface PredictOptions {
  run: string;
  images: string[];
  tta: boolean;
  gradcam?: string;
  /** Default auto. */
  engine?: EngineChoice;
  /** CPU threads for the wasm engine (default: every physical core). */
  threads?: number;
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
  | { command: 'download'; options: DownloadOptions }
  | { command: 'augment'; options: AugmentOptions }
  | { command: 'train'; options: TrainOptions }
  | { command: 'evaluate'; options: EvaluateOptions }
  | { command: 'predict'; options: PredictOptions }
  /** Small JPEG thumbnails as data URIs, for the Samples and Evaluation panels. */
  | { command: 'thumbnails'; options: { files: string[]; size: number } }
  /** An image and augmented variants of it, each with its sampled parameters. */
  | { command: 'augment-preview'; options: { image: string; count: number; seed: number; size: number; ranges: AugmentRanges; fill: FillMode } }
  /** Diagnostics used by the tests: a long cancellable wait, and a deliberate crash. */
  | { command: 'debug-wait'; options: { seconds: number } }
  | { command: 'debug-crash'; options: { message: string } };

export type JobCommand = JobRequest['command'];
