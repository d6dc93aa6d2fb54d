/**
 * The one protocol spoken between the extension host, the backend process and the webviews.
 * Four unions, one per direction:
 *   HostToBackend   host → backend (IPC)
 *   BackendEvent    backend → host (IPC, wrapped in a BackendMessage) and what `--json` prints, one per line
 *   WebviewToHost   webview → host (postMessage)
 *   HostToWebview   host → webview (postMessage; full state snapshots)
 * Commands are imperative (`job/start`), notifications past tense (`train/didEpoch`).
 * Everything that arrives from another process or a webview goes through a validator below first.
 */
import type { Check, Validated } from './validate';
import { arrayOf, bool, literal, nullable, num, obj, optional, recordOf, str, unknownValue, validateTagged } from './validate';

// ───────────────────────── engines ─────────────────────────

export const ENGINE_NAMES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
export type EngineChoice = 'auto' | EngineName;

export interface EngineInfo {
  name: EngineName;
  available: boolean;
  /** Why it is available (what was found) or why not (what is missing, and what to do). */
  reason: string;
  /** The device it would run on, e.g. a GPU adapter name or "CPU (2 cores)". */
  device?: string;
  /** Runs on a GPU when available. */
  gpu: boolean;
}

export interface EngineSelection {
  engine: EngineName;
  reason: string;
  device?: string;
}

// ───────────────────────── job requests (what the backend can do) ─────────────────────────

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
export type FillMode = 'nearest' | 'reflect' | 'wrap' | 'constant';

/** What Keras' ImageDataGenerator draws from (the reference: 180°, 0.1, 0.1, 0.1, both flips). */
export interface AugmentRanges {
  /** θ ~ U(−rotationDeg, rotationDeg), degrees. */
  rotationDeg: number;
  /** tx ~ U(−widthShift, widthShift), as a fraction of the width. */
  widthShift: number;
  /** ty ~ U(−heightShift, heightShift), as a fraction of the height. */
  heightShift: number;
  /** zx, zy ~ U(1 − zoom, 1 + zoom) independently (Keras' `zoom_range` as a float). */
  zoom: number;
  horizontalFlip: boolean;
  verticalFlip: boolean;
}

/** One draw of the transform. Shifts are fractions of the image size, so a draw applies at any size. */
export interface AugmentParams {
  angleDeg: number;
  /** Horizontal shift as a fraction of the width (positive: content moves left). */
  tx: number;
  /** Vertical shift as a fraction of the height (positive: content moves up). */
  ty: number;
  /** Horizontal zoom factor (> 1 zooms out). */
  zx: number;
  /** Vertical zoom factor (> 1 zooms out). */
  zy: number;
  flipH: boolean;
  flipV: boolean;
}

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
  resume: boolean;
  classWeights: boolean;
  seed: number;
}

export interface EvaluateOptions {
  run: string;
  data?: string;
  /** Default auto. */
  engine?: EngineChoice;
}

export interface PredictOptions {
  run: string;
  images: string[];
  tta: boolean;
  gradcam?: string;
  /** Default auto. */
  engine?: EngineChoice;
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

// ───────────────────────── results carried by events ─────────────────────────

export interface ClassCount {
  images: number;
  lesions: number;
}

export interface DatasetClassSummary {
  name: string;
  all: ClassCount;
  train: ClassCount;
  val: ClassCount;
  /** Present when the prepared set is an ISIC 2018 test set (all images in test/). */
  test?: ClassCount;
  /** Augmented images written for the train split (present once `augment` ran). */
  augmented?: number;
}

export interface ExcludedFile {
  file: string;
  reason: string;
}

export interface DatasetSummary {
  sourcePath: string;
  layout: string;
  split: SplitMode;
  valFraction: number;
  seed: number;
  link: LinkMode;
  /** Image-level split only: lesions with images on both sides (leakage). */
  straddlingLesions?: number;
  classes: DatasetClassSummary[];
  excludedCount: number;
  /** First excluded files (the full list is in manifest.json). */
  excluded: ExcludedFile[];
  preparedAt: string;
}

export interface EpochMetrics {
  phase: 'head' | 'finetune';
  /** 1-based over the whole run (head epochs, then fine-tune epochs). */
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  valBalancedAccuracy: number;
  lr: number;
  seconds: number;
  finishedAt: string;
}

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  split: string;
  classes: string[];
  /** confusion[true][predicted] */
  confusion: number[][];
  perClass: ClassMetrics[];
  accuracy: number;
  balancedAccuracy: number;
  count: number;
  topLosses: { image: string; trueClass: string; predicted: string; loss: number }[];
}

export interface Prediction {
  image: string;
  probabilities: Record<string, number>;
  predicted: string;
  gradcam?: string;
}

// ───────────────────────── backend → host ─────────────────────────

export type JobStatus = 'done' | 'failed' | 'cancelled';

export type BackendEvent =
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string }
  | {
      type: 'progress';
      /** What is progressing, e.g. "validate", "link", "epoch 3/10". */
      task: string;
      done: number;
      total: number;
      unit: string;
      /** Units per second. */
      rate?: number;
      etaSeconds?: number;
    }
  /** A failure a person can act on: `message` says what happened and what to do. */
  | { type: 'error'; message: string; detail?: string }
  | { type: 'engines/didDetect'; engines: EngineInfo[]; selected: EngineSelection }
  /** An engine package was installed and loads in a fresh process. */
  | { type: 'engine/didInstall'; package: string; version: string; dir: string }
  | { type: 'demoData/didFinish'; out: string; images: number; lesions: number; perClass: Record<string, number> }
  | { type: 'download/didFinish'; out: string; files: { name: string; bytes: number }[] }
  | { type: 'prepare/didFinish'; out: string; manifest: string; summary: DatasetSummary }
  | { type: 'augment/didFinish'; prepared: string; written: number; perClass: Record<string, { before: number; after: number }> }
  | { type: 'train/didStart'; run: string; engine: EngineSelection; model: ModelName; phases: ('head' | 'finetune')[] }
  | {
      type: 'train/didBatch';
      phase: 'head' | 'finetune';
      epoch: number;
      batch: number;
      batches: number;
      loss: number;
      accuracy: number;
      rate: number;
      etaSeconds?: number;
    }
  /** `tensors`: live TF.js tensors after the epoch (must stay flat from epoch to epoch). */
  | { type: 'train/didEpoch'; run: string; metrics: EpochMetrics; tensors?: number }
  | { type: 'train/didCheckpoint'; kind: 'best' | 'last'; epoch: number; path: string; valAccuracy: number }
  | { type: 'train/didStopEarly'; epoch: number; monitor: string; patience: number }
  | { type: 'train/didFinish'; run: string; epochs: number; bestValAccuracy: number; bestValBalancedAccuracy: number }
  | { type: 'evaluate/didFinish'; run: string; evaluation: Evaluation; path: string }
  | { type: 'predict/didFinish'; run: string; predictions: Prediction[] }
  | { type: 'thumbnails/didRender'; items: { file: string; dataUri: string }[] }
  | { type: 'augmentPreview/didRender'; image: string; original: string; variants: { dataUri: string; params: AugmentParams }[] }
  | { type: 'job/didEnd'; status: JobStatus; exitCode: number };

export type BackendEventType = BackendEvent['type'];

/** Host → backend, over IPC. */
export type HostToBackend =
  | { type: 'job/start'; jobId: string; request: JobRequest }
  | { type: 'job/cancel'; jobId: string }
  | { type: 'backend/shutdown' };

/** Backend → host, over IPC. */
export type BackendMessage =
  | { type: 'backend/ready'; pid: number; version: string }
  | { type: 'job/event'; jobId: string; event: BackendEvent };

// ───────────────────────── webviews ─────────────────────────

export type ViewKind = 'sidebar' | 'dataset' | 'samples' | 'training' | 'evaluation' | 'prediction' | 'augmentPreview';

export interface JobState {
  command: JobCommand;
  title: string;
  progress?: { task: string; done: number; total: number; unit: string; rate?: number; etaSeconds?: number };
}

export interface SidebarState {
  engines?: { list: EngineInfo[]; selected: EngineSelection };
  enginesError?: string;
  dataset?: { path: string; summary: DatasetSummary };
  job?: JobState;
  runs: { path: string; name: string; bestValBalancedAccuracy?: number; epochs: number; status: string }[];
  trusted: boolean;
}

export interface DatasetPanelState {
  preparedPath?: string;
  summary?: DatasetSummary;
}

export interface TrainingMarker {
  epoch: number;
  kind: 'best' | 'earlyStop';
  label: string;
}

export interface TrainingPanelState {
  run?: string;
  /** `interrupted`: the process died mid-run (crash, kill, reboot); --resume continues it. */
  status: 'empty' | 'running' | 'finished' | 'failed' | 'cancelled' | 'interrupted';
  epochs: EpochMetrics[];
  batch?: { phase: string; epoch: number; batch: number; batches: number; rate: number; etaSeconds?: number };
  /** Checkpoint-improved and early-stop events, drawn on the charts. */
  markers?: TrainingMarker[];
  /** Other runs overlaid for comparison. */
  compare?: { run: string; name: string; epochs: EpochMetrics[] }[];
  /** What the run trains, how and where, from its config.json: "mobilenetv2 α0.35 · 96 px · batch 16 · webgpu (…) · mixed precision". */
  setup?: string;
}

export interface EvaluationPanelState {
  run?: string;
  evaluation?: Evaluation;
  /** Thumbnails of the top-loss images, by file. */
  thumbnails?: Record<string, string>;
}

export type SampleSource = 'train' | 'aug' | 'val';

export interface SamplesPanelState {
  preparedPath?: string;
  /** Images per class in each source. */
  classes: { name: string; train: number; aug: number; val: number }[];
  dx: string;
  source: SampleSource;
  page: number;
  pageSize: number;
  seed: number;
  total: number;
  items: { file: string; name: string; dataUri: string }[];
  loading: boolean;
}

export interface AugmentPreviewState {
  image?: string;
  original?: string;
  variants: { dataUri: string; params: AugmentParams }[];
  ranges: AugmentRanges;
  fill: FillMode;
  seed: number;
  loading: boolean;
  error?: string;
}

export interface PredictionPanelState {
  image?: string;
  imageUri?: string;
  run?: string;
  tta: boolean;
  prediction?: Prediction;
  gradcamUri?: string;
  loading: boolean;
  error?: string;
}

export type HostToWebview =
  | { type: 'sidebar/state'; state: SidebarState }
  | { type: 'dataset/state'; state: DatasetPanelState }
  | { type: 'training/state'; state: TrainingPanelState }
  | { type: 'evaluation/state'; state: EvaluationPanelState }
  | { type: 'samples/state'; state: SamplesPanelState }
  | { type: 'augmentPreview/state'; state: AugmentPreviewState }
  | { type: 'prediction/state'; state: PredictionPanelState };

/** Commands a webview may ask the host to run; anything else is refused. */
export const WEBVIEW_COMMANDS = [
  'lesionLab.downloadDataset',
  'lesionLab.prepareDataset',
  'lesionLab.augment',
  'lesionLab.train',
  'lesionLab.fineTune',
  'lesionLab.stop',
  'lesionLab.resume',
  'lesionLab.evaluate',
  'lesionLab.showDataset',
  'lesionLab.showSamples',
  'lesionLab.showTraining',
  'lesionLab.showEvaluation',
  'lesionLab.selectEngine',
  'lesionLab.showEngines',
  'lesionLab.createDemoData',
  'lesionLab.openRun',
] as const;
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

export type WebviewToHost =
  /** The webview has loaded and wants a full state snapshot. */
  | { type: 'ready'; view: ViewKind }
  | { type: 'command/run'; command: WebviewCommand; args?: string[] }
  | { type: 'run/open'; path: string }
  | { type: 'samples/show'; dx: string; source: SampleSource; page: number; seed: number }
  | { type: 'augmentPreview/render'; ranges: AugmentRanges; fill: FillMode; seed: number }
  | { type: 'prediction/run'; tta: boolean }
  | { type: 'file/open'; path: string }
  | { type: 'training/compare' };

// ───────────────────────── validators ─────────────────────────

const engineName = literal(...ENGINE_NAMES);
const engineInfo = obj({ name: engineName, available: bool, reason: str, device: optional(str), gpu: bool });
const engineSelection = obj({ engine: engineName, reason: str, device: optional(str) });
const phase = literal('head', 'finetune');
const classCount = obj({ images: num, lesions: num });
const datasetSummary = obj({
  sourcePath: str,
  layout: str,
  split: literal('lesion', 'image'),
  valFraction: num,
  seed: num,
  classes: arrayOf(obj({ name: str, all: classCount, train: classCount, val: classCount, test: optional(classCount), augmented: optional(num) })),
  excludedCount: num,
  excluded: arrayOf(obj({ file: str, reason: str })),
});
const epochMetrics = obj({
  phase,
  epoch: num,
  loss: num,
  accuracy: num,
  valLoss: num,
  valAccuracy: num,
  valBalancedAccuracy: num,
  lr: num,
  seconds: num,
});
const evaluation = obj({
  split: str,
  classes: arrayOf(str),
  confusion: arrayOf(arrayOf(num)),
  perClass: arrayOf(obj({ name: str, precision: num, recall: num, f1: num, support: num })),
  accuracy: num,
  balancedAccuracy: num,
  count: num,
  topLosses: arrayOf(unknownValue),
});

const augmentParams = obj({ angleDeg: num, tx: num, ty: num, zx: num, zy: num, flipH: bool, flipV: bool });
const augmentRanges = obj({ rotationDeg: num, widthShift: num, heightShift: num, zoom: num, horizontalFlip: bool, verticalFlip: bool });
const fillMode = literal('nearest', 'reflect', 'wrap', 'constant');

const backendEventSchemas: Record<BackendEventType, Check> = {
  log: obj({ level: literal('debug', 'info', 'warn'), message: str }),
  progress: obj({ task: str, done: num, total: num, unit: str, rate: optional(num), etaSeconds: optional(num) }),
  error: obj({ message: str, detail: optional(str) }),
  'engines/didDetect': obj({ engines: arrayOf(engineInfo), selected: engineSelection }),
  'engine/didInstall': obj({ package: str, version: str, dir: str }),
  'demoData/didFinish': obj({ out: str, images: num, lesions: num, perClass: recordOf(num) }),
  'download/didFinish': obj({ out: str, files: arrayOf(obj({ name: str, bytes: num })) }),
  'prepare/didFinish': obj({ out: str, manifest: str, summary: datasetSummary }),
  'augment/didFinish': obj({ prepared: str, written: num, perClass: recordOf(obj({ before: num, after: num })) }),
  'train/didStart': obj({ run: str, engine: engineSelection, model: str, phases: arrayOf(phase) }),
  'train/didBatch': obj({
    phase,
    epoch: num,
    batch: num,
    batches: num,
    loss: num,
    accuracy: num,
    rate: num,
    etaSeconds: optional(num),
  }),
  'train/didEpoch': obj({ run: str, metrics: epochMetrics, tensors: optional(num) }),
  'train/didCheckpoint': obj({ kind: literal('best', 'last'), epoch: num, path: str, valAccuracy: num }),
  'train/didStopEarly': obj({ epoch: num, monitor: str, patience: num }),
  'train/didFinish': obj({ run: str, epochs: num, bestValAccuracy: num, bestValBalancedAccuracy: num }),
  'evaluate/didFinish': obj({ run: str, evaluation, path: str }),
  'predict/didFinish': obj({
    run: str,
    predictions: arrayOf(obj({ image: str, probabilities: recordOf(num), predicted: str, gradcam: optional(str) })),
  }),
  'thumbnails/didRender': obj({ items: arrayOf(obj({ file: str, dataUri: str })) }),
  'augmentPreview/didRender': obj({ image: str, original: str, variants: arrayOf(obj({ dataUri: str, params: augmentParams })) }),
  'job/didEnd': obj({ status: literal('done', 'failed', 'cancelled'), exitCode: num }),
};

export function validateBackendEvent(value: unknown): Validated<BackendEvent> {
  return validateTagged<BackendEvent>(backendEventSchemas, value, 'backend event');
}

const backendMessageSchemas: Record<BackendMessage['type'], Check> = {
  'backend/ready': obj({ pid: num, version: str }),
  'job/event': obj({ jobId: str, event: (v, p) => {
    const r = validateBackendEvent(v);
    return r.ok ? undefined : `${p}: ${r.error}`;
  } }),
};

export function validateBackendMessage(value: unknown): Validated<BackendMessage> {
  return validateTagged<BackendMessage>(backendMessageSchemas, value, 'backend message');
}

const jobRequest = obj({ command: str, options: optional(recordOf(unknownValue)) });
const hostToBackendSchemas: Record<HostToBackend['type'], Check> = {
  'job/start': obj({ jobId: str, request: jobRequest }),
  'job/cancel': obj({ jobId: str }),
  'backend/shutdown': obj({}),
};

export function validateHostToBackend(value: unknown): Validated<HostToBackend> {
  return validateTagged<HostToBackend>(hostToBackendSchemas, value, 'host message');
}

const viewKind = literal('sidebar', 'dataset', 'samples', 'training', 'evaluation', 'prediction', 'augmentPreview');
const webviewToHostSchemas: Record<WebviewToHost['type'], Check> = {
  ready: obj({ view: viewKind }),
  'command/run': obj({ command: literal(...WEBVIEW_COMMANDS), args: optional(arrayOf(str)) }),
  'run/open': obj({ path: str }),
  'samples/show': obj({ dx: str, source: literal('train', 'aug', 'val'), page: num, seed: num }),
  'augmentPreview/render': obj({ ranges: augmentRanges, fill: fillMode, seed: num }),
  'prediction/run': obj({ tta: bool }),
  'file/open': obj({ path: str }),
  'training/compare': obj({}),
};

export function validateWebviewToHost(value: unknown): Validated<WebviewToHost> {
  return validateTagged<WebviewToHost>(webviewToHostSchemas, value, 'webview message');
}

const hostToWebviewSchemas: Record<HostToWebview['type'], Check> = {
  'sidebar/state': obj({ state: obj({ runs: arrayOf(unknownValue), trusted: bool }) }),
  'dataset/state': obj({ state: obj({ preparedPath: optional(str), summary: optional(datasetSummary) }) }),
  'training/state': obj({
    state: obj({ status: str, epochs: arrayOf(epochMetrics), run: optional(str), batch: optional(nullable(unknownValue)), setup: optional(str) }),
  }),
  'evaluation/state': obj({ state: obj({ run: optional(str), evaluation: optional(evaluation), thumbnails: optional(recordOf(str)) }) }),
  'samples/state': obj({ state: obj({ classes: arrayOf(unknownValue), dx: str, source: str, page: num, pageSize: num, seed: num, total: num, items: arrayOf(obj({ file: str, name: str, dataUri: str })), loading: bool }) }),
  'augmentPreview/state': obj({ state: obj({ variants: arrayOf(obj({ dataUri: str, params: augmentParams })), ranges: augmentRanges, fill: fillMode, seed: num, loading: bool }) }),
  'prediction/state': obj({ state: obj({ tta: bool, loading: bool, image: optional(str), run: optional(str) }) }),
};

/** Webviews validate what they receive too: a stale or foreign message must not break a view. */
export function validateHostToWebview(value: unknown): Validated<HostToWebview> {
  return validateTagged<HostToWebview>(hostToWebviewSchemas, value, 'host message');
}

/** Exit codes of the CLI (and of a job over IPC). */
export const EXIT = { done: 0, failed: 1, usage: 2, cancelled: 130 } as const;
