import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../../src/backend/engines/load';
import { buildBackbone, buildClassifier } from '../../../src/backend/models/backbone';
import { foldBatchNorm } from '../../../src/backend/models/foldedInference';
import type { ModelName } from '../../../src/shared/protocol/jobs';
import { countWork } from '../../helpers/kernelCalls';
import { relativeL2 } from '../../helpers/vulkan';
import { seededTensor } from '../../helpers/seededTensor';

/** Gives every batch norm non-trivial statistics, so a wrong fold could not hide behind γ = 1, β = 0, mean 0, var 1. */
function randomiseBatchNorm(model: ReturnType<typeof buildBackbone>): void {
  let seed = 1;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.weights.map((w) => {
        const shape = w.shape as number[];
        if (w.name.includes('moving_variance')) return tf.abs(seededTensor(shape, seed++, 0.5, 1));
        if (w.name.includes('gamma')) return seededTensor(shape, seed++, 0.2, 1);
        return seededTensor(shape, seed++, 0.3);
      }),
    );
  }
}

describe('models › batch norm folded into the convolutions for inference', function () {
  this.timeout(120_000);
  after(() => initEngine('cpu'));

  for (const engine of ['cpu', 'wasm'] as const) {
    for (const [name, size] of [['mobilenetv2', 32], ['resnet50', 32]] as [ModelName, number][]) {
      it(`${engine}, ${name}: the same outputs as predict (float32 rounding), in fewer kernel calls, no tensors left`, async () => {
        await initEngine(engine);
        const model = buildClassifier(buildBackbone(name, { inputSize: size, alpha: 0.35 }), 7);
        randomiseBatchNorm(model);
        const x = seededTensor([2, size, size, 3], 9);
        const expected = model.predict(x) as tf.Tensor;
        const folded = foldBatchNorm(model);
        const before = tf.memory().numTensors;
        const counter = countWork(engine);
        const actual = folded.run(x);
        const calls = counter.stop();
        const stock = countWork(engine);
        tf.dispose(model.predict(x) as tf.Tensor);
        const stockCalls = stock.stop();
        const batchNorms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
        assert.equal(folded.folded, batchNorms, 'every batch norm follows a convolution here');
        assert.equal(tf.memory().numTensors, before + 1, 'only the output is left');
        const err = relativeL2(Array.from(actual.dataSync()), Array.from(expected.dataSync()));
        // float32 rounding in a different order, compounded over ResNet50's 53 layers
        assert.ok(err < 1e-4, `relative L2 ${err}`);
        assert.ok(calls < stockCalls - batchNorms, `kernel calls: folded ${calls}, predict ${stockCalls}`);
        folded.dispose();
        tf.dispose([x, expected, actual]);
        model.dispose();
      });
    }
  }
});
