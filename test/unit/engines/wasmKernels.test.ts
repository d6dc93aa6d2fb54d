import assert from 'node:assert/strict';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../../src/backend/engines/load';
import { WASM_GRADIENT_KERNELS, WASM_REPLACED_KERNELS, projectWasmKernels, registerWasmGradientKernels } from '../../../src/backend/engines/wasmKernels';
import { createRng, gaussian } from '../../../src/shared/random';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  batch: number;
  size: [number, number];
  inChannels: number;
  /** Output channels for Conv2D, channel multiplier for depthwise. */
  channels: number;
  kernel: number;
  stride: number;
  pad: Pad;
}

function randomArray(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gaussian(rng);
  return a;
}

/** Runs a kernel on a backend from plain arrays, so each backend gets its own fresh input tensors. */
async function runOn(backend: string, kernel: string, inputs: Record<string, { values: Float32Array; shape: number[] }>, attrs: object): Promise<Float32Array> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape, 'float32')]));
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = out.dataSync() as Float32Array;
  out.dispose();
  for (const t of Object.values(tensors)) t.dispose();
  return values;
}

/** max |a − b| relative to the reference's largest magnitude (at least 1). */
function maxError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return worst / scale;
}

function label(c: Case): string {
  const pad = typeof c.pad === 'string' ? c.pad : `explicit ${JSON.stringify(c.pad.slice(1, 3))}`;
  return `${c.batch}×${c.size.join('×')}×${c.inChannels} k${c.kernel} s${c.stride} ${pad} ch${c.channels}`;
}

const conv2dCases: Case[] = [
  { batch: 2, size: [9, 9], inChannels: 5, channels: 7, kernel: 1, stride: 1, pad: 'same' },
  { batch: 2, size: [9, 9], inChannels: 24, channels: 16, kernel: 1, stride: 2, pad: 'valid' },
  { batch: 2, size: [10, 11], inChannels: 3, channels: 8, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [10, 11], inChannels: 17, channels: 5, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [12, 12], inChannels: 4, channels: 6, kernel: 3, stride: 2, pad: 'valid' },
  { batch: 1, size: [16, 15], inChannels: 3, channels: 8, kernel: 7, stride: 2, pad: 'same' },
  { batch: 2, size: [13, 13], inChannels: 6, channels: 4, kernel: 7, stride: 1, pad: 'valid' },
  { batch: 1, size: [8, 9], inChannels: 4, channels: 3, kernel: 3, stride: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  // pixels × patch size > the 4 Mi-float im2col chunk: exercises accumulation across chunks.
  { batch: 1, size: [64, 64], inChannels: 24, channels: 4, kernel: 7, stride: 1, pad: 'same' },
];

/** Input-gradient shapes the network layers produce beyond conv2dCases: 1×1 strided (ResNet), 'same' with even sizes, 5×5. */
const inputGradientCases: Case[] = [
  { batch: 2, size: [8, 8], inChannels: 6, channels: 12, kernel: 1, stride: 2, pad: 'same' },
  { batch: 1, size: [7, 9], inChannels: 5, channels: 3, kernel: 1, stride: 2, pad: 'valid' },
  { batch: 2, size: [8, 10], inChannels: 7, channels: 9, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [11, 11], inChannels: 4, channels: 6, kernel: 5, stride: 1, pad: 'same' },
  { batch: 1, size: [10, 10], inChannels: 20, channels: 24, kernel: 1, stride: 1, pad: 'valid' },
];

const depthwiseCases: Case[] = [
  { batch: 2, size: [9, 9], inChannels: 5, channels: 1, kernel: 1, stride: 1, pad: 'same' },
  { batch: 2, size: [10, 11], inChannels: 8, channels: 1, kernel: 3, stride: 1, pad: 'same' },
  { batch: 2, size: [10, 11], inChannels: 8, channels: 1, kernel: 3, stride: 2, pad: 'same' },
  { batch: 1, size: [12, 12], inChannels: 6, channels: 2, kernel: 3, stride: 2, pad: 'valid' },
  { batch: 2, size: [9, 10], inChannels: 3, channels: 3, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 1, size: [15, 16], inChannels: 4, channels: 1, kernel: 7, stride: 2, pad: 'same' },
  { batch: 1, size: [14, 14], inChannels: 4, channels: 2, kernel: 7, stride: 1, pad: 'valid' },
  { batch: 1, size: [8, 9], inChannels: 4, channels: 2, kernel: 3, stride: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  // Channel multiplier 1 takes the convolution path: strides 2 with even and odd sizes, explicit and large pads.
  { batch: 2, size: [8, 8], inChannels: 7, channels: 1, kernel: 3, stride: 2, pad: 'same' },
  { batch: 1, size: [9, 8], inChannels: 5, channels: 1, kernel: 3, stride: 2, pad: 'valid' },
  { batch: 1, size: [8, 9], inChannels: 4, channels: 1, kernel: 3, stride: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  { batch: 1, size: [6, 6], inChannels: 3, channels: 1, kernel: 3, stride: 1, pad: [[0, 0], [3, 0], [0, 3], [0, 0]] },
  { batch: 1, size: [12, 13], inChannels: 3, channels: 1, kernel: 5, stride: 2, pad: 'same' },
];

function convShapes(c: Case, depthwise: boolean) {
  const xShape: [number, number, number, number] = [c.batch, c.size[0], c.size[1], c.inChannels];
  const filterShape: [number, number, number, number] = [c.kernel, c.kernel, c.inChannels, c.channels];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, c.stride, 1, c.pad, undefined, depthwise);
  return { xShape, filterShape, dyShape: info.outShape };
}

describe('engines › wasm gradient kernels', function () {
  before(async () => {
    await initEngine('cpu');
    await initEngine('wasm');
  });
  after(async () => {
    await initEngine('cpu');
  });

  it('registers the kernels that tfjs-backend-wasm lacks and replaces its scalar Conv2DBackpropInput', () => {
    for (const name of WASM_GRADIENT_KERNELS) {
      assert.ok(tf.getKernel(name, 'wasm'), `${name} registered for wasm`);
      assert.ok(tf.getKernel(name, 'cpu'), `${name} exists on cpu (the reference)`);
    }
    const all = [...WASM_GRADIENT_KERNELS, ...WASM_REPLACED_KERNELS, 'LesionLabBatchNormTrain', 'LesionLabBatchNormGrad', 'LesionLabRelu6Grad'];
    assert.deepEqual(projectWasmKernels(), all);
    // Registering again (another initEngine) keeps one of each, and the stock kernel can be put back.
    registerWasmGradientKernels([]);
    assert.deepEqual(projectWasmKernels(), [...WASM_GRADIENT_KERNELS]);
    assert.ok(tf.getKernel('Conv2DBackpropInput', 'wasm'), 'the stock kernel is back');
    registerWasmGradientKernels();
    assert.deepEqual(projectWasmKernels(), all);
  });

  for (const c of conv2dCases) {
    it(`Conv2DBackpropFilter matches cpu: ${label(c)}`, async () => {
      const { xShape, filterShape, dyShape } = convShapes(c, false);
      const inputs = {
        x: { values: randomArray(xShape.reduce((a, b) => a * b), 1), shape: xShape },
        dy: { values: randomArray(dyShape.reduce((a, b) => a * b), 2), shape: dyShape },
      };
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape };
      const expected = await runOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
      const actual = await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
      assert.ok(maxError(actual, expected) < 1e-4, `error ${maxError(actual, expected)}`);
    });
  }

  for (const [aShape, bShape, transposeA, transposeB] of [
    [[1, 5, 7], [1, 5, 3], true, false],
    [[1, 5, 7], [1, 3, 7], false, true],
    [[1, 7, 5], [1, 3, 7], true, true],
    [[3, 6, 4], [3, 5, 4], false, true],
    [[2, 6, 4], [2, 6, 5], true, false],
    [[32, 1280], [1000, 1280], false, true],
  ] as [number[], number[], boolean, boolean][]) {
    it(`BatchMatMul matches cpu: ${aShape.join('×')}${transposeA ? 'ᵀ' : ''} · ${bShape.join('×')}${transposeB ? 'ᵀ' : ''}`, async () => {
      const inputs = {
        a: { values: randomArray(aShape.reduce((x, y) => x * y), 16), shape: aShape },
        b: { values: randomArray(bShape.reduce((x, y) => x * y), 17), shape: bShape },
      };
      const attrs = { transposeA, transposeB };
      const expected = await runOn('cpu', 'BatchMatMul', inputs, attrs);
      const actual = await runOn('wasm', 'BatchMatMul', inputs, attrs);
      assert.ok(maxError(actual, expected) < 1e-4, `error ${maxError(actual, expected)}`);
    });
  }

  for (const c of [...conv2dCases, ...inputGradientCases]) {
    it(`Conv2DBackpropInput matches cpu: ${label(c)}`, async () => {
      const { xShape, filterShape, dyShape } = convShapes(c, false);
      const inputs = {
        dy: { values: randomArray(dyShape.reduce((a, b) => a * b), 14), shape: dyShape },
        filter: { values: randomArray(filterShape.reduce((a, b) => a * b), 15), shape: filterShape },
      };
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: xShape };
      const expected = await runOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
      const actual = await runOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
      assert.ok(maxError(actual, expected) < 1e-4, `error ${maxError(actual, expected)}`);
    });
  }

  for (const c of depthwiseCases) {
    it(`DepthwiseConv2dNativeBackpropFilter matches cpu: ${label(c)}`, async () => {
      const { xShape, filterShape, dyShape } = convShapes(c, true);
      const inputs = {
        x: { values: randomArray(xShape.reduce((a, b) => a * b), 3), shape: xShape },
        dy: { values: randomArray(dyShape.reduce((a, b) => a * b), 4), shape: dyShape },
      };
      const attrs = { strides: c.stride, pad: c.pad, dilations: 1, filterShape };
      const expected = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', inputs, attrs);
      const actual = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', inputs, attrs);
      assert.ok(maxError(actual, expected) < 1e-4, `error ${maxError(actual, expected)}`);
    });

    it(`DepthwiseConv2dNativeBackpropInput matches cpu: ${label(c)}`, async () => {
      const { xShape, filterShape, dyShape } = convShapes(c, true);
      const inputs = {
        dy: { values: randomArray(dyShape.reduce((a, b) => a * b), 5), shape: dyShape },
        filter: { values: randomArray(filterShape.reduce((a, b) => a * b), 6), shape: filterShape },
      };
      const attrs = { strides: c.stride, pad: c.pad, dilations: 1, inputShape: xShape };
      const expected = await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', inputs, attrs);
      const actual = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', inputs, attrs);
      assert.ok(maxError(actual, expected) < 1e-4, `error ${maxError(actual, expected)}`);
    });
  }

  it('gives the same gradients as cpu through tf.grads of a conv → depthwise → conv chain', async () => {
    const x = { values: randomArray(2 * 12 * 12 * 3, 7), shape: [2, 12, 12, 3] };
    const w1 = { values: randomArray(3 * 3 * 3 * 8, 8), shape: [3, 3, 3, 8] };
    const w2 = { values: randomArray(3 * 3 * 8 * 1, 9), shape: [3, 3, 8, 1] };
    const w3 = { values: randomArray(1 * 1 * 8 * 4, 10), shape: [1, 1, 8, 4] };
    const gradsOn = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const [xt, a, b, c] = [x, w1, w2, w3].map((v) => tf.tensor(v.values, v.shape));
        const f = (xi: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, ci: tf.Tensor): tf.Scalar => {
          let h = tf.relu(tf.conv2d(xi as tf.Tensor4D, ai as tf.Tensor4D, 2, 'same'));
          h = tf.depthwiseConv2d(h as tf.Tensor4D, bi as tf.Tensor4D, 1, 'same');
          return tf.sum(tf.square(tf.conv2d(h as tf.Tensor4D, ci as tf.Tensor4D, 1, 'valid')));
        };
        return tf.grads(f)([xt!, a!, b!, c!]).map((g) => g.dataSync() as Float32Array);
      });
    };
    const expected = await gradsOn('cpu');
    const actual = await gradsOn('wasm');
    expected.forEach((e, i) => assert.ok(maxError(actual[i]!, e) < 1e-4, `gradient ${i}: error ${maxError(actual[i]!, e)}`));
  });

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const x = tf.tensor(randomArray(2 * 10 * 10 * 6, 11), [2, 10, 10, 6]);
    const dy = tf.tensor(randomArray(2 * 5 * 5 * 6, 12), [2, 5, 5, 6]);
    const filter = tf.tensor(randomArray(3 * 3 * 6 * 1, 13), [3, 3, 6, 1]);
    const pointwise = tf.ones([1, 1, 6, 6]);
    const dense = tf.ones([3, 3, 6, 6]);
    const before = { tensors: tf.memory().numTensors, dataIds: backend.numDataIds() };
    for (let i = 0; i < 3; i++) {
      const a = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 6, 6] }) as tf.Tensor;
      const b = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 6, 1] }) as tf.Tensor;
      const c = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dilations: 1, inputShape: [2, 10, 10, 6] }) as tf.Tensor;
      const d = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: pointwise }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 10, 10, 6] }) as tf.Tensor;
      const e = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: dense }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 5, 5, 6] }) as tf.Tensor;
      tf.dispose([a, b, c, d, e]);
    }
    assert.deepEqual({ tensors: tf.memory().numTensors, dataIds: backend.numDataIds() }, before);
    tf.dispose([x, dy, filter, pointwise, dense]);
  });

  it('refuses dilations other than 1 with a clear message', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 8, 8, 2]);
    const dy = tf.zeros([1, 4, 4, 2]);
    assert.throws(
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dilations: 2, filterShape: [3, 3, 2, 1] }),
      /dilation 1 only/,
    );
    tf.dispose([x, dy]);
  });
});
