import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../../src/backend/engines/load';
import {
  GRADIENT_FIXES,
  activeGradientFixes,
  fusedBatchNormGradConfig,
  meanGradConfig,
  sumGradConfig,
  useGradientFixes,
} from '../../../src/backend/engines/broadcastGradients';
import { createRng, gaussian } from '../../../src/shared/random';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = gaussian(rng);
  return tf.tensor(values, shape);
}

/** A small conv + batch-norm + depthwise + dense classifier, identical for the same `tag`-independent seeds. */
function buildModel(tag: string): tfl.LayersModel {
  const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    name: `probe_${tag}`,
    layers: [
      tfl.layers.conv2d({ name: `${tag}_conv`, inputShape: [12, 12, 3], filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: seeded(1) }),
      tfl.layers.batchNormalization({ name: `${tag}_bn1`, gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 2 }), betaInitializer: tfl.initializers.randomNormal({ stddev: 0.1, seed: 3 }) }),
      tfl.layers.activation({ name: `${tag}_relu1`, activation: 'relu' }),
      tfl.layers.depthwiseConv2d({ name: `${tag}_dw`, kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: seeded(4) }),
      tfl.layers.batchNormalization({ name: `${tag}_bn2` }),
      tfl.layers.activation({ name: `${tag}_relu2`, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({ name: `${tag}_gap` }),
      tfl.layers.dense({ name: `${tag}_dense`, units: 4, activation: 'softmax', kernelInitializer: seeded(5) }),
    ],
  });
}

/** Gradients of the mean categorical cross-entropy (Mean and Sum inside) w.r.t. every trainable weight. */
function lossGradients(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): Map<string, Float32Array> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads((): tf.Scalar => {
    const p = model.apply(x, { training: true }) as tf.Tensor;
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar;
  }, vars);
  // Names without the model-specific prefix, in the model's variable order.
  const out = new Map(model.trainableWeights.map((w, i) => [w.originalName.replace(/^[a-z]+_/, ''), grads[vars[i]!.name]!.dataSync() as Float32Array]));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

function relativeL2(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}

const STOCK: readonly never[] = [];

describe('engines › broadcasting gradients (Mean, Sum, FusedBatchNorm)', function () {
  before(async () => {
    await initEngine('cpu');
  });
  after(async () => {
    await initEngine('cpu');
    useGradientFixes();
  });

  it('are what initEngine installs, and can be switched back to the stock ones one by one', () => {
    assert.deepEqual(activeGradientFixes(), GRADIENT_FIXES);
    useGradientFixes(STOCK);
    assert.notEqual(tf.getGradient('Mean'), meanGradConfig);
    assert.notEqual(tf.getGradient('Sum'), sumGradConfig);
    assert.notEqual(tf.getGradient('FusedBatchNorm'), fusedBatchNormGradConfig);
    assert.deepEqual(activeGradientFixes(), []);
    useGradientFixes(['Sum']);
    assert.deepEqual(activeGradientFixes(), ['Sum']);
    useGradientFixes();
    assert.equal(tf.getGradient('Mean'), meanGradConfig);
    assert.equal(tf.getGradient('FusedBatchNorm'), fusedBatchNormGradConfig);
  });

  it('returns float32 for an int32 Sum, as the stock gradient does', () => {
    const x = tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32');
    const dy = tf.tensor([5, 6], [2], 'int32');
    const g = sumGradConfig.gradFunc(dy, [x], { axis: [1] }) as Record<string, () => tf.Tensor>;
    const dx = g.x!();
    assert.equal(dx.dtype, 'float32');
    assert.deepEqual(Array.from(dx.dataSync()), [5, 5, 6, 6]);
    tf.dispose([x, dy, dx]);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(`on ${backend}`, () => {
      before(async () => {
        await initEngine(backend);
      });

      const axes: (number | number[] | undefined)[] = [undefined, 0, -1, [1, 2], [3, 0], [-3, -1], [0, 1, 2, 3], []];
      for (const op of ['mean', 'sum'] as const) {
        for (const axis of axes) {
          for (const keepDims of [false, true]) {
            it(`${op}(axis=${JSON.stringify(axis)}, keepDims=${keepDims}) gets exactly the stock gradient`, () => {
              const x = randomTensor([2, 3, 4, 5], 11);
              const reduce = (t: tf.Tensor) => (op === 'mean' ? tf.mean(t, axis, keepDims) : tf.sum(t, axis, keepDims));
              const outShape = tf.tidy(() => reduce(x).shape);
              // A non-uniform upstream gradient, so each reduced group must get its own dy.
              const w = randomTensor(outShape, 12);
              const f = (t: tf.Tensor) => tf.sum(tf.mul(reduce(t), w));
              useGradientFixes(STOCK);
              const stock = tf.tidy(() => tf.grad(f)(x).dataSync());
              useGradientFixes();
              const ours = tf.tidy(() => tf.grad(f)(x).dataSync());
              assert.deepEqual(Array.from(ours), Array.from(stock));
              assert.ok(stock.some((v) => v !== 0));
              tf.dispose([x, w]);
            });
          }
        }
      }

      for (const perChannel of [true, false]) {
        // Only with a scale: TF.js 4.22 itself cannot differentiate batchNorm without one (it clones the missing input).
        {
          it(`batchNorm (${perChannel ? 'per-channel' : 'full-shape'} statistics) gets the stock gradients for all inputs`, () => {
            const x = randomTensor([2, 3, 4, 5], 31);
            const statShape = perChannel ? [5] : [2, 3, 4, 5];
            const mean = randomTensor(statShape, 32);
            const variance = tf.tidy(() => tf.add(tf.abs(randomTensor(statShape, 33)), 0.5));
            const offset = randomTensor(statShape, 34);
            const scale = randomTensor(statShape, 35);
            const w = randomTensor([2, 3, 4, 5], 36);
            const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), w));
            const args = [x, mean, variance, offset, scale];
            const grads = () => tf.tidy(() => tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)(args).map((g) => Array.from(g.dataSync())));
            useGradientFixes(['Mean', 'Sum']);
            const stock = grads();
            useGradientFixes();
            const ours = grads();
            assert.equal(ours.length, args.length);
            ours.forEach((g, i) => {
              const err = relativeL2(Float32Array.from(g), Float32Array.from(stock[i]!));
              assert.ok(err < 1e-6, `input ${i}: relative L2 ${err}`);
            });
            tf.dispose([x, mean, variance, offset, scale, w]);
          });
        }
      }

      it('gives the same gradients as stock for every weight of a conv + batch-norm + dense model', () => {
        const stockModel = buildModel('a');
        const fastModel = buildModel('b');
        // Rebuilt from the same seeds, not copied: check the two really start identical.
        stockModel.getWeights().forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(fastModel.getWeights()[i]!.dataSync())));
        const x = randomTensor([4, 12, 12, 3], 21);
        const y = tf.oneHot(tf.tensor1d([0, 3, 1, 2], 'int32'), 4);

        useGradientFixes(STOCK);
        const stock = lossGradients(stockModel, x, y);
        useGradientFixes();
        const ours = lossGradients(fastModel, x, y);

        assert.deepEqual([...ours.keys()], [...stock.keys()]);
        assert.ok(stock.has('bn1/gamma') && stock.has('bn2/beta') && stock.has('dw/depthwise_kernel'), [...stock.keys()].join(', '));
        for (const [name, g] of stock) {
          assert.ok(g.some((v) => v !== 0), `${name} has a non-zero gradient`);
          const err = relativeL2(ours.get(name)!, g);
          assert.ok(err < 1e-5, `${name}: relative L2 ${err}`);
        }
        tf.dispose([x, y]);
        stockModel.dispose();
        fastModel.dispose();
      });
    });
  }
});
