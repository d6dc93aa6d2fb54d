import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelName } from '../../../src/shared/protocol/jobs';
import { UserError } from '../../../src/backend/errors';
import { HEAD_LAYERS, buildBackbone, buildClassifier, defaultUnfreezeLayer, findUnfreezeIndex, setTrainableFrom } from '../../../src/backend/models/backbone';
import { correctPad, lastConvFilters, makeDivisible } from '../../../src/backend/models/mobilenetV2';
import { shortWeightName } from '../../../src/backend/models/weights';
import type { ReferenceTable } from '../../fixtures/keras/generate';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'keras');
const load = (file: string): ReferenceTable => JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as ReferenceTable;

/** Layer names, order, Keras class names and weight roles/shapes/trainability, against the table. */
function assertMatchesTable(model: tfl.LayersModel, table: ReferenceTable): void {
  assert.equal(model.layers.length, table.layers.length, 'layer count');
  const mismatches: string[] = [];
  model.layers.forEach((layer, i) => {
    const ref = table.layers[i]!;
    if (layer.name !== ref.name) mismatches.push(`#${i}: ${layer.name} ≠ ${ref.name}`);
    if (layer.getClassName() !== ref.className) mismatches.push(`#${i} ${layer.name}: ${layer.getClassName()} ≠ ${ref.className}`);
    const actual = layer.weights.map((w) => `${shortWeightName(w.originalName)}${JSON.stringify(w.shape)}${w.trainable ? '' : '(frozen)'}`);
    const expected = ref.weights.map((w) => `${w.name}${JSON.stringify(w.shape)}${w.trainable ? '' : '(frozen)'}`);
    if (actual.join() !== expected.join()) mismatches.push(`#${i} ${layer.name}: ${actual.join()} ≠ ${expected.join()}`);
  });
  assert.deepEqual(mismatches.slice(0, 10), []);
  assert.equal(model.countParams(), table.params.total, 'parameter count');
}

describe('models/backbone: tf.layers backbones match Keras applications', function () {
  this.timeout(120_000);
  before(async () => {
    await tf.setBackend('cpu');
  });
  // ResNet152 takes seconds to initialise on the cpu backend: build it once for the tests that need it.
  let resnet152: tfl.LayersModel | undefined;
  const built = (name: ModelName, alpha: number | undefined): tfl.LayersModel => {
    if (name === 'resnet152') return (resnet152 ??= buildBackbone('resnet152', { inputSize: 224 }));
    return buildBackbone(name, { inputSize: 224, alpha });
  };
  after(() => resnet152?.dispose());

  const cases: [ModelName, number | undefined, string, number][] = [
    ['resnet50', undefined, 'resnet50.json', 2048],
    ['resnet101', undefined, 'resnet101.json', 2048],
    ['resnet152', undefined, 'resnet152.json', 2048],
    ['mobilenetv2', 1.0, 'mobilenetv2_1.00.json', 1280],
    ['mobilenetv2', 0.35, 'mobilenetv2_0.35.json', 1280],
    ['mobilenetv2', 1.4, 'mobilenetv2_1.40.json', 1792],
  ];
  for (const [name, alpha, file, channels] of cases) {
    it(`${name}${alpha !== undefined ? ` α=${alpha}` : ''} at 224: layer for layer, name for name, weight for weight (${file})`, () => {
      const model = built(name, alpha);
      try {
        assertMatchesTable(model, load(file));
        assert.deepEqual(model.outputs[0]!.shape, [null, 7, 7, channels]);
      } finally {
        if (model !== resnet152) model.dispose();
      }
    });
  }

  it('ResNet152: layer 483 (input = 0) is conv5_block1_1_conv, by name and by index', () => {
    const model = built('resnet152', undefined);
    {
      assert.equal(findUnfreezeIndex(model, defaultUnfreezeLayer('resnet152')), 483);
      assert.equal(findUnfreezeIndex(model, '483'), 483);
      assert.equal(findUnfreezeIndex(model, 483), 483);
      assert.equal(model.layers[483]!.name, 'conv5_block1_1_conv');
      const classifier = buildClassifier(model, 7);
      assert.equal(findUnfreezeIndex(classifier, 'conv5_block1_1_conv'), 483, 'the head does not shift backbone indices');
      setTrainableFrom(classifier, 483);
      assert.equal(classifier.layers[482]!.trainable, false);
      assert.equal(classifier.layers[483]!.trainable, true);
      assert.equal(classifier.getLayer(HEAD_LAYERS.predictions).trainable, true);
      // Trainable weights: conv5 (3 blocks) + head only.
      assert.ok(classifier.trainableWeights.every((w) => /^(conv5_|head_)/.test(w.originalName)));
      setTrainableFrom(classifier, 0);
    }
  });

  it('MobileNetV2 fine-tunes from block_16_expand (index 143) by default', () => {
    const model = buildBackbone('mobilenetv2', { inputSize: 96, alpha: 0.35 });
    try {
      assert.equal(defaultUnfreezeLayer('mobilenetv2'), 'block_16_expand');
      assert.equal(findUnfreezeIndex(model, 'block_16_expand'), 143);
      assert.deepEqual(model.layers.slice(143).map((l) => l.name).slice(0, 3), ['block_16_expand', 'block_16_expand_BN', 'block_16_expand_relu']);
    } finally {
      model.dispose();
    }
  });

  it('unfreeze errors say what to give instead', () => {
    const model = buildBackbone('mobilenetv2', { inputSize: 32, alpha: 0.35 });
    try {
      assert.throws(() => findUnfreezeIndex(model, 'block_16_expnd'), (e: unknown) => e instanceof UserError && /block_16_expand/.test(e.message));
      assert.throws(() => findUnfreezeIndex(model, 999), (e: unknown) => e instanceof UserError && /1–153/.test(e.message));
      assert.throws(() => findUnfreezeIndex(model, 0), UserError);
      assert.throws(() => findUnfreezeIndex(model, 'input_1'), UserError);
    } finally {
      model.dispose();
    }
  });

  it('the classifier head has the reference shape and stable names', () => {
    const backbone = buildBackbone('mobilenetv2', { inputSize: 32, alpha: 0.35 });
    const model = buildClassifier(backbone, 7);
    try {
      assert.equal(model.layers.length, backbone.layers.length + 4);
      const head = model.layers.slice(-4);
      assert.deepEqual(head.map((l) => [l.name, l.getClassName()]), [
        ['head_gap', 'GlobalAveragePooling2D'], ['head_dense', 'Dense'], ['head_dropout', 'Dropout'], ['head_predictions', 'Dense'],
      ]);
      const cfg = (name: string): Record<string, unknown> => model.getLayer(name).getConfig() as Record<string, unknown>;
      assert.equal(cfg('head_dense').units, 1000);
      assert.equal(cfg('head_dense').activation, 'relu');
      assert.equal(cfg('head_dropout').rate, 0.25);
      assert.equal(cfg('head_predictions').units, 7);
      assert.equal(cfg('head_predictions').activation, 'softmax');
      assert.deepEqual(model.outputs[0]!.shape, [null, 7]);
      assert.equal(model.getLayer('Conv1'), backbone.getLayer('Conv1'), 'shares the backbone layers');
      assert.throws(() => buildClassifier(backbone, 1), UserError);
    } finally {
      model.dispose();
    }
  });

  it('runs a MobileNetV2-0.35 forward pass at 96×96 (padding, ReLU6, adds all wired)', () => {
    const model = buildBackbone('mobilenetv2', { inputSize: 96, alpha: 0.35 });
    try {
      const out = tf.tidy(() => model.predict(tf.randomUniform([1, 96, 96, 3], -1, 1, 'float32', 3)) as tf.Tensor);
      assert.deepEqual(out.shape, [1, 3, 3, 1280]);
      const v = out.dataSync();
      assert.ok(v.every((x) => Number.isFinite(x) && x >= 0 && x <= 6), 'out_relu is a ReLU6');
      out.dispose();
      // block_1_pad at 96: feature map 48×48 (even) → ((0, 1), (0, 1)), as correct_pad gives.
      assert.deepEqual((model.getLayer('block_1_pad').getConfig() as { padding: unknown }).padding, [[0, 1], [0, 1]]);
    } finally {
      model.dispose();
    }
  });

  it('implements Keras helpers exactly: _make_divisible, correct_pad, the last conv width', () => {
    assert.equal(makeDivisible(32 * 0.35, 8), 16);
    assert.equal(makeDivisible(Math.trunc(16 * 0.35), 8), 8);
    assert.equal(makeDivisible(Math.trunc(96 * 0.35), 8), 32);
    assert.equal(makeDivisible(Math.trunc(24 * 0.75), 8), 24);
    assert.equal(makeDivisible(32 * 1.3, 8), 40);
    assert.deepEqual(correctPad(112, 112), [[0, 1], [0, 1]]);
    assert.deepEqual(correctPad(7, 8), [[1, 1], [0, 1]]);
    assert.equal(lastConvFilters(1.0), 1280);
    assert.equal(lastConvFilters(0.35), 1280);
    assert.equal(lastConvFilters(1.3), 1664);
    assert.equal(lastConvFilters(1.4), 1792);
  });

  it('refuses sizes and widths Keras refuses, with a suggestion', () => {
    assert.throws(() => buildBackbone('resnet50', { inputSize: 31 }), (e: unknown) => e instanceof UserError && /224/.test(e.message));
    assert.throws(() => buildBackbone('mobilenetv2', { inputSize: 96, alpha: 2 }), (e: unknown) => e instanceof UserError && /0\.35/.test(e.message));
    assert.throws(() => buildBackbone('vgg16' as ModelName, { inputSize: 224 }), (e: unknown) => e instanceof UserError && /resnet152/.test(e.message));
  });
});
