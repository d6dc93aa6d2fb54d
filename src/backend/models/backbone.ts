/**
 * The backbones Lesion Lab trains (Keras-compatible names, include_top=False, pooling none) and the
 * reference workflow's classification head on top of them.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelName } from '../../shared/protocol/jobs';
import { MODEL_NAMES } from '../../shared/protocol/jobs';
import { UserError } from '../errors';
import { buildMobileNetV2 } from './mobilenetV2';
import { RESNET_BLOCKS, buildResNet } from './resnet';
import { assertNever } from '../../shared/assertNever';

export interface BackboneOptions {
  inputSize: number;
  /** MobileNetV2 width multiplier (0.35–1.4); ignored by ResNets. */
  alpha?: number;
}

export const DEFAULT_MOBILENET_ALPHA = 1.0;

export function buildBackbone(name: ModelName, options: BackboneOptions): tfl.LayersModel {
  // A hand-edited config.json reaches here unchecked: say what is wrong in words.
  if (!MODEL_NAMES.includes(name)) throw new UserError(`Unknown model "${String(name)}"; choose one of ${MODEL_NAMES.join(', ')}.`);
  switch (name) {
    case 'resnet50':
    case 'resnet101':
    case 'resnet152':
      return buildResNet({ name, blocks: RESNET_BLOCKS[name], inputSize: options.inputSize });
    case 'mobilenetv2':
      return buildMobileNetV2(options.alpha ?? DEFAULT_MOBILENET_ALPHA, options.inputSize);
    default:
      return assertNever(name, 'model');
  }
}

/** Names of the layers buildClassifier adds; stable so checkpoints and Grad-CAM can find them. */
export const HEAD_LAYERS = {
  pooling: 'head_gap',
  dense: 'head_dense',
  dropout: 'head_dropout',
  predictions: 'head_predictions',
} as const;

/** The reference head: GlobalAveragePooling2D → Dense(1000, relu) → Dropout(0.25) → Dense(n, softmax). */
export const HEAD_DENSE_UNITS = 1000;
export const HEAD_DROPOUT_RATE = 0.25;

/**
 * One flat model: the backbone's layers (same objects, so weights loaded into the backbone are
 * shared) followed by the head. Layer indices of the backbone part are unchanged, so Keras-style
 * indices such as `model.layers[483:]` mean the same here.
 */
export function buildClassifier(backbone: tfl.LayersModel, numClasses: number): tfl.LayersModel {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new UserError(`A classifier needs at least 2 classes (got ${numClasses}).`);
  const features = backbone.outputs[0];
  if (!features || backbone.outputs.length !== 1) throw new Error('buildClassifier: the backbone must have exactly one output');
  let x = tfl.layers.globalAveragePooling2d({ name: HEAD_LAYERS.pooling }).apply(features) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: HEAD_DENSE_UNITS, activation: 'relu', name: HEAD_LAYERS.dense }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dropout({ rate: HEAD_DROPOUT_RATE, name: HEAD_LAYERS.dropout }).apply(x) as tfl.SymbolicTensor;
  const predictions = tfl.layers.dense({ units: numClasses, activation: 'softmax', name: HEAD_LAYERS.predictions }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: backbone.inputs, outputs: predictions, name: `${backbone.name}_classifier` });
}

/** Where fine-tuning starts by default: src/shared/trainDefaults.ts (the Run form shows it too). */
export { defaultUnfreezeLayer } from '../../shared/trainDefaults';

/**
 * Index in `model.layers` of the first layer to train in fine-tuning. `nameOrIndex` is a layer name
 * or a number with Keras semantics (the InputLayer is layer 0, as in `model.layers[483:]`).
 */
export function findUnfreezeIndex(model: tfl.LayersModel, nameOrIndex: string | number): number {
  const layers = model.layers;
  const asNumber = typeof nameOrIndex === 'number' ? nameOrIndex : /^\s*\d+\s*$/.test(nameOrIndex) ? Number(nameOrIndex) : undefined;
  if (asNumber !== undefined) {
    if (!Number.isInteger(asNumber) || asNumber < 1 || asNumber >= layers.length) {
      throw new UserError(
        `--unfreeze-from ${nameOrIndex} is outside ${model.name}'s layers (1–${layers.length - 1}; layer 0 is the input). Give a layer index in that range or a layer name such as ${layers[Math.floor(layers.length * 0.9)]?.name ?? ''}.`,
      );
    }
    return asNumber;
  }
  const wanted = String(nameOrIndex).trim();
  const index = layers.findIndex((l) => l.name === wanted);
  if (index < 0) {
    const hint = similarLayerNames(layers.map((l) => l.name), wanted);
    throw new UserError(
      `${model.name} has no layer named "${wanted}".${hint.length ? ` Similar names: ${hint.join(', ')}.` : ''} Give a layer name from the model or a layer index (the input is layer 0).`,
    );
  }
  if (index === 0) throw new UserError(`--unfreeze-from cannot be the input layer; give a layer after it.`);
  return index;
}

/** Layers from `index` on train, the ones before stay frozen (Keras: `for l in layers[i:]: l.trainable = True`). */
export function setTrainableFrom(model: tfl.LayersModel, index: number): void {
  model.layers.forEach((layer, i) => {
    layer.trainable = i >= index;
  });
}

function similarLayerNames(names: readonly string[], wanted: string): string[] {
  // Longest shared prefix first: "conv5_block1_conv" suggests conv5_block1_0_conv, conv5_block1_1_conv …
  const scored = names.map((n) => {
    let p = 0;
    while (p < n.length && p < wanted.length && n[p]?.toLowerCase() === wanted[p]?.toLowerCase()) p++;
    return { n, p };
  });
  const best = Math.max(0, ...scored.map((s) => s.p));
  if (best < 3) return [];
  return scored.filter((s) => s.p === best).slice(0, 5).map((s) => s.n);
}
