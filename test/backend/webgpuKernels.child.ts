/**
 * Child program of webgpuKernels.test.ts (the Vulkan variables must be set at process start): computes the same
 * things on the `cpu` engine (stock TF.js) and on `webgpu` (the project's kernels and fused optimizers) and
 * prints one JSON line for the test to compare:
 *   - Conv2DBackpropFilter on several shapes, strides and paddings (and the batch-chunked im2col path);
 *   - DepthwiseConv2dNativeBackpropFilter likewise (and GPU dispatches per call), plus a channel multiplier of 2
 *     (the stock kernel's, through the fallback);
 *   - N optimizer steps on fixed gradients with RMSprop, Adam and SGD-momentum: final variables, the
 *     optimizer's getWeights() (names and values), dispatches per step, and a resume through getWeights/setWeights.
 *   node --require tsx/cjs test/backend/webgpuKernels.child.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EngineName } from '../../src/shared/protocol/engines';
import { checkEngineHealth, initEngine } from '../../src/backend/engines/load';
import { setIm2ColMaxElements } from '../../src/backend/engines/webgpu/conv2dBackpropFilter';
import { countDispatches } from '../../src/backend/engines/webgpu/dispatchCounter';
import type { OptimizerName } from '../../src/backend/engines/webgpu/fusedOptimizers';
import { createOptimizer } from '../../src/backend/engines/webgpu/fusedOptimizers';
import { activeWebGpuKernels } from '../../src/backend/engines/webgpu/register';
import { webgpuBackend } from '../../src/backend/engines/webgpu/backendInternals';
import { seededTensor } from '../helpers/seededTensor';
import { exitWhenDone } from '../helpers/vulkan';

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
  /** im2col chunk limit in elements (0: the default). */
  chunkLimit?: number;
}

export const CONV_CASES: ConvCase[] = [
  { name: '1x1 stride 1 (pointwise)', x: [2, 9, 9, 16], filter: [1, 1, 16, 24], strides: 1, pad: 'valid' },
  { name: '1x1 stride 1 same', x: [3, 5, 7, 8], filter: [1, 1, 8, 12], strides: 1, pad: 'same' },
  { name: '1x1 stride 2 (ResNet shortcut)', x: [2, 10, 10, 16], filter: [1, 1, 16, 32], strides: 2, pad: 'valid' },
  { name: '3x3 stride 1 same', x: [2, 8, 8, 12], filter: [3, 3, 12, 20], strides: 1, pad: 'same' },
  { name: '3x3 stride 2 same, odd size', x: [2, 11, 9, 6], filter: [3, 3, 6, 10], strides: 2, pad: 'same' },
  { name: '3x3 stride 2 valid', x: [1, 13, 13, 5], filter: [3, 3, 5, 7], strides: 2, pad: 'valid' },
  { name: '7x7 stride 2 same (ResNet stem)', x: [2, 32, 32, 3], filter: [7, 7, 3, 16], strides: 2, pad: 'same' },
  { name: '3x3 same, long reduction', x: [4, 24, 24, 8], filter: [3, 3, 8, 8], strides: 1, pad: 'same' },
  { name: '3x3 same, im2col in batch chunks', x: [5, 6, 6, 4], filter: [3, 3, 4, 6], strides: 1, pad: 'same', chunkLimit: 2 * 36 * 36 },
  { name: '3x3 same, im2col chunks that split images', x: [3, 6, 6, 4], filter: [3, 3, 4, 6], strides: 1, pad: 'same', chunkLimit: 500 },
  // At WebGPU's default limits only (it takes ~20 s on cpu): 8·64·64 rows × 1,152 columns = 151 MB of im2col,
  // more than the default 128 MiB storage binding, so it must be cut at the device's limit, not at 256 MiB.
  ...(process.env.LESION_LAB_WEBGPU_LIMITS === 'default'
    ? [{ name: '3x3 same, im2col past 128 MiB (chunked to the device limit)', x: [8, 64, 64, 128], filter: [3, 3, 128, 1], strides: 1, pad: 'same' } satisfies ConvCase]
    : []),
];

export interface DepthwiseCase {
  name: string;
  x: [number, number, number, number];
  /** [fh, fw, C, channel multiplier] */
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid' | number;
}

export const DEPTHWISE_CASES: DepthwiseCase[] = [
  { name: '3x3 stride 1 same', x: [2, 8, 8, 12], filter: [3, 3, 12, 1], strides: 1, pad: 'same' },
  { name: '3x3 stride 2 same, odd size', x: [2, 11, 9, 6], filter: [3, 3, 6, 1], strides: 2, pad: 'same' },
  { name: '3x3 stride 2 valid (MobileNetV2 after ZeroPadding2D)', x: [2, 13, 13, 5], filter: [3, 3, 5, 1], strides: 2, pad: 'valid' },
  { name: '5x5 stride 1 same', x: [3, 9, 7, 16], filter: [5, 5, 16, 1], strides: 1, pad: 'same' },
  { name: '7x7 stride 2 valid', x: [1, 15, 17, 3], filter: [7, 7, 3, 1], strides: 2, pad: 'valid' },
  { name: '3x3 same, long reduction', x: [4, 40, 40, 8], filter: [3, 3, 8, 1], strides: 1, pad: 'same' },
  { name: '3x3 same, 37 channels (partial channel tile)', x: [2, 10, 10, 37], filter: [3, 3, 37, 1], strides: 1, pad: 'same' },
  { name: '3x3 same, 100 channels (partial tile, several tiles)', x: [2, 12, 12, 100], filter: [3, 3, 100, 1], strides: 1, pad: 'same' },
  { name: '3x3 explicit pad 1, 63 channels, one row chunk', x: [1, 4, 5, 63], filter: [3, 3, 63, 1], strides: 1, pad: 1 },
  { name: '3x3 channel multiplier 2 (stock fallback)', x: [2, 7, 7, 4], filter: [3, 3, 4, 2], strides: 1, pad: 'same' },
];

export const OPTIMIZER_STEPS = 4;
const VARIABLE_SHAPES: number[][] = [[3, 3, 4, 8], [8], [20000], [5, 7]];

export interface OptimizerTrace {
  finalVariables: number[][];
  /** getWeights(): iterations first, then the slots, in the stock order. */
  weightNames: string[];
  weightValues: number[][];
  /** After OPTIMIZER_STEPS / 2 steps: getWeights → a new optimizer → setWeights → the remaining steps. */
  resumedVariables: number[][];
  /** GPU dispatches of the last applyGradients call (webgpu only). */
  dispatchesPerStep?: number;
}

export interface EngineResult {
  engine: EngineName;
  device?: string;
  /** The device's maxStorageBufferBindingSize (webgpu only). */
  storageBindingLimit?: number;
  kernels: string[];
  conv: number[][];
  depthwise: number[][];
  /** GPU dispatches of one DepthwiseConv2dNativeBackpropFilter call and its read, per case (webgpu only). */
  depthwiseDispatches: number[];
  optimizers: Record<OptimizerName, OptimizerTrace>;
}

async function convResults(): Promise<number[][]> {
  const out: number[][] = [];
  for (const [i, c] of CONV_CASES.entries()) {
    const previous = c.chunkLimit ? setIm2ColMaxElements(c.chunkLimit) : undefined;
    try {
      const x = seededTensor(c.x, 100 + i);
      const outShape = tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape;
      const dy = seededTensor(outShape, 200 + i);
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [c.strides, c.strides], pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter }) as tf.Tensor;
      out.push(Array.from(await dw.data()));
      tf.dispose([x, dy, dw]);
    } finally {
      if (previous !== undefined) setIm2ColMaxElements(previous);
    }
  }
  return out;
}

async function depthwiseResults(engine: EngineName): Promise<{ values: number[][]; dispatches: number[] }> {
  const values: number[][] = [];
  const dispatches: number[] = [];
  for (const [i, c] of DEPTHWISE_CASES.entries()) {
    const x = seededTensor(c.x, 300 + i);
    const dy = seededTensor(tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, undefined, true).outShape, 400 + i);
    const counter = engine === 'webgpu' ? countDispatches() : undefined;
    const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: [c.strides, c.strides], pad: c.pad, dilations: 1, filterShape: c.filter }) as tf.Tensor;
    values.push(Array.from(await dw.data()));
    if (counter) dispatches.push(counter.stop());
    tf.dispose([x, dy, dw]);
  }
  return { values, dispatches };
}

function gradientsFor(step: number, names: string[]): tf.NamedTensorMap {
  return Object.fromEntries(names.map((n, i) => [n, tf.mul(seededTensor(VARIABLE_SHAPES[i]!, 1000 * step + i), 0.5 + step)]));
}

async function runSteps(opt: tf.Optimizer, vars: tf.Variable[], from: number, to: number, count: boolean): Promise<number | undefined> {
  let dispatches: number | undefined;
  for (let step = from; step < to; step++) {
    const grads = gradientsFor(step, vars.map((v) => v.name));
    // Gradients are ready on the GPU before the count starts, so only the update is counted.
    await Promise.all(Object.values(grads).map((g) => g.data()));
    const counter = count ? countDispatches() : undefined;
    opt.applyGradients(grads);
    dispatches = counter?.stop();
    tf.dispose(Object.values(grads));
  }
  return dispatches;
}

async function optimizerTrace(name: OptimizerName, engine: EngineName): Promise<OptimizerTrace> {
  const makeVars = (tag: string) => VARIABLE_SHAPES.map((s, i) => tf.variable(tf.mul(seededTensor(s, 10 + i), 0.1), true, `${name}_${tag}_${i}`));
  const lr = name === 'sgd' ? 0.05 : 0.01;
  const vars = makeVars('run');
  const opt = createOptimizer(name, lr, engine);
  const dispatchesPerStep = await runSteps(opt, vars, 0, OPTIMIZER_STEPS, engine === 'webgpu');
  const finalVariables = await Promise.all(vars.map(async (v) => Array.from(await v.data())));
  const weights = await opt.getWeights();
  const weightNames = weights.map((w) => w.name.replace(`${name}_run_`, ''));
  const weightValues = await Promise.all(weights.map(async (w) => Array.from(await w.tensor.data())));

  // Resume: half the steps, checkpoint the optimizer, continue with a fresh optimizer on the same variables.
  const resumed = makeVars('resume');
  const first = createOptimizer(name, lr, engine);
  await runSteps(first, resumed, 0, OPTIMIZER_STEPS / 2, false);
  const saved = await first.getWeights();
  const copies = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
  first.dispose();
  const second = createOptimizer(name, lr, engine);
  await second.setWeights(copies);
  await runSteps(second, resumed, OPTIMIZER_STEPS / 2, OPTIMIZER_STEPS, false);
  const resumedVariables = await Promise.all(resumed.map(async (v) => Array.from(await v.data())));

  opt.dispose();
  second.dispose();
  tf.dispose([...vars, ...resumed]);
  return { finalVariables, weightNames, weightValues, resumedVariables, dispatchesPerStep };
}

async function runOn(engine: EngineName): Promise<EngineResult> {
  const loaded = await initEngine(engine);
  const conv = await convResults();
  const depthwise = await depthwiseResults(engine);
  const optimizers = {} as Record<OptimizerName, OptimizerTrace>;
  for (const name of ['rmsprop', 'adam', 'sgd'] as const) optimizers[name] = await optimizerTrace(name, engine);
  const storageBindingLimit = engine === 'webgpu' ? webgpuBackend()!.device.limits.maxStorageBufferBindingSize : undefined;
  // A buffer past the device's limits is a validation error that only shows here (the results would be zeros too).
  await checkEngineHealth();
  return { engine, device: loaded.device, storageBindingLimit, kernels: engine === 'webgpu' ? activeWebGpuKernels() : [], conv, depthwise: depthwise.values, depthwiseDispatches: depthwise.dispatches, optimizers };
}

async function main(): Promise<void> {
  const cpu = await runOn('cpu');
  const webgpu = await runOn('webgpu');
  // A pipe is written asynchronously: exit only once the line is out.
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify({ cases: CONV_CASES.map((c) => c.name), depthwiseCases: DEPTHWISE_CASES.map((c) => c.name), variables: VARIABLE_SHAPES.length, cpu, webgpu }) + '\n', () => resolve()));
}

if (require.main === module) exitWhenDone(main);
