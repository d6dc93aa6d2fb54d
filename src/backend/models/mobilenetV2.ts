/**
 * MobileNetV2 as in Keras applications (keras/src/applications/mobilenet_v2.py), layer for layer and
 * name for name, so the official Keras ImageNet `.h5` weight files map onto it by layer name.
 * include_top=False, pooling=None.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { kerasBatchNormalization } from './kerasBatchNorm';
import { kerasReLU } from './kerasReLU';

type Layer = tfl.LayersModel['layers'][number];

/** Width multipliers Keras publishes ImageNet weights for. */
export const MOBILENET_V2_ALPHAS = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4] as const;
/** Input sizes Keras publishes ImageNet weights for; any other size uses the 224 file. */
export const MOBILENET_V2_SIZES = [96, 128, 160, 192, 224] as const;
export const MOBILENET_V2_MIN_INPUT = 32;

// Keras: BatchNormalization(epsilon=1e-3, momentum=0.999) throughout MobileNetV2.
const BN_EPSILON = 1e-3;
const BN_MOMENTUM = 0.999;

/** The inverted residual blocks: [filters, stride, expansion], block_id = index. */
const BLOCKS: readonly (readonly [number, number, number])[] = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

/**
 * Keras' _make_divisible: round to the nearest multiple of `divisor` (at least `minValue`), but never
 * more than 10% below `v`. The arithmetic mirrors Python's float ops so results match exactly.
 */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let newV = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

/** Channels of the last 1×1 conv: 1280, widened only when alpha > 1 (as the paper and Keras do). */
export function lastConvFilters(alpha: number): number {
  return alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
}

/** Keras' imagenet_utils.correct_pad for a 3×3 stride-2 conv: ((top, bottom), (left, right)). */
export function correctPad(height: number, width: number, kernel = 3): [[number, number], [number, number]] {
  const adjust = [1 - (height % 2), 1 - (width % 2)] as const;
  const correct = Math.floor(kernel / 2);
  return [
    [correct - adjust[0], correct],
    [correct - adjust[1], correct],
  ];
}

export function mobileNetV2ModelName(alpha: number, inputSize: number): string {
  return `mobilenetv2_${alpha.toFixed(2)}_${inputSize}`;
}

export function buildMobileNetV2(alpha: number, inputSize: number): tfl.LayersModel {
  if (!(alpha >= 0.35 && alpha <= 1.4)) {
    throw new UserError(`MobileNetV2 alpha must be between 0.35 and 1.4 (got ${alpha}); ImageNet weights exist for ${MOBILENET_V2_ALPHAS.join(', ')}.`);
  }
  if (!Number.isInteger(inputSize) || inputSize < MOBILENET_V2_MIN_INPUT) {
    throw new UserError(`MobileNetV2 needs an input size of at least ${MOBILENET_V2_MIN_INPUT} pixels (got ${inputSize}); try --size 224, or 96 for a quick run.`);
  }
  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x = tfl.layers
    .conv2d({ filters: makeDivisible(32 * alpha, 8), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' })
    .apply(input) as tfl.SymbolicTensor;
  x = batchNorm('bn_Conv1').apply(x) as tfl.SymbolicTensor;
  x = relu6('Conv1_relu').apply(x) as tfl.SymbolicTensor;

  BLOCKS.forEach(([filters, stride, expansion], blockId) => {
    x = invertedResidualBlock(x, expansion, stride, alpha, filters, blockId);
  });

  x = tfl.layers.conv2d({ filters: lastConvFilters(alpha), kernelSize: 1, useBias: false, name: 'Conv_1' }).apply(x) as tfl.SymbolicTensor;
  x = batchNorm('Conv_1_bn').apply(x) as tfl.SymbolicTensor;
  x = relu6('out_relu').apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x, name: mobileNetV2ModelName(alpha, inputSize) });
}

function invertedResidualBlock(
  inputs: tfl.SymbolicTensor,
  expansion: number,
  stride: number,
  alpha: number,
  filters: number,
  blockId: number,
): tfl.SymbolicTensor {
  const inChannels = inputs.shape[3] as number;
  const pointwiseFilters = makeDivisible(Math.trunc(filters * alpha), 8);
  let x = inputs;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = tfl.layers
      .conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` })
      .apply(x) as tfl.SymbolicTensor;
    x = batchNorm(`${prefix}expand_BN`).apply(x) as tfl.SymbolicTensor;
    x = relu6(`${prefix}expand_relu`).apply(x) as tfl.SymbolicTensor;
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) {
    const padding = correctPad(x.shape[1] as number, x.shape[2] as number, 3);
    x = tfl.layers.zeroPadding2d({ padding, name: `${prefix}pad` }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` })
    .apply(x) as tfl.SymbolicTensor;
  x = batchNorm(`${prefix}depthwise_BN`).apply(x) as tfl.SymbolicTensor;
  x = relu6(`${prefix}depthwise_relu`).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: pointwiseFilters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` })
    .apply(x) as tfl.SymbolicTensor;
  x = batchNorm(`${prefix}project_BN`).apply(x) as tfl.SymbolicTensor;
  if (inChannels === pointwiseFilters && stride === 1) {
    return tfl.layers.add({ name: `${prefix}add` }).apply([inputs, x]) as tfl.SymbolicTensor;
  }
  return x;
}

function batchNorm(name: string): Layer {
  return kerasBatchNormalization({ axis: 3, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name });
}

function relu6(name: string): Layer {
  return kerasReLU({ maxValue: 6, name });
}
