/**
 * The runs table: one row per run folder, its setup (from config.json) beside its results (metrics.jsonl,
 * the best checkpoint's epoch, evaluation.json) and what a person wrote about it (meta.json). Pure: the
 * extension reads the files (runFolders.ts) and hands them here.
 */
import type { EpochMetrics, Evaluation } from './protocol/results';
import type { RunConfig } from './runConfig';

/** What a person keeps about a run, in its folder's meta.json (config.json is never rewritten for it). */
export interface RunMeta {
  /** Shown instead of the folder name. */
  name?: string;
  note?: string;
  tags?: string[];
  /** Hidden from the lists (the runs table shows it on request). */
  archived?: boolean;
}

export interface Interval {
  low: number;
  high: number;
}

export interface RunSetup {
  model: string;
  /** MobileNetV2's width multiplier. */
  width?: number;
  weights: string;
  size?: number;
  batch?: number;
  phase?: string;
  /** Head → fine-tune, as trained: "rmsprop → adam", or one name for a one-phase run. */
  optimizer?: string;
  learningRate?: string;
  augment?: string;
  engine?: string;
  precision?: string;
  seed?: number;
  classWeights?: boolean;
}

export interface RunRow {
  path: string;
  /** The folder's own name. */
  folder: string;
  /** meta.json's name, else the folder's. */
  name: string;
  note?: string;
  tags: string[];
  archived: boolean;
  /** finished, failed, cancelled, interrupted, running, or unknown (no status.json). */
  status: string;
  /** Why a failed run failed (status.json). */
  error?: string;
  createdAt?: string;
  /** Starts and resumes. */
  sessions: number;
  setup?: RunSetup;
  epochs: number;
  /** The epoch whose weights are in checkpoints/best. */
  bestEpoch?: number;
  /** The best checkpoint's validation figures: from evaluation.json where it was evaluated, else from training's own validation. */
  balancedAccuracy?: number;
  balancedAccuracyCi?: Interval;
  accuracy?: number;
  /** Validation loss at the best epoch (evaluation.json has none). */
  loss?: number;
  resultsFrom?: 'evaluation' | 'training';
  /** Training time: the epochs' own seconds, added up (pauses between sessions not counted). */
  seconds: number;
  hasEvaluation: boolean;
  hasModelCard: boolean;
}

export interface RunFolderContents {
  path: string;
  config?: RunConfig;
  metrics: EpochMetrics[];
  status: string;
  error?: string;
  /** Epochs at which checkpoints/best was written, in order (events.jsonl). */
  bestCheckpointEpochs: number[];
  evaluation?: Evaluation;
  meta?: RunMeta;
  hasModelCard: boolean;
}

const baseName = (p: string): string => p.split(/[\\/]/).filter(Boolean).at(-1) ?? p;

/** "1e-3" rather than "0.001": learning rates read as powers of ten. */
export function formatLearningRate(lr: number): string {
  const [mantissa, exponent] = lr.toExponential().split('e');
  const m = Number(Number(mantissa).toPrecision(3));
  return `${m}e${Number(exponent)}`;
}

function setupOf(c: RunConfig): RunSetup {
  const o = c.options;
  const phases = o.phase === 'both' ? (['head', 'finetune'] as const) : o.phase === 'finetune' ? (['finetune'] as const) : (['head'] as const);
  const optimizer = phases.map((p) => (p === 'head' ? o.headOptimizer : o.finetuneOptimizer) ?? o.optimizer).filter(Boolean);
  const lr = phases.map((p) => (p === 'head' ? o.lr : o.finetuneLr)).filter((x): x is number => typeof x === 'number');
  const uniq = <T>(xs: T[]): T[] => (xs.length === 2 && xs[0] === xs[1] ? [xs[0]!] : xs);
  return {
    model: o.model,
    ...(o.model === 'mobilenetv2' ? { width: o.alpha ?? 1 } : {}),
    weights: o.weights === 'imagenet' || o.weights === 'none' ? o.weights : baseName(o.weights ?? '') || 'file',
    size: o.size,
    batch: o.batch,
    phase: o.phase,
    optimizer: uniq(optimizer).join(' → ') || undefined,
    learningRate: lr.length ? uniq(lr.map(formatLearningRate)).join(' → ') : undefined,
    augment: o.augment,
    // The engine and precision it actually ran (a mixed request may have fallen back), else what was asked.
    engine: c.engine?.engine ?? o.engine,
    precision: c.engine?.precision ?? o.precision ?? 'float32',
    seed: o.seed,
    classWeights: o.classWeights,
  };
}

/**
 * The best checkpoint's epoch: the last time checkpoints/best was written, else (a run from before events
 * were kept) the first epoch with the highest validation accuracy, as Keras' strict improvement picks it.
 */
function bestEpochOf(metrics: EpochMetrics[], bestCheckpointEpochs: number[]): number | undefined {
  const known = new Set(metrics.map((m) => m.epoch));
  const marked = bestCheckpointEpochs.filter((e) => known.has(e));
  if (marked.length) return marked.at(-1);
  let best: EpochMetrics | undefined;
  for (const m of metrics) if (!best || m.valAccuracy > best.valAccuracy) best = m;
  return best?.epoch;
}

function intervalOf(x: unknown): Interval | undefined {
  const i = x as Partial<Interval> | undefined;
  return i && typeof i.low === 'number' && typeof i.high === 'number' ? { low: i.low, high: i.high } : undefined;
}

export function runsTableRow(f: RunFolderContents): RunRow {
  const folder = baseName(f.path);
  const bestEpoch = bestEpochOf(f.metrics, f.bestCheckpointEpochs);
  const best = f.metrics.find((m) => m.epoch === bestEpoch);
  // evaluation.json is the best checkpoint on the validation split: the figures to compare runs by.
  // One evaluated before the run trained on (a resume) is of another checkpoint: training's own figures then.
  const evaluatedEpoch = (f.evaluation as { checkpointEpoch?: unknown } | undefined)?.checkpointEpoch;
  const evaluation = f.evaluation && /^val/.test(f.evaluation.split) && (typeof evaluatedEpoch !== 'number' || evaluatedEpoch === bestEpoch) ? f.evaluation : undefined;
  const fromEvaluation = evaluation !== undefined;
  return {
    path: f.path,
    folder,
    name: f.meta?.name?.trim() || folder,
    ...(f.meta?.note?.trim() ? { note: f.meta.note.trim() } : {}),
    tags: (f.meta?.tags ?? []).map((t) => t.trim()).filter(Boolean),
    archived: f.meta?.archived === true,
    status: f.status,
    ...(f.error ? { error: f.error } : {}),
    ...(f.config?.createdAt ? { createdAt: f.config.createdAt } : {}),
    sessions: Math.max(1, f.config?.sessions?.length ?? 1),
    ...(f.config?.options ? { setup: setupOf(f.config) } : {}),
    epochs: f.metrics.length,
    bestEpoch,
    balancedAccuracy: fromEvaluation ? evaluation.balancedAccuracy : best?.valBalancedAccuracy,
    balancedAccuracyCi: intervalOf(fromEvaluation ? (evaluation as { balancedAccuracyCi?: unknown }).balancedAccuracyCi : (best as { valBalancedAccuracyCi?: unknown } | undefined)?.valBalancedAccuracyCi),
    accuracy: fromEvaluation ? evaluation.accuracy : best?.valAccuracy,
    loss: best?.valLoss,
    resultsFrom: fromEvaluation ? 'evaluation' : best ? 'training' : undefined,
    seconds: f.metrics.reduce((s, m) => s + (Number.isFinite(m.seconds) ? m.seconds : 0), 0),
    hasEvaluation: f.evaluation !== undefined,
    hasModelCard: f.hasModelCard,
  };
}

/** A run the one-click clean-up offers to delete: it failed, or it never finished an epoch (and is not running). */
export function isCleanupCandidate(row: RunRow): boolean {
  if (row.status === 'running') return false;
  return row.status === 'failed' || row.epochs === 0;
}
