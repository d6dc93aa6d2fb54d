import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ReferenceTable } from '../../fixtures/keras/generate';
import { REFERENCE_TABLE_FILES, kerasMobileNetV2Table, serializeTable } from '../../fixtures/keras/generate';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'keras');
const load = (file: string): ReferenceTable => JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as ReferenceTable;

/**
 * Facts about the Keras models checked here, and where they were verified (all for include_top=False):
 * - ResNet50: 23,587,712 params (23,534,592 trainable, 53,120 non-trainable) — Keras model.summary()
 *   output quoted in many public notebooks; 175 layers including the input: `base_model.layers[143]` is
 *   conv5_block1_1_conv, preceded by conv4_block6_3_bn, _add, _out (published fine-tuning code).
 * - ResNet152: 58,370,944 params (151,424 non-trainable) — a Keras summary of `resnet152 (Functional)`;
 *   `model.layers[483:]` is "the last conv block" in published code and the reference workflow.
 * - ResNet101: 42,658,176 params (105,344 non-trainable) — a published reimplementation's summary.
 * - MobileNetV2 1.0: 2,257,984 params (34,112 non-trainable), 154 layers ("Number of layers in the base
 *   model: 154", TensorFlow's transfer-learning tutorial output); other widths: 0.35 → 410,208,
 *   0.5 → 706,224, 0.75 → 1,382,064, 1.3 → 3,766,048, 1.4 → 4,363,712 (published table of the
 *   keras-applications no_top files; 1.4 also in two Keras summaries).
 * Layer counts 345 (ResNet101) and 515 (ResNet152) follow from the same construction as the verified
 * ResNet50 count (7 stem layers + 12 per first block + 10 per other block).
 */
const FACTS: Record<string, { layers: number; total: number; nonTrainable?: number }> = {
  'resnet50.json': { layers: 175, total: 23_587_712, nonTrainable: 53_120 },
  'resnet101.json': { layers: 345, total: 42_658_176, nonTrainable: 105_344 },
  'resnet152.json': { layers: 515, total: 58_370_944, nonTrainable: 151_424 },
  'mobilenetv2_1.00.json': { layers: 154, total: 2_257_984, nonTrainable: 34_112 },
  'mobilenetv2_0.35.json': { layers: 154, total: 410_208 },
  'mobilenetv2_1.40.json': { layers: 154, total: 4_363_712 },
};

describe('models: Keras reference tables (test/fixtures/keras)', () => {
  for (const [file, make] of Object.entries(REFERENCE_TABLE_FILES)) {
    it(`${file} is what generate.ts derives from the Keras source (run it to refresh)`, () => {
      assert.equal(readFileSync(path.join(FIXTURES, file), 'utf8'), serializeTable(make()));
    });
  }

  for (const [file, fact] of Object.entries(FACTS)) {
    it(`${file} has the published layer and parameter counts`, () => {
      const table = load(file);
      assert.equal(table.layers.length, fact.layers);
      assert.equal(table.layerCount, fact.layers);
      const counted = table.layers.flatMap((l) => l.weights).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
      assert.equal(counted, fact.total);
      assert.equal(table.params.total, fact.total);
      if (fact.nonTrainable !== undefined) assert.equal(table.params.nonTrainable, fact.nonTrainable);
      assert.equal(new Set(table.layers.map((l) => l.name)).size, table.layers.length, 'layer names are unique');
      assert.equal(table.layers[0]?.className, 'InputLayer');
    });
  }

  it('MobileNetV2 at the other published widths has the published parameter counts', () => {
    const published: [number, number][] = [
      [0.5, 706_224],
      [0.75, 1_382_064],
      [1.3, 3_766_048],
    ];
    for (const [alpha, total] of published) assert.equal(kerasMobileNetV2Table(alpha).params.total, total, `alpha ${alpha}`);
  });

  it('puts the fine-tuning points where the reference workflow and published code have them', () => {
    const names = (file: string): string[] => load(file).layers.map((l) => l.name);
    assert.equal(names('resnet152.json')[483], 'conv5_block1_1_conv');
    const r50 = names('resnet50.json');
    assert.deepEqual(r50.slice(140, 144), ['conv4_block6_3_bn', 'conv4_block6_add', 'conv4_block6_out', 'conv5_block1_1_conv']);
    assert.deepEqual(r50.slice(143, 155), [
      'conv5_block1_1_conv', 'conv5_block1_1_bn', 'conv5_block1_1_relu', 'conv5_block1_2_conv', 'conv5_block1_2_bn', 'conv5_block1_2_relu',
      'conv5_block1_0_conv', 'conv5_block1_3_conv', 'conv5_block1_0_bn', 'conv5_block1_3_bn', 'conv5_block1_add', 'conv5_block1_out',
    ]);
    assert.equal(names('resnet50.json').at(-1), 'conv5_block3_out');
    assert.equal(names('mobilenetv2_1.00.json').at(-1), 'out_relu');
  });

  it('records the Keras weight layouts: conv kernel+bias, BN 4 vectors, depthwise [k,k,in,1]', () => {
    const r = load('resnet152.json');
    const conv1 = r.layers.find((l) => l.name === 'conv1_conv')!;
    assert.deepEqual(conv1.weights.map((w) => [w.name, w.shape]), [['kernel', [7, 7, 3, 64]], ['bias', [64]]]);
    const bn = r.layers.find((l) => l.name === 'conv5_block3_3_bn')!;
    assert.deepEqual(bn.weights.map((w) => [w.name, w.shape, w.trainable]), [
      ['gamma', [2048], true], ['beta', [2048], true], ['moving_mean', [2048], false], ['moving_variance', [2048], false],
    ]);
    const m = load('mobilenetv2_1.00.json');
    assert.deepEqual(m.layers.find((l) => l.name === 'block_1_depthwise')!.weights, [{ name: 'depthwise_kernel', shape: [3, 3, 96, 1], trainable: true }]);
    assert.deepEqual(m.layers.find((l) => l.name === 'Conv1')!.weights, [{ name: 'kernel', shape: [3, 3, 3, 32], trainable: true }]);
    assert.deepEqual(load('mobilenetv2_1.40.json').layers.find((l) => l.name === 'Conv_1')!.weights[0]!.shape, [1, 1, 448, 1792]);
  });
});
