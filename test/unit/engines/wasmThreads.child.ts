/**
 * Starts the wasm engine with `--threads` = argv[2] in a fresh process (TF.js reads the thread count once per
 * process) and prints, as one JSON line, what it reports, how many threads the project's own kernels run on, and
 * fingerprints of a convolution, a filter gradient and three training steps of a small model. It ends without process.exit, so a pthread worker that kept the process alive would show as a timeout.
 */
import { createHash } from 'node:crypto';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { heapThreads } from '../../../src/backend/engines/heapWorkers';
import { initEngine } from '../../../src/backend/engines/load';
import { createOptimizer } from '../../../src/backend/engines/webgpu/fusedOptimizers';
import { kerasBatchNormalization } from '../../../src/backend/models/kerasBatchNorm';
import { kerasReLU } from '../../../src/backend/models/kerasReLU';
import { seededTensor } from '../../helpers/seededTensor';

async function main(): Promise<void> {
  const threads = Number(process.argv[2]);
  const loaded = await initEngine('wasm', { threads });
  const x = seededTensor([4, 20, 20, 16], 1) as tf.Tensor4D;
  const w = tf.variable(seededTensor([3, 3, 16, 32], 2));
  const conv = tf.conv2d(x, w as unknown as tf.Tensor4D, 1, 'same');
  const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.conv2d(x, w as unknown as tf.Tensor4D, 2, 'same'))), [w]);
  const hash = (t: tf.Tensor) => createHash('sha256').update(Buffer.from((t.dataSync() as Float32Array).buffer)).digest('hex');
  const backend = tf.backend() as BackendWasm & { wasm: { tfjs: { getThreadsCount(): number } } };
  const weights = await trainSteps();
  process.stdout.write(
    `${JSON.stringify({ device: loaded.device, threads: loaded.threads, xnnpackThreads: backend.wasm.tfjs.getThreadsCount(), kernelThreads: heapThreads(), conv: hash(conv), grad: hash(grads[w.name]!), weights })}\n`,
  );
}

/**
 * Three RMSprop steps of conv → BN → ReLU6 → depthwise (stride 2) → BN → ReLU6 → GAP → dense, big enough (8×32×32×32
 * activations) that the project's JavaScript kernels split over the threads; a hash of the weights after.
 */
async function trainSteps(): Promise<string> {
  const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const input = tfl.input({ shape: [32, 32, 3] });
  let h = tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: seeded(1) }).apply(input) as tfl.SymbolicTensor;
  h = kerasReLU({ maxValue: 6 }).apply(kerasBatchNormalization({ axis: 3 }).apply(h)) as tfl.SymbolicTensor;
  h = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false, depthwiseInitializer: seeded(2) }).apply(h) as tfl.SymbolicTensor;
  h = kerasReLU({ maxValue: 6 }).apply(kerasBatchNormalization({ axis: 3 }).apply(h)) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 64, kernelSize: 1, kernelInitializer: seeded(3) }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: seeded(4) }).apply(h) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  model.compile({ optimizer: createOptimizer('rmsprop', 1e-2, 'wasm'), loss: 'categoricalCrossentropy' });
  const x = seededTensor([8, 32, 32, 3], 5);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), 5);
  for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
  const digest = createHash('sha256');
  for (const t of model.getWeights()) digest.update(Buffer.from((t.dataSync() as Float32Array).buffer));
  return digest.digest('hex');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
