/**
 * The batch-norm parity workload shared by the engine tests (test/backend/webgpuBatchNorm.child.ts on webgpu,
 * test/unit/engines/wasmBatchNorm.test.ts on wasm): the same BatchNormalization layers and the same small
 * conv + BN model, run on whichever engine is active, for comparison with the stock layer on `cpu`.
 *   - per shape: the training-mode output, the moving mean/variance after that one update, and the gradients of
 *     a weighted sum of the output w.r.t. x, γ and β; the kernel calls (webgpu: GPU dispatches) of the forward
 *     pass, and the inference-mode output (the stock path) after the update;
 *   - TRAIN_STEPS trainOnBatch losses of a seeded conv + BN model, its moving statistics afterwards, and the
 *     number of live tensors after each step (a leak would grow it), with the calls of its last step.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { EngineName } from '../../src/shared/protocol/engines';
import { createOptimizer } from '../../src/backend/engines/webgpu/fusedOptimizers';
import { kerasBatchNormalization } from '../../src/backend/models/kerasBatchNorm';
import { createRng, gaussian, uniform } from '../../src/shared/random';
import { countWork } from './kernelCalls';
import { seededTensor } from './seededTensor';

export interface BatchNormCase {
  name: string;
  shape: number[];
  epsilon: number;
  momentum: number;
}

export const BATCH_NORM_CASES: BatchNormCase[] = [
  { name: '[2,8,8,16]', shape: [2, 8, 8, 16], epsilon: 1e-3, momentum: 0.99 },
  { name: '[2,16,16,64] (ResNet ε)', shape: [2, 16, 16, 64], epsilon: 1.001e-5, momentum: 0.99 },
  { name: '[1,7,7,2048]', shape: [1, 7, 7, 2048], epsilon: 1.001e-5, momentum: 0.9 },
  { name: '[3,5,5,24] (channels not a power of two)', shape: [3, 5, 5, 24], epsilon: 1e-3, momentum: 0.99 },
  { name: '[2,6,6,96] (a partial channel tile)', shape: [2, 6, 6, 96], epsilon: 1e-3, momentum: 0.99 },
  { name: '[4,32,32,8] (many row chunks)', shape: [4, 32, 32, 8], epsilon: 1e-3, momentum: 0.99 },
  { name: '[5,12] (rank 2)', shape: [5, 12], epsilon: 1e-3, momentum: 0.99 },
];

export const TRAIN_STEPS = 5;

export interface CaseResult {
  y: number[];
  movingMean: number[];
  movingVariance: number[];
  dx: number[];
  dgamma: number[];
  dbeta: number[];
  /** Inference mode after the update (moving statistics). */
  inference: number[];
  /** GPU dispatches (webgpu) or kernel calls of the training-mode forward pass. */
  forwardDispatches?: number;
}

export interface EngineResult {
  engine: EngineName;
  device?: string;
  kernels: string[];
  cases: CaseResult[];
  losses: number[];
  /** The model's moving means and variances after training, concatenated. */
  movingStatistics: number[];
  tensorsAfterStep: number[];
  /** GPU dispatches (webgpu) or kernel calls of the last training step. */
  stepDispatches?: number;
  /** The same training with the batch-norm kernels unregistered (the stock ops on this engine). */
  stockBatchNorm?: TrainingResult;
}

export type TrainingResult = Pick<EngineResult, 'losses' | 'movingStatistics' | 'tensorsAfterStep' | 'stepDispatches'>;

/** Activations with per-channel means far from 0 and varied spreads, like a conv layer's output. */
function activations(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  const channels = shape[shape.length - 1]!;
  const means = Array.from({ length: channels }, () => uniform(rng, -4, 4));
  const stds = Array.from({ length: channels }, () => uniform(rng, 0.2, 3));
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => gaussian(rng) * stds[i % channels]! + means[i % channels]!), shape, 'float32');
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

export async function caseResult(c: BatchNormCase, index: number, engine: EngineName): Promise<CaseResult> {
  const channels = c.shape[c.shape.length - 1]!;
  const layer = kerasBatchNormalization({ axis: c.shape.length - 1, epsilon: c.epsilon, momentum: c.momentum });
  layer.build(c.shape);
  const seed = 1000 * (index + 1);
  layer.setWeights([
    seededTensor([channels], seed + 1, 0.3, 1), // gamma
    seededTensor([channels], seed + 2, 0.5), // beta
    seededTensor([channels], seed + 3, 2), // moving mean
    tf.abs(seededTensor([channels], seed + 4, 1, 1.5)), // moving variance
  ]);
  const x = tf.variable(activations(c.shape, seed + 5), true, `x_${index}_${engine}`);
  const weights = seededTensor(c.shape, seed + 6);
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable) as [tf.Variable, tf.Variable];

  const counter = countWork(engine);
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const forwardDispatches = counter?.stop();
  const yValues = await values(y);
  const [movingMean, movingVariance] = layer.getWeights().slice(2) as [tf.Tensor, tf.Tensor];
  const moving = [await values(movingMean), await values(movingVariance)];

  // A second training-mode pass under the tape (moving statistics move again; not compared).
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, weights)) as tf.Scalar, [x, gamma, beta]);
  const result: CaseResult = {
    y: yValues,
    movingMean: moving[0]!,
    movingVariance: moving[1]!,
    dx: await values(grads[x.name]!),
    dgamma: await values(grads[gamma.name]!),
    dbeta: await values(grads[beta.name]!),
    inference: [],
    forwardDispatches,
  };
  layer.setWeights([gamma, beta, tf.tensor(moving[0]!), tf.tensor(moving[1]!)]);
  const inference = layer.apply(x, { training: false }) as tf.Tensor;
  result.inference = await values(inference);
  tf.dispose([x, weights, y, inference, ...Object.values(grads)]);
  // Layer.dispose() only works for layers called symbolically; these were called on tensors.
  for (const w of layer.weights) w.dispose();
  return result;
}

/** conv(8, 3×3) → BN → relu → conv(16, 3×3, stride 2) → BN → relu → GAP → dense(4, softmax), weights from fixed seeds. */
function smallModel(engine: EngineName): tfl.LayersModel {
  const input = tfl.input({ shape: [12, 12, 3] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  x = kerasBatchNormalization({ axis: 3, epsilon: 1.001e-5, momentum: 0.9, name: 'bn1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', name: 'c2' }).apply(x) as tfl.SymbolicTensor;
  x = kerasBatchNormalization({ axis: 3, epsilon: 1e-3, momentum: 0.9, name: 'bn2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 4, activation: 'softmax', name: 'out' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  // Rebuilt deterministically: every weight from its own seed, in the model's (fixed) weight order.
  model.setWeights(
    model.weights.map((w, i) => {
      if (w.name.includes('moving_variance')) return tf.abs(seededTensor(w.shape as number[], 50 + i, 0.5, 1));
      if (w.name.includes('gamma')) return seededTensor(w.shape as number[], 50 + i, 0.2, 1);
      return seededTensor(w.shape as number[], 50 + i, 0.3);
    }),
  );
  model.compile({ optimizer: createOptimizer('rmsprop', 1e-2, engine), loss: 'categoricalCrossentropy' });
  return model;
}

export async function trainSmallModel(engine: EngineName): Promise<TrainingResult> {
  const model = smallModel(engine);
  const x = activations([6, 12, 12, 3], 77);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 1, 2], 'int32'), 4);
  const losses: number[] = [];
  const tensorsAfterStep: number[] = [];
  let stepDispatches: number | undefined;
  for (let step = 0; step < TRAIN_STEPS; step++) {
    const counter = countWork(engine);
    losses.push((await model.trainOnBatch(x, y)) as number);
    stepDispatches = counter?.stop();
    tensorsAfterStep.push(tf.memory().numTensors);
  }
  const movingStatistics: number[] = [];
  for (const w of model.weights.filter((w) => w.name.includes('moving_'))) movingStatistics.push(...(await values(w.read())));
  model.dispose();
  tf.dispose([x, y]);
  return { losses, movingStatistics, tensorsAfterStep, stepDispatches };
}

