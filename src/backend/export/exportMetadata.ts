/**
 * What travels with every export so that it can be used without Lesion Lab: the class names in
 * output order, the input's size and layout, the preprocessing with its constants, where the model
 * came from, how well it did on validation, and the model card.
 */
import type { ExportCheckpoint, ExportFormat, ModelName } from '../../shared/protocol/jobs';
import type { ClassMetrics, EpochMetrics, Evaluation } from '../../shared/protocol/results';
import type { RunConfig } from '../../shared/runConfig';
import type { Interval } from '../../shared/trust';
import { classLabel } from '../../shared/classes';
import type { PreprocessSpec } from '../models/preprocess';
import { preprocessFor } from '../models/preprocess';

/** The file names inside an export folder. */
export const EXPORT_FILES = {
  onnx: 'model.onnx',
  kerasModel: 'model.h5',
  kerasWeights: 'weights.h5',
  labels: 'labels.json',
  tfjsMetadata: 'metadata.json',
  modelCard: 'model-card.md',
} as const;

/** Bumped when the layout of this document changes. */
export const EXPORT_METADATA_VERSION = 1;

export interface ExportMetadata {
  lesionLabExport: typeof EXPORT_METADATA_VERSION;
  format: ExportFormat;
  /** The class of output index i is classes[i]. */
  classes: string[];
  classDescriptions: Record<string, string>;
  model: { architecture: ModelName; alpha?: number; name: string; weights: string; parameters: number };
  input: {
    name: string;
    /** e.g. ["batch", 224, 224, 3]: a free batch dimension, then height, width, channels. */
    shape: (number | string)[];
    layout: 'NHWC';
    dtype: 'float32';
    size: number;
    /** How Lesion Lab makes an image this size. */
    resize: string;
  };
  preprocessing: PreprocessSpec & { formula: string };
  output: { name: string; shape: (number | string)[]; activation: 'softmax' };
  source: { run: string; checkpoint: ExportCheckpoint; epoch: number; trainedWith: string; engine?: string; createdAt: string };
  /** Validation figures of the exported checkpoint; optimistic, since the best checkpoint was chosen on them. */
  validation: ValidationFigures | null;
  modelCard: string | null;
  /** An ensemble export: its members (each with its own checkpoint's validation figures) and the ensemble's evaluation, if one was made. */
  ensemble?: EnsembleFigures;
  lesionLabVersion: string;
  exportedAt: string;
  disclaimer: string;
}

export interface ValidationFigures {
  /** evaluation.json (lesion-lab evaluate) or metrics.jsonl (the epoch's own validation pass). */
  from: 'evaluation' | 'epoch';
  split: string;
  epoch: number;
  accuracy: number;
  balancedAccuracy: number;
  /** Its bootstrap 95% interval, where the run recorded one. */
  balancedAccuracyCi?: Interval;
  count?: number;
  loss?: number;
  perClass?: ClassMetrics[];
}

export interface EnsembleFigures {
  averaging: string;
  members: { run: string; epoch: number; validation: ValidationFigures | null }[];
  /** From ensemble-evaluation.json (`lesion-lab evaluate --ensemble`) when it is of exactly these members. */
  evaluation: { report: string; split: string; count: number; accuracy: number; balancedAccuracy: number; balancedAccuracyCi?: Interval; perClass: ClassMetrics[] } | null;
}

export const DISCLAIMER = 'A research and education model, not a medical device: it must not be used to diagnose, screen or triage anyone.';

export function preprocessingFormula(spec: PreprocessSpec): string {
  return spec.mode === 'caffe'
    ? `RGB pixels in [0, 255] → reverse the channels to BGR → subtract [${spec.mean.join(', ')}] (B, G, R); no scaling (Keras preprocess_input, mode "caffe")`
    : `RGB pixels in [0, 255] → x / 127.5 − 1, i.e. [−1, 1] (Keras preprocess_input, mode "tf")`;
}

export interface MetadataSources {
  format: ExportFormat;
  config: RunConfig;
  runDir: string;
  checkpoint: ExportCheckpoint;
  epoch: number;
  modelName: string;
  parameters: number;
  metrics: EpochMetrics[];
  /** evaluation.json, if the run was evaluated; used only when it describes this checkpoint's epoch. */
  evaluation?: Evaluation & { checkpointEpoch?: number };
  modelCard?: string;
  version: string;
  input: string;
  output: string;
}

export function buildExportMetadata(s: MetadataSources): ExportMetadata {
  const o = s.config.options;
  const spec = preprocessFor(o.model);
  const evaluated = s.evaluation && s.evaluation.checkpointEpoch === s.epoch ? s.evaluation : undefined;
  const epochMetrics = s.metrics.find((m) => m.epoch === s.epoch);
  const validation: ValidationFigures | null = evaluated
    ? { from: 'evaluation', split: evaluated.split, epoch: s.epoch, accuracy: evaluated.accuracy, balancedAccuracy: evaluated.balancedAccuracy, ...(evaluated.balancedAccuracyCi ? { balancedAccuracyCi: evaluated.balancedAccuracyCi } : {}), count: evaluated.count, perClass: evaluated.perClass }
    : epochMetrics
      ? { from: 'epoch', split: 'validation', epoch: s.epoch, accuracy: epochMetrics.valAccuracy, balancedAccuracy: epochMetrics.valBalancedAccuracy, ...(epochMetrics.valBalancedAccuracyCi ? { balancedAccuracyCi: epochMetrics.valBalancedAccuracyCi } : {}), loss: epochMetrics.valLoss }
      : null;
  return {
    lesionLabExport: EXPORT_METADATA_VERSION,
    format: s.format,
    classes: [...s.config.classes],
    classDescriptions: Object.fromEntries(s.config.classes.map((c) => [c, classLabel(c, s.config.classLabels) ?? c])),
    model: { architecture: o.model, ...(o.model === 'mobilenetv2' ? { alpha: o.alpha ?? 1 } : {}), name: s.modelName, weights: o.weights, parameters: s.parameters },
    input: {
      name: s.input,
      shape: ['batch', o.size, o.size, 3],
      layout: 'NHWC',
      dtype: 'float32',
      size: o.size,
      resize: `the whole image stretched to ${o.size}×${o.size} (aspect ratio not kept, no crop; Lesion Lab uses sharp's default lanczos3 filter)`,
    },
    preprocessing: { ...spec, formula: preprocessingFormula(spec) },
    output: { name: s.output, shape: ['batch', s.config.classes.length], activation: 'softmax' },
    source: {
      run: s.runDir,
      checkpoint: s.checkpoint,
      epoch: s.epoch,
      trainedWith: `Lesion Lab ${s.config.lesionLab}`,
      engine: s.config.engine?.engine,
      createdAt: s.config.createdAt,
    },
    validation,
    modelCard: evaluated ? (s.modelCard ?? null) : null,
    lesionLabVersion: s.version,
    exportedAt: new Date().toISOString(),
    disclaimer: DISCLAIMER,
  };
}

/** ONNX metadata_props: flat string pairs, JSON where a value is structured. */
export function onnxMetadataProps(m: ExportMetadata): Record<string, string> {
  const props: Record<string, string> = {
    classes: JSON.stringify(m.classes),
    class_descriptions: JSON.stringify(m.classDescriptions),
    input_layout: `${m.input.layout}: ${m.input.name} is [${m.input.shape.join(', ')}] float32`,
    input_size: String(m.input.size),
    preprocessing: m.preprocessing.mode,
    preprocessing_formula: m.preprocessing.formula,
    preprocessing_spec: JSON.stringify(m.preprocessing),
    architecture: m.model.architecture + (m.model.alpha !== undefined ? ` alpha ${m.model.alpha}` : ''),
    validation: JSON.stringify(m.validation),
    lesion_lab_version: m.lesionLabVersion,
    disclaimer: m.disclaimer,
    lesion_lab_metadata: JSON.stringify(m),
  };
  if (m.modelCard) props['model_card'] = m.modelCard;
  if (m.ensemble) props['ensemble'] = JSON.stringify(m.ensemble);
  return props;
}
