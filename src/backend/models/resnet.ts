/**
 * ResNet v1 (50/101/152) as in Keras applications (keras/src/applications/resnet.py: ResNet with
 * stack_residual_blocks_v1 / residual_block_v1), layer for layer and name for name, so the official
 * Keras ImageNet `.h5` weight files map onto it by layer name. include_top=False, pooling=None.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { kerasBatchNormalization } from './kerasBatchNorm';

type Layer = tfl.LayersModel['layers'][number];

export type ResNetName = 'resnet50' | 'resnet101' | 'resnet152';

/** Residual blocks per stage (conv2 … conv5), as in Keras' ResNet50/101/152 stack_fn. */
export const RESNET_BLOCKS: Record<ResNetName, readonly [number, number, number, number]> = {
  resnet50: [3, 4, 6, 3],
  resnet101: [3, 4, 23, 3],
  resnet152: [3, 8, 36, 3],
};

/** Bottleneck width per stage; the block output has 4× as many channels. */
const STAGE_FILTERS = [64, 128, 256, 512] as const;

// Keras uses epsilon 1.001e-5 and the default momentum (0.99) for every ResNet v1 batch norm.
const BN_EPSILON = 1.001e-5;
const BN_MOMENTUM = 0.99;

/** Keras refuses inputs smaller than this (obtain_input_shape(min_size=32)). */
export const RESNET_MIN_INPUT = 32;

export interface ResNetConfig {
  name: string;
  blocks: readonly number[];
  inputSize: number;
  /**
   * Bottleneck widths per stage. Only tests change this (to keep weight files small); the naming
   * scheme and topology stay those of Keras.
   */
  stageFilters?: readonly number[];
}

export function buildResNet(config: ResNetConfig): tfl.LayersModel {
  const { name, blocks, inputSize } = config;
  const stageFilters = config.stageFilters ?? STAGE_FILTERS;
  if (!Number.isInteger(inputSize) || inputSize < RESNET_MIN_INPUT) {
    throw new UserError(`ResNet needs an input size of at least ${RESNET_MIN_INPUT} pixels (got ${inputSize}); use --size 224 as in the reference workflow.`);
  }
  if (blocks.length !== 4 || stageFilters.length !== 4) throw new Error('buildResNet: need 4 stages');

  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x = tfl.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(input) as tfl.SymbolicTensor;
  x = conv(64, 7, 2, 'valid', 'conv1_conv').apply(x) as tfl.SymbolicTensor;
  x = batchNorm('conv1_bn').apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'conv1_relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x) as tfl.SymbolicTensor;

  for (let stage = 0; stage < 4; stage++) {
    // conv2 keeps the resolution (its input was already pooled); later stages halve it.
    x = stack(x, stageFilters[stage]!, blocks[stage]!, stage === 0 ? 1 : 2, `conv${stage + 2}`);
  }
  return tfl.model({ inputs: input, outputs: x, name });
}

function stack(x: tfl.SymbolicTensor, filters: number, blocks: number, stride1: number, name: string): tfl.SymbolicTensor {
  x = residualBlock(x, filters, stride1, true, `${name}_block1`);
  for (let i = 2; i <= blocks; i++) x = residualBlock(x, filters, 1, false, `${name}_block${i}`);
  return x;
}

/**
 * residual_block_v1. The shortcut is built first, as in Keras: together with Add([shortcut, x]) that
 * fixes the layer order Keras reports (…_2_relu, _0_conv, _3_conv, _0_bn, _3_bn, _add, _out), which
 * tf.layers derives with the same depth-then-traversal sort.
 */
function residualBlock(x: tfl.SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string): tfl.SymbolicTensor {
  let shortcut = x;
  if (convShortcut) {
    shortcut = conv(4 * filters, 1, stride, 'valid', `${name}_0_conv`).apply(x) as tfl.SymbolicTensor;
    shortcut = batchNorm(`${name}_0_bn`).apply(shortcut) as tfl.SymbolicTensor;
  }
  let y = conv(filters, 1, stride, 'valid', `${name}_1_conv`).apply(x) as tfl.SymbolicTensor;
  y = batchNorm(`${name}_1_bn`).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.activation({ activation: 'relu', name: `${name}_1_relu` }).apply(y) as tfl.SymbolicTensor;
  y = conv(filters, 3, 1, 'same', `${name}_2_conv`).apply(y) as tfl.SymbolicTensor;
  y = batchNorm(`${name}_2_bn`).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.activation({ activation: 'relu', name: `${name}_2_relu` }).apply(y) as tfl.SymbolicTensor;
  y = conv(4 * filters, 1, 1, 'valid', `${name}_3_conv`).apply(y) as tfl.SymbolicTensor;
  y = batchNorm(`${name}_3_bn`).apply(y) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as tfl.SymbolicTensor;
  return tfl.layers.activation({ activation: 'relu', name: `${name}_out` }).apply(sum) as tfl.SymbolicTensor;
}

function conv(filters: number, kernelSize: number, strides: number, padding: 'valid' | 'same', name: string): Layer {
  // Keras' defaults: glorot_uniform kernel, zero bias, use_bias=True for ResNet v1.
  return tfl.layers.conv2d({ filters, kernelSize, strides, padding, useBias: true, name });
}

function batchNorm(name: string): Layer {
  return kerasBatchNormalization({ axis: 3, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name });
}
