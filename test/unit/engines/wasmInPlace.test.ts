import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../../src/backend/engines/load';
import type { OptimizerName } from '../../../src/backend/engines/webgpu/fusedOptimizers';
import { createOptimizer } from '../../../src/backend/engines/webgpu/fusedOptimizers';
import { countWork } from '../../helpers/kernelCalls';
import { seededTensor } from '../../helpers/seededTensor';

const SHAPES = [[3, 3, 4, 8], [8], [37, 5], [1]];
const STEPS = 6;
const LR: Record<OptimizerName, number> = { rmsprop: 0.01, adam: 0.01, sgd: 0.05 };

/** TF.js' own optimizers with the settings createOptimizer gives the fused ones (Keras' defaults). */
function stockOptimizer(name: OptimizerName): tf.Optimizer {
  if (name === 'rmsprop') return tf.train.rmsprop(LR[name], 0.9, 0, 1e-7);
  if (name === 'adam') return tf.train.adam(LR[name], 0.9, 0.999, 1e-7);
  return tf.train.momentum(LR[name], 0.9);
}

async function run(opt: tf.Optimizer, tag: string, from: number, to: number, vars?: tf.Variable[]): Promise<{ vars: tf.Variable[]; calls: number }> {
  const v = vars ?? SHAPES.map((s, i) => tf.tidy(() => tf.variable(tf.mul(seededTensor(s, 10 + i), 0.1), true, `${tag}_${i}`)));
  let calls = 0;
  for (let step = from; step < to; step++) {
    const grads = tf.tidy(() => Object.fromEntries(v.map((x, i) => [x.name, tf.mul(seededTensor(SHAPES[i]!, 1000 * step + i), 0.5 + step)])));
    const counter = countWork('wasm');
    opt.applyGradients(grads);
    calls = counter.stop();
    tf.dispose(Object.values(grads));
  }
  return { vars: v, calls };
}

const bytes = (t: tf.Tensor): Buffer => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

describe('engines › fused optimizers on wasm (one JavaScript pass per variable)', () => {
  before(() => initEngine('wasm'));
  after(() => initEngine('cpu'));

  for (const name of ['rmsprop', 'adam', 'sgd'] as const) {
    it(`${name}: ${STEPS} steps leave variables and slots bit for bit as the stock optimizer does, with no kernel calls per variable`, async () => {
      const stock = stockOptimizer(name);
      const fused = createOptimizer(name, LR[name], 'wasm');
      let count = tf.memory().numTensors;
      const a = await run(stock, `${name}_stock`, 0, STEPS);
      const stockMade = tf.memory().numTensors - count;
      count = tf.memory().numTensors;
      const b = await run(fused, `${name}_fused`, 0, STEPS);
      const fusedMade = tf.memory().numTensors - count;
      a.vars.forEach((v, i) => assert.ok(bytes(b.vars[i]!).equals(bytes(v)), `variable ${i}`));
      const [ws, wf] = [await stock.getWeights(), await fused.getWeights()];
      assert.deepEqual(wf.map((w) => w.name.replace('_fused_', '_')), ws.map((w) => w.name.replace('_stock_', '_')));
      ws.forEach((w, i) => assert.ok(bytes(wf[i]!.tensor).equals(bytes(w.tensor)), `slot ${w.name}`));
      // Adam updates its two β-power scalars with a couple of kernels per step; nothing is per variable.
      assert.ok(b.calls <= 4, `${b.calls} kernel calls in one fused step`);
      assert.ok(a.calls >= 3 * SHAPES.length, `the stock step made ${a.calls} kernel calls`);
      assert.equal(fusedMade, stockMade, 'the same variables, slots and nothing more as the stock optimizer');
      // getWeights() makes a new scalar for the iteration count; the rest are the optimizers' own slots.
      tf.dispose([...a.vars, ...b.vars, ws[0]!.tensor, wf[0]!.tensor]);
      stock.dispose();
      fused.dispose();
    });

    // Adam's bias corrections are rebuilt from the step count on resume (β^t as a power, where the run multiplied
    // step by step), as the stock optimizer does: equal within float32 rounding, the others bit for bit.
    it(`${name}: resuming through getWeights()/setWeights() continues as the uninterrupted run${name === 'adam' ? ' (within float32 rounding)' : ', bit for bit'}`, async () => {
      const whole = createOptimizer(name, LR[name], 'wasm');
      const a = await run(whole, `${name}_whole`, 0, STEPS);
      const first = createOptimizer(name, LR[name], 'wasm');
      const half = await run(first, `${name}_half`, 0, STEPS / 2);
      const saved = (await first.getWeights()).map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
      first.dispose();
      const second = createOptimizer(name, LR[name], 'wasm');
      await second.setWeights(saved);
      const b = await run(second, `${name}_half`, STEPS / 2, STEPS, half.vars);
      a.vars.forEach((v, i) => {
        if (name !== 'adam') assert.ok(bytes(b.vars[i]!).equals(bytes(v)), `variable ${i}`);
        else {
          const [x, y] = [b.vars[i]!.dataSync(), v.dataSync()];
          x.forEach((xv, j) => assert.ok(Math.abs(xv - y[j]!) <= 1e-6 * Math.max(1, Math.abs(y[j]!)), `variable ${i}[${j}]: ${xv} vs ${y[j]}`));
        }
      });
      tf.dispose([...a.vars, ...b.vars, ...saved.map((s) => s.tensor)]);
      whole.dispose();
      second.dispose();
    });
  }

  it('training a conv + dense model with the fused optimizer gives the stock weights bit for bit (no stale packed weights)', async () => {
    // XNNPACK caches a layer's packed weights by tensor id: weights updated under the same id would be served stale.
    const train = async (optimizer: tf.Optimizer): Promise<Buffer[]> => {
      const input = tfl.input({ shape: [8, 8, 3] });
      let h = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
      h = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
      const out = tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(h) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: out });
      model.compile({ optimizer, loss: 'categoricalCrossentropy' });
      const x = seededTensor([4, 8, 8, 3], 5);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
      for (let i = 0; i < 4; i++) await model.trainOnBatch(x, y);
      const weights = model.getWeights().map(bytes);
      tf.dispose([x, y]);
      model.dispose();
      return weights;
    };
    const stock = await train(stockOptimizer('rmsprop'));
    const fused = await train(createOptimizer('rmsprop', LR.rmsprop, 'wasm'));
    stock.forEach((w, i) => assert.ok(fused[i]!.equals(w), `weight ${i}`));
  });
});
