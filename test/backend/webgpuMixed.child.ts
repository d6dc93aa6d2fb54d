/**
 * Child program of webgpuMixed.test.ts (the Vulkan variables must be set at process start): the convolution
 * kernels on `cpu` (stock TF.js, float32), on `webgpu` in float32 and on `webgpu` with `--precision mixed`'s
 * float16 kernels, for the same inputs; prints one JSON line with every result and the dispatches each
 * mixed-precision call recorded.
 *   node --require tsx/cjs test/backend/webgpuMixed.child.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/backend/engines/load';
import { countDispatches } from '../../src/backend/engines/webgpu/dispatchCounter';
import { deviceHasHalf, setHalfIm2ColMaxElements, useWebGpuPrecision } from '../../src/backend/engines/webgpu/mixedPrecision';
import { webgpuBackend } from '../../src/backend/engines/webgpu/backendInternals';
import { seededTensor } from '../helpers/seededTensor';
import { exitWhenDone } from '../helpers/vulkan';

export type MixedOp = 'forward' | 'forwardBias' | 'filter' | 'input';

export interface MixedCase {
  name: string;
  op: MixedOp;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
  /** float16 im2col chunk limit in elements (0: the default). */
  chunkLimit?: number;
  /** Standard deviation of dy (gradient cases): tiny values test the loss scaling. */
  dyScale?: number;
}

export const MIXED_CASES: MixedCase[] = [
  { name: 'forward 1x1 stride 1', op: 'forward', x: [2, 9, 9, 16], filter: [1, 1, 16, 24], strides: 1, pad: 'same' },
  { name: 'forward 1x1 stride 2 (ResNet shortcut)', op: 'forward', x: [2, 10, 10, 16], filter: [1, 1, 16, 32], strides: 2, pad: 'valid' },
  { name: 'forward 3x3 stride 1 same', op: 'forward', x: [2, 8, 8, 12], filter: [3, 3, 12, 20], strides: 1, pad: 'same' },
  { name: 'forward 3x3 stride 2 same, odd size', op: 'forward', x: [2, 11, 9, 6], filter: [3, 3, 6, 10], strides: 2, pad: 'same' },
  { name: 'forward 7x7 stride 2 (ResNet stem)', op: 'forward', x: [2, 32, 32, 3], filter: [7, 7, 3, 16], strides: 2, pad: 'same' },
  { name: 'forward 3x3 in batch chunks', op: 'forward', x: [5, 6, 6, 4], filter: [3, 3, 4, 6], strides: 1, pad: 'same', chunkLimit: 2 * 36 * 36 },
  { name: 'forward + bias 3x3 (Keras ResNet convs)', op: 'forwardBias', x: [2, 7, 7, 70], filter: [3, 3, 70, 65], strides: 1, pad: 'same' },
  { name: 'forward + bias 1x1, 130 output channels', op: 'forwardBias', x: [3, 5, 5, 33], filter: [1, 1, 33, 130], strides: 1, pad: 'valid' },
  { name: 'filter gradient 1x1 stride 1', op: 'filter', x: [2, 9, 9, 16], filter: [1, 1, 16, 24], strides: 1, pad: 'valid' },
  { name: 'filter gradient 1x1 stride 2', op: 'filter', x: [2, 10, 10, 16], filter: [1, 1, 16, 32], strides: 2, pad: 'valid' },
  { name: 'filter gradient 3x3 same, long reduction', op: 'filter', x: [4, 24, 24, 8], filter: [3, 3, 8, 8], strides: 1, pad: 'same' },
  { name: 'filter gradient 3x3 stride 2 valid', op: 'filter', x: [1, 13, 13, 5], filter: [3, 3, 5, 7], strides: 2, pad: 'valid' },
  { name: 'filter gradient 3x3 in batch chunks', op: 'filter', x: [5, 6, 6, 4], filter: [3, 3, 4, 6], strides: 1, pad: 'same', chunkLimit: 2 * 36 * 36 },
  { name: 'filter gradient, tiny dy (loss scaling)', op: 'filter', x: [2, 8, 8, 12], filter: [3, 3, 12, 20], strides: 1, pad: 'same', dyScale: 1e-7 },
  { name: 'input gradient 1x1 stride 1', op: 'input', x: [2, 9, 9, 24], filter: [1, 1, 24, 40], strides: 1, pad: 'same' },
  { name: 'input gradient 1x1, tiny dy (loss scaling)', op: 'input', x: [2, 6, 6, 24], filter: [1, 1, 24, 40], strides: 1, pad: 'same', dyScale: 1e-7 },
  { name: 'input gradient 3x3 (stays float32)', op: 'input', x: [2, 8, 8, 12], filter: [3, 3, 12, 20], strides: 1, pad: 'same' },
  { name: 'input gradient 1x1 stride 2 (stays float32)', op: 'input', x: [2, 10, 10, 16], filter: [1, 1, 16, 32], strides: 2, pad: 'valid' },
];

export interface MixedResult {
  device: string;
  hasHalf: boolean;
  cases: string[];
  cpu: number[][];
  float32: number[][];
  mixed: number[][];
  /** Dispatches recorded by each mixed-precision call. */
  dispatches: number[];
}

/** The case's inputs, made (and uploaded by their first use) before `kernel` is called and counted. */
function prepare(c: MixedCase, i: number): () => tf.Tensor {
  const x = seededTensor(c.x, 100 + i);
  const w = seededTensor(c.filter, 300 + i, 0.2);
  const outShape = tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape;
  const dy = seededTensor(outShape, 200 + i, c.dyScale ?? 1);
  const bias = seededTensor([c.filter[3]], 400 + i);
  const conv = { strides: [c.strides, c.strides], pad: c.pad, dataFormat: 'NHWC' };
  tf.dispose(tf.addN([tf.sum(x), tf.sum(w), tf.sum(dy), tf.sum(bias)]));
  switch (c.op) {
    case 'forward':
      return () => tf.engine().runKernel('Conv2D', { x, filter: w }, { ...conv, dilations: [1, 1] }) as tf.Tensor;
    case 'forwardBias':
      return () => tf.engine().runKernel('FusedConv2D', { x, filter: w, bias }, { ...conv, dilations: [1, 1], activation: 'linear' }) as tf.Tensor;
    case 'filter':
      return () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: c.filter }) as tf.Tensor;
    case 'input':
      return () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...conv, inputShape: c.x }) as tf.Tensor;
  }
}

async function results(count: boolean): Promise<{ values: number[][]; dispatches: number[] }> {
  const values: number[][] = [];
  const dispatches: number[] = [];
  for (const [i, c] of MIXED_CASES.entries()) {
    const previous = c.chunkLimit ? setHalfIm2ColMaxElements(c.chunkLimit) : undefined;
    try {
      const out = tf.tidy(() => {
        // Inputs are uploaded before counting, so only the kernel's own dispatches are counted.
        const kernel = prepare(c, i);
        const counter = count ? countDispatches() : undefined;
        const t = kernel();
        dispatches.push(counter?.stop() ?? 0);
        return t;
      });
      values.push(Array.from(await out.data()));
      out.dispose();
    } finally {
      if (previous !== undefined) setHalfIm2ColMaxElements(previous);
    }
  }
  return { values, dispatches };
}

async function main(): Promise<void> {
  await initEngine('cpu');
  const cpu = (await results(false)).values;
  const loaded = await initEngine('webgpu');
  const float32 = (await results(false)).values;
  useWebGpuPrecision('mixed');
  const mixed = await results(true);
  const result: MixedResult = { device: loaded.device ?? '', hasHalf: deviceHasHalf(webgpuBackend()!), cases: MIXED_CASES.map((c) => c.name), cpu, float32, mixed: mixed.values, dispatches: mixed.dispatches };
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(result) + '\n', () => resolve()));
}

if (require.main === module) exitWhenDone(main);
