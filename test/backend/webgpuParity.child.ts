/**
 * Child program of webgpu.test.ts (it needs the Vulkan variables from process start, so it cannot run inside
 * mocha): builds the same small MobileNetV2-like model twice from seeded initialisers, trains each a few SGD
 * steps on the same fixed batches — on the `cpu` engine, on `webgpu`, and on `webgpu` in mixed precision — and prints one JSON line with
 * per-step losses and the initial and final weights of both, for the test to compare.
 *   node --require tsx/cjs test/backend/webgpuParity.child.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { EngineName } from '../../src/shared/protocol/engines';
import type { Precision } from '../../src/shared/protocol/jobs';
import { initEngine, usePrecision } from '../../src/backend/engines/load';
import { createRng, gaussian, randomInt } from '../../src/shared/random';
import { exitWhenDone } from '../helpers/vulkan';

const STEPS = 5;
const BATCH = 8;
const SIZE = 16;
const CLASSES = 7;

export interface EngineTrace {
  engine: EngineName;
  device?: string;
  losses: number[];
  /** model.getWeights() in layer order (trainable and batch-norm moving statistics), flattened. */
  initialWeights: number[][];
  finalWeights: number[][];
  weightNames: string[];
  /** Distinct compute shaders the webgpu backend compiled (0 on cpu): proof that the GPU path ran. */
  gpuPrograms: number;
  seconds: number;
}

/** Conv → BN → ReLU6 → depthwise → BN → ReLU6 → pointwise → BN, a residual add, pooling and a softmax head. */
function buildModel(tag: string): tfl.LayersModel {
  const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const bn = (name: string, seed: number) =>
    tfl.layers.batchNormalization({
      name: `${tag}_${name}`,
      gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed }),
      betaInitializer: tfl.initializers.randomNormal({ stddev: 0.1, seed: seed + 100 }),
    });
  const input = tfl.input({ shape: [SIZE, SIZE, 3], name: `${tag}_input` });
  const stem = tfl.layers.conv2d({ name: `${tag}_stem`, filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: seeded(1) }).apply(input) as tfl.SymbolicTensor;
  let x = bn('stem_bn', 2).apply(stem) as tfl.SymbolicTensor;
  const blockIn = tfl.layers.reLU({ name: `${tag}_stem_relu`, maxValue: 6 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ name: `${tag}_dw`, kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: seeded(3) }).apply(blockIn) as tfl.SymbolicTensor;
  x = bn('dw_bn', 4).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: `${tag}_dw_relu`, maxValue: 6 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ name: `${tag}_project`, filters: 8, kernelSize: 1, useBias: false, kernelInitializer: seeded(5) }).apply(x) as tfl.SymbolicTensor;
  x = bn('project_bn', 6).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.add({ name: `${tag}_add` }).apply([blockIn, x]) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: `${tag}_gap` }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ name: `${tag}_logits`, units: CLASSES, activation: 'softmax', kernelInitializer: seeded(7) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ name: `parity_${tag}`, inputs: input, outputs: output });
}

/** The same batches for every engine: images ~ N(0, 1), labels uniform over the classes. */
function fixedBatches(): { x: Float32Array; y: Float32Array }[] {
  const rng = createRng(20250520);
  return Array.from({ length: STEPS }, () => {
    const x = new Float32Array(BATCH * SIZE * SIZE * 3);
    for (let i = 0; i < x.length; i++) x[i] = gaussian(rng);
    const y = new Float32Array(BATCH * CLASSES);
    for (let b = 0; b < BATCH; b++) y[b * CLASSES + randomInt(rng, CLASSES)] = 1;
    return { x, y };
  });
}

async function weightsOf(model: tfl.LayersModel): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

async function trainOn(engine: EngineName, precision: Precision = 'float32'): Promise<EngineTrace> {
  const started = Date.now();
  const loaded = await initEngine(engine);
  const used = usePrecision(precision);
  if (used.precision !== precision) throw new Error(used.note);
  const model = buildModel(`${engine}${precision === 'mixed' ? 'mixed' : ''}`.replace(/\W/g, '_'));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const initialWeights = await weightsOf(model);
  const losses: number[] = [];
  for (const batch of fixedBatches()) {
    const x = tf.tensor4d(batch.x, [BATCH, SIZE, SIZE, 3]);
    const y = tf.tensor2d(batch.y, [BATCH, CLASSES]);
    const loss = await model.trainOnBatch(x, y);
    losses.push(Array.isArray(loss) ? loss[0]! : loss);
    tf.dispose([x, y]);
  }
  const finalWeights = await weightsOf(model);
  // Names without the engine tag, so the two traces line up by name as well as by order.
  const weightNames = model.weights.map((w) => w.originalName.replace(/^[^_]+_/, ''));
  model.dispose();
  const gpuPrograms = Object.keys((tf.backend() as { pipelineCache?: object }).pipelineCache ?? {}).length;
  return { engine, device: loaded.device, losses, initialWeights, finalWeights, weightNames, gpuPrograms, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const cpu = await trainOn('cpu');
  const webgpu = await trainOn('webgpu');
  const mixed = await trainOn('webgpu', 'mixed');
  process.stdout.write(JSON.stringify({ steps: STEPS, cpu, webgpu, mixed }) + '\n');
}

if (require.main === module) exitWhenDone(main);
