import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
// The gradients of Sum, Square and Sub (tfjs-layers registers them when it loads; this test does not load it).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { accumulatedPower, createOptimizer, restoreAdamPowers } from '../../../src/backend/engines/webgpu/fusedOptimizers';

/**
 * Resume continues an optimizer from the weights a checkpoint saved. Adam also keeps beta^(t+1), accumulated
 * by float32 multiplications; TF.js' setWeights recomputes it with pow(), which differs in the last bits after
 * a dozen steps, and a resumed run would drift from the uninterrupted one.
 */
describe('optimizers restored from a checkpoint continue bit for bit', () => {
  before(() => tf.setBackend('cpu'));

  // Small values, so a last-bit change in an update shows in the weights (an update of 0.05 would round it away).
  const start = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 12.9898) * 0.01);
  const target = (): tf.Tensor => tf.fill([256], 0.002);
  async function train(name: 'adam' | 'rmsprop' | 'sgd', engine: 'cpu' | 'wasm', steps: number, restoreAt?: number): Promise<Float32Array> {
    const x = tf.variable(tf.tensor1d(start), true, `x_${name}_${engine}_${restoreAt ?? 'none'}`);
    let optimizer = createOptimizer(name, 0.001, engine);
    for (let step = 1; step <= steps; step++) {
      if (step === restoreAt) {
        const saved = await optimizer.getWeights();
        const values = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
        optimizer.dispose();
        optimizer = createOptimizer(name, 0.001, engine);
        await optimizer.setWeights(values);
        restoreAdamPowers(optimizer);
      }
      optimizer.minimize(() => tf.sum(tf.square(tf.sub(x, target()))) as tf.Scalar, false, [x]);
    }
    const out = (await x.data()) as Float32Array;
    x.dispose();
    optimizer.dispose();
    return out;
  }

  for (const engine of ['cpu', 'wasm'] as const) {
    for (const name of ['adam', 'rmsprop', 'sgd'] as const) {
      it(`${name} (${engine === 'wasm' ? 'the fused optimizer' : 'stock TF.js'}), restored after 13 of 24 steps (where pow() and the float32 product differ)`, async () => {
        const whole = await train(name, engine, 24);
        const resumed = await train(name, engine, 24, 14);
        assert.deepEqual([...resumed], [...whole]);
      });
    }
  }

  it('beta^(t+1) as float32 multiplications: not what pow() gives after a dozen steps', () => {
    assert.equal(accumulatedPower(0.9, 0), Math.fround(0.9));
    const product = [...Array(12).keys()].reduce((acc) => Math.fround(acc * Math.fround(0.999)), Math.fround(0.999));
    assert.equal(accumulatedPower(0.999, 12), product);
    assert.ok([0.9, 0.999].some((b) => [...Array(40).keys()].some((t) => accumulatedPower(b, t) !== Math.fround(Math.pow(b, t + 1)))), 'pow() differs somewhere: the reason for accumulatedPower');
  });
});
