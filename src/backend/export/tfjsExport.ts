/**
 * The TF.js export: a standard layers model (`model.json` + `weights.bin`) that plain
 * `tf.loadLayersModel` reads in a browser or Node with nothing from Lesion Lab. Lesion Lab's
 * frozen-batch-norm layer is registered under Keras' own class name "BatchNormalization", so the
 * topology names only stock layers; in inference mode stock batch norm computes exactly what Lesion
 * Lab's does. The training configuration is left out (a custom class-weighted loss would not load).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { MODEL_JSON, WEIGHTS_BIN } from '../models/fileIo';

/** The tf.layers classes Lesion Lab's models are made of; all of them ship with @tensorflow/tfjs-layers. */
export const STOCK_LAYER_CLASSES = ['InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'Activation', 'ZeroPadding2D', 'MaxPooling2D', 'Add', 'GlobalAveragePooling2D', 'Dense', 'Dropout'] as const;

export async function writeTfjsModel(model: tfl.LayersModel, dir: string, userDefinedMetadata: NonNullable<tf.io.ModelJSON['userDefinedMetadata']>, convertedBy: string): Promise<string[]> {
  const foreign = [...new Set(model.layers.map((l) => l.getClassName()))].filter((c) => !(STOCK_LAYER_CLASSES as readonly string[]).includes(c));
  if (foreign.length) throw new UserError(`TF.js export: ${model.name} has layers that are not stock TF.js layers (${foreign.join(', ')}); plain tf.loadLayersModel could not read it.`);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: false },
  );
  if (!artifacts?.weightSpecs || artifacts.weightData === undefined) throw new Error('TF.js export: the model produced no weights');
  const chunks = Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy,
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
    userDefinedMetadata,
  };
  await fs.writeFile(path.join(dir, WEIGHTS_BIN), Buffer.concat(chunks.map((c) => Buffer.from(c))));
  await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
  return [MODEL_JSON, WEIGHTS_BIN];
}
