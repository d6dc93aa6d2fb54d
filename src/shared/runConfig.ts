/**
 * A run folder's `config.json`: everything needed to reproduce the run, defaults resolved. The backend
 * writes it when a run starts (and reads it on --resume, evaluate and predict); the extension reads it to
 * say what a run trains and where. One shape for both.
 */
import type { EngineName } from './protocol/engines';
import type { Precision, TrainOptions } from './protocol/jobs';

/** TrainOptions with every default the backend chose written out. */
export type ResolvedTrainOptions = TrainOptions & {
  lr: number;
  finetuneLr: number;
  finetuneEpochs: number;
  unfreezeFrom: string;
  headOptimizer: string;
  finetuneOptimizer: string;
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

export interface RunConfig {
  version: 1;
  options: ResolvedTrainOptions;
  classes: string[];
  createdAt: string;
  lesionLab: string;
  node: string;
  /** Written once the engine is up; absent in a config whose run failed before that. */
  engine?: EngineRunInfo & { reason: string };
  dataset: { prepared: string; split: string; valFraction: number; seed: number; train: number; val: number; augmented: number };
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
