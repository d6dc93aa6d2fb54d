import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildBackbone, buildClassifier, findUnfreezeIndex } from '../../../src/backend/models/backbone';
import { splitModelAt } from '../../../src/backend/training/modelSplit';
import { dihedralVariants } from '../../../src/backend/evaluation/predict';

describe('splitting a classifier into a frozen and a trainable part', () => {
  before(() => tf.setBackend('cpu'));

  it('frozen → trainable gives the same predictions as the whole model, sharing its weights', () => {
    const model = buildClassifier(buildBackbone('mobilenetv2', { inputSize: 32, alpha: 0.35 }), 7);
    const at = findUnfreezeIndex(model, 'block_16_expand');
    const split = splitModelAt(model, at);
    assert.ok(split.frozen);
    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 7);
    const whole = model.predict(x) as tf.Tensor;
    const parts = split.trainable.predict(split.frozen.predict(x) as tf.Tensor) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(whole, parts))).dataSync()[0]!;
    assert.ok(diff < 1e-5, `max difference ${diff}`);
    assert.equal(split.trainable.layers.find((l) => l.name === 'head_predictions'), model.getLayer('head_predictions'));
    // Only the layers from the cut on are in the trainable part.
    assert.ok(!split.trainable.layers.some((l) => l.name === 'block_15_add'));
    tf.dispose([x, whole, parts]);
    model.dispose();
  });

  it('refuses a cut that a skip connection crosses, naming a block start to use instead', () => {
    const model = buildClassifier(buildBackbone('mobilenetv2', { inputSize: 32, alpha: 0.35 }), 7);
    // block_15_project's output is added to block_14_add's output later: cutting inside the block is impossible.
    assert.throws(() => splitModelAt(model, findUnfreezeIndex(model, 'block_15_depthwise')), /skip connection crosses the cut/);
    model.dispose();
  });

  it('everything trains when the cut is at the first layer', () => {
    const inp = tfl.input({ shape: [4] });
    const out = tfl.layers.dense({ units: 2 }).apply(inp) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: inp, outputs: out });
    const split = splitModelAt(model, 1);
    assert.equal(split.frozen, null);
    assert.equal(split.trainable, model);
  });
});

describe('test-time augmentation variants', () => {
  it('are the 8 distinct symmetries of the square, the first being the image itself', () => {
    const s = 3;
    const rgb = Uint8Array.from({ length: s * s * 3 }, (_, i) => Math.floor(i / 3)); // pixel index in every channel
    const variants = dihedralVariants(rgb, s);
    assert.equal(variants.length, 8);
    assert.deepEqual([...variants[0]!], [...rgb]);
    const keys = new Set(variants.map((v) => v.join(',')));
    assert.equal(keys.size, 8);
    // Variant 1 is a 90° rotation: the top-left output pixel comes from a corner of the source.
    assert.ok([0, 2, 6, 8].includes(variants[1]![0]!));
  });
});
