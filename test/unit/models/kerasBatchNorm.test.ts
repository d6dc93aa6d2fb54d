import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModelFromDir, saveModelAtomic } from '../../../src/backend/models/fileIo';
import { KerasBatchNormalization, kerasBatchNormalization } from '../../../src/backend/models/kerasBatchNorm';

/** conv → BN → GAP → dense; the BN's moving statistics start far from the batch's. */
function tinyModel(): { model: tfl.LayersModel; bn: tfl.LayersModel['layers'][number] } {
  const input = tfl.input({ shape: [8, 8, 3] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }).apply(input) as tfl.SymbolicTensor;
  const bn = kerasBatchNormalization({ name: 'bn', momentum: 0.5, movingMeanInitializer: 'ones', movingVarianceInitializer: tfl.initializers.constant({ value: 4 }) });
  x = bn.apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }).apply(x) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: input, outputs: out }), bn };
}

describe('models/kerasBatchNorm: frozen batch norm runs in inference mode (Keras 2 semantics)', () => {
  const x = (): tf.Tensor => tf.randomUniform([4, 8, 8, 3], 0, 3, 'float32', 9);
  const y = (): tf.Tensor => tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);

  before(async () => {
    await tf.setBackend('cpu');
  });

  it('frozen: fit leaves the moving statistics alone and trains the rest against them', async () => {
    const { model, bn } = tinyModel();
    bn.trainable = false;
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const headBefore = Array.from(model.getLayer('out').getWeights()[0]!.dataSync());
    const [xs, ys] = [x(), y()];
    await model.fit(xs, ys, { epochs: 2, batchSize: 4, verbose: 0 });
    const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(after, before, 'gamma, beta, moving mean and variance unchanged');
    assert.notDeepEqual(Array.from(model.getLayer('out').getWeights()[0]!.dataSync()), headBefore, 'the head trained');
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('trainable: fit uses batch statistics and updates the moving averages, as stock BN does', async () => {
    const { model, bn } = tinyModel();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const movingMean = Array.from(bn.getWeights()[2]!.dataSync());
    const [xs, ys] = [x(), y()];
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
    assert.notDeepEqual(Array.from(bn.getWeights()[2]!.dataSync()), movingMean);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('keeps the Keras class name, and a loaded model gets the same behaviour', async () => {
    const { model, bn } = tinyModel();
    assert.equal(bn.getClassName(), 'BatchNormalization');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-bn-'));
    try {
      await saveModelAtomic(model, path.join(dir, 'm'));
      const loaded = await loadModelFromDir(path.join(dir, 'm'));
      assert.ok(loaded.model.getLayer('bn') instanceof KerasBatchNormalization);
      loaded.model.dispose();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
      model.dispose();
    }
  });
});
