/**
 * An export, loaded back for `predict --model`: an `.onnx` file (run by Lesion Lab's ONNX runner), or
 * an export folder — ONNX, TF.js (`model.json`, read as plain TF.js would) or Keras (the weights-only
 * `weights.h5` loaded into the architecture its metadata names). Everything needed to use it comes
 * from the export's own metadata, not from the run it came from.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { buildBackbone, buildClassifier } from '../models/backbone';
import { foldBatchNorm } from '../models/foldedInference';
import { fileSystemIOHandler, MODEL_JSON } from '../models/fileIo';
import type { PreprocessSpec } from '../models/preprocess';
import { loadKerasH5Weights } from '../models/weights';
import type { ExportFormat } from '../../shared/protocol/jobs';
import type { ExportMetadata } from './exportMetadata';
import { EXPORT_FILES } from './exportMetadata';
import { OnnxRunner } from './onnxRunner';

export interface ExportedModel {
  /** What was loaded: the .onnx file or the export folder. */
  source: string;
  format: ExportFormat;
  metadata: ExportMetadata;
  classes: string[];
  size: number;
  preprocess: PreprocessSpec;
  /** The tf.layers model for TF.js and Keras exports (Grad-CAM needs one); none for ONNX. */
  layersModel?: tfl.LayersModel;
  /** Class probabilities for a preprocessed NHWC batch. */
  predict(x: tf.Tensor4D): tf.Tensor;
  dispose(): void;
}

export async function loadExportedModel(target: string): Promise<ExportedModel> {
  const source = path.resolve(target);
  const stat = await fs.stat(source).catch(() => {
    throw new UserError(`${target} does not exist. Give an export folder (written by lesion-lab export) or an .onnx file.`);
  });
  if (stat.isFile()) {
    if (!source.toLowerCase().endsWith('.onnx')) throw new UserError(`${target} is a file but not an .onnx model. Give an .onnx file or the folder lesion-lab export wrote.`);
    return loadOnnx(source, source);
  }
  const entries = new Set(await fs.readdir(source));
  if (entries.has(EXPORT_FILES.onnx)) return loadOnnx(path.join(source, EXPORT_FILES.onnx), source);
  if (entries.has(MODEL_JSON)) {
    const metadata = await readMetadata(path.join(source, EXPORT_FILES.tfjsMetadata));
    const model = await tfl.loadLayersModel(fileSystemIOHandler(source));
    return fromLayersModel(source, 'tfjs', metadata, model);
  }
  if (entries.has(EXPORT_FILES.kerasWeights) || entries.has(EXPORT_FILES.kerasModel)) {
    const metadata = await readMetadata(path.join(source, EXPORT_FILES.labels));
    const model = buildClassifier(buildBackbone(metadata.model.architecture, { inputSize: metadata.input.size, alpha: metadata.model.alpha }), metadata.classes.length);
    try {
      // weights.h5 is the save_weights layout; a full-model .h5 keeps the same groups under model_weights/.
      await loadKerasH5Weights(model, path.join(source, entries.has(EXPORT_FILES.kerasWeights) ? EXPORT_FILES.kerasWeights : EXPORT_FILES.kerasModel));
    } catch (err) {
      model.dispose();
      throw err;
    }
    return fromLayersModel(source, 'keras', metadata, model);
  }
  throw new UserError(`${target} holds no Lesion Lab export (no ${EXPORT_FILES.onnx}, ${MODEL_JSON} or ${EXPORT_FILES.kerasWeights}). Give the folder lesion-lab export wrote, or an .onnx file.`);
}

async function loadOnnx(file: string, source: string): Promise<ExportedModel> {
  const runner = await OnnxRunner.load(file);
  const embedded = runner.model.metadataProps['lesion_lab_metadata'];
  let metadata: ExportMetadata;
  if (embedded) {
    metadata = parseMetadata(embedded, `${file} (metadata_props)`);
  } else {
    const beside = path.join(path.dirname(file), EXPORT_FILES.labels);
    metadata = await readMetadata(beside).catch(() => {
      runner.dispose();
      throw new UserError(`${file} carries no Lesion Lab metadata and there is no ${EXPORT_FILES.labels} beside it, so its classes and preprocessing are unknown. Use an .onnx written by lesion-lab export.`);
    });
  }
  return {
    ...describe(source, 'onnx', metadata),
    predict: (x) => runner.run(x),
    dispose: () => runner.dispose(),
  };
}

// The forward pass `predict --run` uses (batch norm folded into the convolutions): an export predicts what its run does.
function fromLayersModel(source: string, format: ExportFormat, metadata: ExportMetadata, model: tfl.LayersModel): ExportedModel {
  const forward = foldBatchNorm(model);
  return {
    ...describe(source, format, metadata),
    layersModel: model,
    predict: (x) => forward.run(x),
    dispose: () => {
      forward.dispose();
      model.dispose();
    },
  };
}

function describe(source: string, format: ExportFormat, metadata: ExportMetadata): Pick<ExportedModel, 'source' | 'format' | 'metadata' | 'classes' | 'size' | 'preprocess'> {
  const p = metadata.preprocessing;
  const preprocess: PreprocessSpec = p.mode === 'caffe' ? { mode: 'caffe', channelOrder: 'BGR', mean: p.mean } : { mode: 'tf', channelOrder: 'RGB', scale: p.scale, offset: p.offset };
  return { source, format, metadata, classes: metadata.classes, size: metadata.input.size, preprocess };
}

async function readMetadata(file: string): Promise<ExportMetadata> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UserError(`${file} is missing: an export folder keeps its classes and preprocessing there. Export the model again with lesion-lab export.`);
  }
  return parseMetadata(text, file);
}

function parseMetadata(text: string, where: string): ExportMetadata {
  let m: Partial<ExportMetadata>;
  try {
    m = JSON.parse(text) as Partial<ExportMetadata>;
  } catch (err) {
    throw new UserError(`${where} is not valid JSON (${(err as Error).message}). Export the model again.`);
  }
  const ok =
    Array.isArray(m.classes) &&
    m.classes.every((c) => typeof c === 'string') &&
    typeof m.input?.size === 'number' &&
    (m.preprocessing?.mode === 'caffe' ? Array.isArray(m.preprocessing.mean) && m.preprocessing.mean.length === 3 : m.preprocessing?.mode === 'tf') &&
    typeof m.model?.architecture === 'string';
  if (!ok) throw new UserError(`${where} is not Lesion Lab export metadata (classes, input size, preprocessing, architecture). Export the model again with lesion-lab export.`);
  return m as ExportMetadata;
}
