import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../../src/backend/engines/load';
import { KerasReLU, kerasReLU } from '../../../src/backend/models/kerasReLU';
import { countWork } from '../../helpers/kernelCalls';

// Values on both sides of and exactly at the clamp's edges, where a gradient's mask could differ.
const X = [-3, -1e-7, 0, 1e-7, 0.5, 3, 5.9999995, 6, 6.0000005, 9, -0, 2];

/** Output and dL/dx of one layer for L = Σ w·layer(x), with every kernel call counted. */
function run(layer: tfl.layers.Layer): { y: number[]; dx: number[]; calls: number } {
  const x = tf.tensor2d(X, [3, 4]);
  const w = tf.tensor2d(X.map((_, i) => i + 1), [3, 4]);
  const counter = countWork(tf.getBackend() as 'cpu' | 'wasm');
  let calls: number;
  let y: number[][];
  let dx: tf.Tensor;
  try {
    y = (layer.apply(x) as tf.Tensor).arraySync() as number[][];
    dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi) as tf.Tensor, w)))(x);
  } finally {
    calls = counter.stop();
  }
  const out = { y: y.flat(), dx: Array.from(dx.dataSync()), calls };
  tf.dispose([x, w, dx]);
  return out;
}

describe('models › KerasReLU (ReLU6 as one clamp)', () => {
  after(() => initEngine('cpu'));

  for (const engine of ['cpu', 'wasm'] as const) {
    it(`${engine}: the same outputs and gradients as the stock ReLU(maxValue 6), at the clamp's edges too`, async () => {
      await initEngine(engine);
      const stock = run(tfl.layers.reLU({ maxValue: 6 }));
      const ours = run(kerasReLU({ maxValue: 6 }));
      assert.deepEqual(ours.y, stock.y);
      assert.deepEqual(ours.dx, stock.dx);
      assert.ok(ours.calls < stock.calls, `kernel calls: ${ours.calls} vs stock ${stock.calls}`);
    });
  }

  it('wasm: the backward pass is one kernel (LesionLabRelu6Grad)', async () => {
    await initEngine('wasm');
    const x = tf.tensor1d(X);
    const seen: string[] = [];
    const core = tf.engine() as unknown as { runKernelFunc(p: { kernelName?: string }): unknown };
    const original = core.runKernelFunc;
    const dx = tf.grad((xi: tf.Tensor) => {
      const y = kerasReLU({ maxValue: 6 }).apply(xi) as tf.Tensor;
      core.runKernelFunc = function (this: unknown, p: { kernelName?: string }) {
        seen.push(p.kernelName ?? '?');
        return original.call(this, p);
      };
      return tf.sum(y);
    })(x);
    core.runKernelFunc = original;
    assert.ok(seen.includes('LesionLabRelu6Grad'), seen.join(', '));
    assert.ok(!seen.some((k) => ['LessEqual', 'Step', 'Select', 'LogicalAnd'].includes(k)), seen.join(', '));
    tf.dispose([x, dx]);
  });

  it('other max values take the stock path; saved models load as KerasReLU with the stock config', async () => {
    await initEngine('cpu');
    const four = run(kerasReLU({ maxValue: 4 }));
    assert.deepEqual(four.y, run(tfl.layers.reLU({ maxValue: 4 })).y);
    const input = tfl.input({ shape: [4] });
    const model = tfl.model({ inputs: input, outputs: kerasReLU({ maxValue: 6, name: 'act' }).apply(input) as tfl.SymbolicTensor });
    const json = model.toJSON(null, false) as { config: { layers: { class_name: string; config: { max_value?: number } }[] } };
    const layer = json.config.layers.find((l) => l.class_name === 'ReLU');
    assert.equal(layer?.config.max_value, 6);
    const loaded = await tfl.models.modelFromJSON(json as unknown as tf.io.ModelJSON['modelTopology'] as never);
    assert.ok(loaded.getLayer('act') instanceof KerasReLU);
  });
});
