/**
 * A run folder's `config.json`: everything needed to reproduce the run, defaults resolved. The backend
 * writes it when a run starts (and reads it on --resume, evaluate and predict); the extension reads it to
 * say what a run trains and where. One shape for both.
 */
import type { ClassLabels } from './classes';
import type { EngineName } from './protocol/engines';
import type { Monitor, Precision, TrainOptions } from './protocol/jobs';

/** TrainOptions with every default the backend chose written out. */
export type ResolvedTrainOptions = TrainOptions & {
  prepared: string;
  lr: number;
  finetuneLr: number;
  finetuneEpochs: number;
  unfreezeFrom: string;
  headOptimizer: string;
  finetuneOptimizer: string;
  /** Absent in runs started before it existed (then 0). */
  earlyStoppingStart?: number;
  /** Absent in runs started before it existed (then 0: no warm-up). */
  warmupEpochs?: number;
};

/** The engine a run actually trained on, and how. */
export interface EngineRunInfo {
  engine: EngineName;
  backend: string;
  device?: string;
  /** CPU threads it computed on, where Lesion Lab sets them (wasm, cpu). */
  threads?: number;
  /** Package name → version, for tfjs-core, tfjs-layers and the engine's backend package. */
  versions: Record<string, string>;
  /** The project's changes to stock TF.js that were active. */
  patches: string[];
  /** The arithmetic the run trained with (`--precision`; mixed falls back to float32 where it cannot run). */
  precision: Precision;
}

/**
 * What identifies a prepared dataset as a run saw it, computed from the images the run reads (train, val, and
 * aug/ with --augment disk): a changed fingerprint means the run would go on with other data.
 */
export interface DatasetFingerprint {
  /** sha256 over each image's path in the prepared folder, class and split: the labels and the split. */
  labels: string;
  /** sha256 over the same plus each file's size and a digest of its first and last 4 KiB: the files themselves. */
  files: string;
  images: number;
}

/** One start or resume of a run: what ran it. Appended, never rewritten. */
export interface RunSession {
  startedAt: string;
  /** Epochs the run had finished when this session started (0 for the first). */
  afterEpoch: number;
  lesionLab: string;
  /** The source revision (git commit, `-dirty` with uncommitted changes) when known. */
  revision?: string;
  node: string;
  engine: EngineName;
  device?: string;
  precision: Precision;
  threads?: number;
}

/** The engine and precision that trained one epoch (for an epoch trained again after a crash: the session that finished it). */
export interface EpochEngine {
  epoch: number;
  engine: EngineName;
  precision: Precision;
  /** Index into `sessions`. */
  session: number;
}

export interface RunConfig {
  version: 1;
  options: ResolvedTrainOptions;
  /** The prepared dataset's classes (manifest.json › classes), in the order of the model's outputs. */
  classes: string[];
  /** Long names of the classes that have one; absent in runs from before classes came from the data. */
  classLabels?: ClassLabels;
  createdAt: string;
  /** Lesion Lab's version when the run started (each session's is in `sessions`). */
  lesionLab: string;
  /** Its source revision (git commit, `-dirty` with uncommitted changes) when known. */
  revision?: string;
  node: string;
  /** The engine of the latest session; written once the engine is up, absent in a config whose run failed before that. */
  engine?: EngineRunInfo & { reason: string };
  dataset: {
    prepared: string;
    split: string;
    valFraction: number;
    seed: number;
    train: number;
    val: number;
    augmented: number;
    fingerprint?: DatasetFingerprint;
    /** The prepared dataset's layout (kaggle-ham10000, folder-per-class …) and what its split kept together. */
    layout?: string;
    groupedBy?: string;
    leakage?: string;
    /** What prepare found and did about near-duplicates across the split, in words (describeNearDuplicates). */
    nearDuplicates?: string;
    /** The images are Lesion Lab's synthetic demo data (painted, not photographed). */
    synthetic?: boolean;
    /** The dataset folder the prepared one was made from. */
    source?: string;
  };
  /** Where fine-tuning starts, by name (`options.unfreezeFrom` may be an index). */
  finetuneFrom?: string;
  sessions?: RunSession[];
  epochEngines?: EpochEngine[];
}

/** What chose the run's best checkpoint: its --monitor; runs from before the option used val_acc. */
export function runMonitor(c: Pick<RunConfig, 'options'>): Monitor {
  return c.options.monitor ?? 'val_acc';
}

/** "best validation balanced accuracy (val_bal_acc)". */
export function describeMonitor(m: Monitor): string {
  const what = m === 'val_bal_acc' ? 'best validation balanced accuracy' : m === 'val_acc' ? 'best validation accuracy' : 'lowest validation loss';
  return `${what} (${m})`;
}

/** "wasm for epochs 1–3, cpu (float32) for 4–5", or the one engine; undefined before any epoch was recorded. */
export function describeEpochEngines(c: RunConfig): string | undefined {
  const epochs = [...(c.epochEngines ?? [])].sort((a, b) => a.epoch - b.epoch);
  if (epochs.length === 0) return undefined;
  const label = (e: EpochEngine): string => `${e.engine}${e.precision === 'mixed' ? ' (mixed precision)' : ''}`;
  const spans: { label: string; from: number; to: number }[] = [];
  for (const e of epochs) {
    const last = spans.at(-1);
    if (last && last.label === label(e) && last.to === e.epoch - 1) last.to = e.epoch;
    else spans.push({ label: label(e), from: e.epoch, to: e.epoch });
  }
  if (spans.length === 1) return spans[0]!.label;
  return spans.map((s) => `${s.label} for epoch${s.from === s.to ? ` ${s.from}` : `s ${s.from}–${s.to}`}`).join(', ');
}

/** One line on what the run trains and where: "mobilenetv2 α0.35 · from scratch · 96 px · batch 16 · wasm on CPU · float32". */
export function describeRunSetup(c: RunConfig): string {
  const o = c.options;
  const weights = o.weights === 'imagenet' ? 'ImageNet weights' : o.weights === 'none' ? 'from scratch' : o.weights ? 'own weights' : undefined;
  const engine = c.engine?.engine ? `${c.engine.engine}${c.engine.device ? ` on ${c.engine.device}` : ''}` : undefined;
  // The precision the engine ran with: a mixed request on an engine without float16 trains in float32.
  const precision = c.engine?.precision === 'mixed' ? 'mixed precision (float16)' : c.engine ? 'float32' : undefined;
  return [
    `${o.model ?? '?'}${o.model === 'mobilenetv2' && o.alpha ? ` α${o.alpha}` : ''}`,
    weights,
    o.size ? `${o.size} px` : undefined,
    o.batch ? `batch ${o.batch}` : undefined,
    o.augment && o.augment !== 'none' ? `augment ${o.augment}` : undefined,
    engine,
    precision,
  ]
    .filter((x): x is string => !!x)
    .join(' · ');
}
