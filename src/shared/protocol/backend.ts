/**
 * The backend's side of the protocol: what it reports (`BackendEvent`, also what `--json` prints, one per
 * line) and the IPC envelopes between the extension host and the forked backend. Commands are
 * imperative (`job/start`), notifications past tense (`train/didEpoch`). Everything that arrives from
 * the other process goes through a validator below first.
 */
import type { Check, Validated } from '../validate';
import { arrayOf, bool, literal, nullable, num, obj, optional, recordOf, str, validateTagged } from '../validate';
import type { AugmentParams } from './augmentation';
import { augmentParams } from './augmentation';
import type { EngineInfo, EngineSelection } from './engines';
import { engineInfo, engineSelection } from './engines';
import type { ExportCheckpoint, ExportFormat, JobRequest, ModelName, Monitor } from './jobs';
import type { LrPoint, LrSuggestion } from '../lrFinder';
import type { SweepStatus, SweepSummary } from '../sweep';
import { sweepStatus, sweepSummary } from '../sweep';
import type { Interval } from '../trust';
import { MODEL_NAMES, MONITORS, jobRequest } from './jobs';
import type { BatchMetrics, DatasetSummary, EpochMetrics, Evaluation, ModelProvenance, PredictFailure, Prediction } from './results';
import { batchMetrics, datasetSummary, epochMetrics, evaluation, trainPhase } from './results';

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
  /** `layout`: what prepare would read (absent when it recognises nothing); `tables`: the tables it could read with columns named. */
  | { type: 'dataset/didInspect'; data: string; layout?: string; problem?: string; tables: InspectedTable[] }
  | { type: 'augment/didFinish'; prepared: string; written: number; perClass: Record<string, { before: number; after: number }> }
  | { type: 'train/didStart'; run: string; engine: EngineSelection; model: ModelName; phases: ('head' | 'finetune')[] }
  | {
      type: 'train/didBatch';
      phase: 'head' | 'finetune';
      epoch: number;
      batch: number;
      batches: number;
      /** Training batches run so far over the whole run (the curves' step axis). */
      step: number;
      /** Running means over the epoch so far (the progress line). */
      loss: number;
      accuracy: number;
      rate: number;
      etaSeconds?: number;
      /** Every batch since the previous event, each with its own loss (the per-batch curves). */
      points: BatchMetrics[];
    }
  /** `tensors`: live TF.js tensors after the epoch (must stay flat from epoch to epoch). */
  | { type: 'train/didEpoch'; run: string; metrics: EpochMetrics; tensors?: number }
  /** `monitor` and `value`: what made a `best` checkpoint best (absent in events.jsonl from before --monitor). */
  | { type: 'train/didCheckpoint'; kind: 'best' | 'last'; epoch: number; path: string; valAccuracy: number; monitor?: Monitor; value?: number }
  | { type: 'train/didStopEarly'; epoch: number; monitor: string; patience: number }
  | {
      type: 'train/didFinish';
      run: string;
      epochs: number;
      /** The best checkpoint's epoch and the figure that chose it. */
      bestEpoch?: number;
      monitor?: Monitor;
      bestValAccuracy: number;
      bestValBalancedAccuracy: number;
      bestValBalancedAccuracyCi?: Interval;
    }
  /** The learning-rate range test's curve and what it suggests; `stoppedBy`: why it ended. */
  | { type: 'lrFind/didFinish'; phase: 'head' | 'finetune'; optimizer: string; batch: number; points: LrPoint[]; suggestion: LrSuggestion; stoppedBy: 'end' | 'divergence' | 'nan' }
  | { type: 'evaluate/didFinish'; run: string; evaluation: Evaluation; path: string }
  /** Every task of a sweep or cross-validation: its state from the scheduler, its epochs and latest figures. */
  | { type: 'sweep/didStatus'; status: SweepStatus }
  /** Every run of the sweep finished; `path`: its summary.json. */
  | { type: 'sweep/didFinish'; folder: string; summary: SweepSummary; path: string }
  /** `run`: the run folder, or the export (folder or .onnx) given with --model. */
  /** `classes`: the model's classes in output order; `classLabels`: long names of those that have one. */
  /** One image could not be classified (unreadable, missing); the others go on. */
  | { type: 'predict/didFailImage'; image: string; error: string }
  /**
   * `failed`: the images that could not be classified, each with why (the job then ends with exit code 1).
   * `model`: where the model comes from and how far its figures go (shown beside every prediction; absent for an export).
   */
  | { type: 'predict/didFinish'; run: string; classes?: string[]; classLabels?: Record<string, string>; model?: ModelProvenance; predictions: Prediction[]; failed?: PredictFailure[] }
  /** The export is complete and was read back: `verification` compares its probabilities with the checkpoint's. */
  | { type: 'export/didFinish'; run: string; format: ExportFormat; checkpoint: ExportCheckpoint; epoch: number; out: string; files: string[]; verification: ExportVerification; members?: { run: string; epoch: number }[] }
  /** Where a backbone's ImageNet weights stand: cached here, or whether they can be downloaded now (a HEAD request's answer). */
  | { type: 'weights/didCheck'; status: WeightsStatus }
  | { type: 'thumbnails/didRender'; items: { file: string; dataUri: string }[] }
  | { type: 'augmentPreview/didRender'; image: string; original: string; variants: { dataUri: string; params: AugmentParams }[] }
  | { type: 'job/didEnd'; status: JobStatus; exitCode: number };

export type BackendEventType = BackendEvent['type'];

/** A backbone's ImageNet weights file, as `lesion-lab weights` found it. */
export interface WeightsStatus {
  model: ModelName;
  alpha?: number;
  size: number;
  /** Where it is (or would be) cached. */
  file: string;
  url: string;
  /** Present and verified in the cache: training needs no network. */
  cached: boolean;
  /** The file's size: the cached copy's, or what the server announced. */
  bytes?: number;
  /** Not cached: whether the server answered the HEAD request with the file (and if not, why). */
  download?: { reachable: boolean; reason?: string; seconds: number };
  /** How the cached file was checked (after a download: every array loaded into the backbone). */
  verified?: string;
}

/** How an export was checked before it was put in place. */
export interface ExportVerification {
  images: number;
  /** The run's validation images, or seeded noise when the prepared dataset is not there any more. */
  source: 'validation' | 'synthetic';
  /** Largest |p_export − p_checkpoint| over every image and class. */
  maxAbsDiff: number;
  tolerance: number;
}

/** A table in a dataset folder: its columns, its first rows, and a guess at which column holds what. */
export interface InspectedTable {
  file: string;
  columns: string[];
  rows: string[][];
  guess: { image?: string; label?: string; group?: string };
}

const inspectedTable = obj({ file: str, columns: arrayOf(str), rows: arrayOf(arrayOf(str)), guess: obj({ image: optional(str), label: optional(str), group: optional(str) }) });

/** Host → backend, over IPC. */
export type HostToBackend =
  | { type: 'job/start'; jobId: string; request: JobRequest }
  | { type: 'job/cancel'; jobId: string }
  | { type: 'backend/shutdown' };

/** Backend → host, over IPC. */
export type BackendMessage =
  | { type: 'backend/ready'; pid: number; version: string }
  | { type: 'job/event'; jobId: string; event: BackendEvent };

const backendEventSchemas: Record<BackendEventType, Check> = {
  log: obj({ level: literal('debug', 'info', 'warn'), message: str }),
  progress: obj({ task: str, done: num, total: num, unit: str, rate: optional(num), etaSeconds: optional(num) }),
  error: obj({ message: str, detail: optional(str) }),
  'engines/didDetect': obj({ engines: arrayOf(engineInfo), selected: engineSelection }),
  'engine/didInstall': obj({ package: str, version: str, dir: str }),
  'demoData/didFinish': obj({ out: str, images: num, lesions: num, perClass: recordOf(num) }),
  'download/didFinish': obj({ out: str, files: arrayOf(obj({ name: str, bytes: num })) }),
  'prepare/didFinish': obj({ out: str, manifest: str, summary: datasetSummary }),
  'dataset/didInspect': obj({ data: str, layout: optional(str), problem: optional(str), tables: arrayOf(inspectedTable) }),
  'augment/didFinish': obj({ prepared: str, written: num, perClass: recordOf(obj({ before: num, after: num })) }),
  'train/didStart': obj({ run: str, engine: engineSelection, model: str, phases: arrayOf(trainPhase) }),
  'train/didBatch': obj({
    phase: trainPhase,
    epoch: num,
    batch: num,
    batches: num,
    step: num,
    loss: nullable(num),
    accuracy: nullable(num),
    rate: num,
    etaSeconds: optional(num),
    points: arrayOf(batchMetrics),
  }),
  'train/didEpoch': obj({ run: str, metrics: epochMetrics, tensors: optional(num) }),
  'train/didCheckpoint': obj({ kind: literal('best', 'last'), epoch: num, path: str, valAccuracy: num, monitor: optional(literal(...MONITORS)), value: optional(num) }),
  'train/didStopEarly': obj({ epoch: num, monitor: str, patience: num }),
  'train/didFinish': obj({ run: str, epochs: num, bestEpoch: optional(num), monitor: optional(literal(...MONITORS)), bestValAccuracy: num, bestValBalancedAccuracy: num }),
  'lrFind/didFinish': obj({
    phase: trainPhase,
    optimizer: str,
    batch: num,
    points: arrayOf(obj({ lr: num, loss: nullable(num), smoothed: nullable(num) })),
    suggestion: obj({ steepest: optional(num), minimum: optional(num), minimumTenth: optional(num), suggested: optional(num) }),
    stoppedBy: literal('end', 'divergence', 'nan'),
  }),
  'evaluate/didFinish': obj({ run: str, evaluation, path: str }),
  'sweep/didStatus': obj({ status: sweepStatus }),
  'sweep/didFinish': obj({ folder: str, summary: sweepSummary, path: str }),
  'predict/didFinish': obj({
    run: str,
    classes: optional(arrayOf(str)),
    classLabels: optional(recordOf(str)),
    model: optional(obj({ run: str, checkpointEpoch: num, epochs: num, trainedOn: obj({ prepared: str, images: num, synthetic: bool }), calibration: obj({ applied: bool }) })),
    predictions: arrayOf(obj({ image: str, probabilities: recordOf(num), predicted: str, gradcam: optional(str), gradcamHeat: optional(str), gradcamNote: optional(str) })),
    failed: optional(arrayOf(obj({ image: str, error: str }))),
  }),
  'predict/didFailImage': obj({ image: str, error: str }),
  'export/didFinish': obj({
    run: str,
    format: literal('onnx', 'tfjs', 'keras'),
    checkpoint: literal('best', 'last'),
    epoch: num,
    out: str,
    files: arrayOf(str),
    verification: obj({ images: num, source: literal('validation', 'synthetic'), maxAbsDiff: num, tolerance: num }),
    members: optional(arrayOf(obj({ run: str, epoch: num }))),
  }),
  'weights/didCheck': obj({
    status: obj({
      model: literal(...MODEL_NAMES),
      alpha: optional(num),
      size: num,
      file: str,
      url: str,
      cached: bool,
      bytes: optional(num),
      download: optional(obj({ reachable: bool, reason: optional(str), seconds: num })),
      verified: optional(str),
    }),
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

const hostToBackendSchemas: Record<HostToBackend['type'], Check> = {
  'job/start': obj({ jobId: str, request: jobRequest }),
  'job/cancel': obj({ jobId: str }),
  'backend/shutdown': obj({}),
};

export function validateHostToBackend(value: unknown): Validated<HostToBackend> {
  return validateTagged<HostToBackend>(hostToBackendSchemas, value, 'host message');
}

/** Exit codes of the CLI (and of a job over IPC). */
export const EXIT = { done: 0, failed: 1, usage: 2, cancelled: 130 } as const;
