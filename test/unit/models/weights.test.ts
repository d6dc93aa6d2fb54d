import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../../src/backend/errors';
import { buildClassifier } from '../../../src/backend/models/backbone';
import { saveModelAtomic } from '../../../src/backend/models/fileIo';
import { buildMobileNetV2 } from '../../../src/backend/models/mobilenetV2';
import { buildResNet } from '../../../src/backend/models/resnet';
import { float16ToFloat32, loadH5wasm, loadKerasH5Weights, loadWeightsFile, rawDatasetBytes, shortWeightName } from '../../../src/backend/models/weights';
import type { ReferenceLayer } from '../../fixtures/keras/generate';
import { kerasMobileNetV2Table, kerasResNetTable } from '../../fixtures/keras/generate';
import { fixtureArray, writeKerasH5 } from './kerasH5Fixture';

// Reduced ResNet: Keras' naming and topology, 1/16 of the widths, fewer blocks — a small file that
// still has conv biases, conv shortcuts and identity blocks.
const SMALL_BLOCKS = [1, 2, 1, 1];
const SMALL_FILTERS = [4, 8, 16, 32];

describe('models/weights: Keras .h5 loading', function () {
  this.timeout(60_000);
  let dir: string;
  const mobileTable = kerasMobileNetV2Table(0.35).layers;
  const resnetTable = kerasResNetTable('resnet_small', SMALL_BLOCKS, SMALL_FILTERS).layers;

  before(async () => {
    await tf.setBackend('cpu');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-weights-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const mobile = (): tfl.LayersModel => buildMobileNetV2(0.35, 32);
  const smallResNet = (): tfl.LayersModel => buildResNet({ name: 'resnet_small', blocks: SMALL_BLOCKS, inputSize: 32, stageFilters: SMALL_FILTERS });

  /** Every model weight holds exactly the fixture array of its table layer and role. */
  function assertLoadedFromTable(model: tfl.LayersModel, table: readonly ReferenceLayer[]): number {
    let checked = 0;
    for (const layer of model.layers) {
      const layerIndex = table.findIndex((l) => l.name === layer.name);
      assert.ok(layerIndex >= 0, `layer ${layer.name} is in the reference table`);
      const ref = table[layerIndex]!;
      layer.weights.forEach((w, i) => {
        const role = shortWeightName(w.originalName);
        const weightIndex = ref.weights.findIndex((r) => r.name === role);
        assert.ok(weightIndex >= 0, `${layer.name}/${role} is in the table`);
        const expected = fixtureArray(layerIndex, weightIndex, ref.weights[weightIndex]!.shape);
        const actual = layer.getWeights()[i]!.dataSync();
        assert.equal(actual.length, expected.length, `${layer.name}/${role} size`);
        assert.deepEqual(Array.from(actual), Array.from(expected), `${layer.name}/${role} values`);
        checked++;
      });
    }
    return checked;
  }

  it('puts every weight of MobileNetV2-0.35 into the right variable (h5py nested layout)', async () => {
    const file = path.join(dir, 'mobilenet_nested.h5');
    await writeKerasH5(file, mobileTable, { layout: 'nested' });
    const model = mobile();
    const report = await loadKerasH5Weights(model, file);
    const withWeights = mobileTable.filter((l) => l.weights.length > 0);
    assert.equal(report.layersLoaded, withWeights.length);
    assert.equal(report.weightsLoaded, withWeights.reduce((n, l) => n + l.weights.length, 0));
    assert.equal(assertLoadedFromTable(model, mobileTable), report.weightsLoaded);
    // depthwise kernels and BN statistics are the easy ones to mix up: spot-check them by value.
    const dw = model.getLayer('block_13_depthwise').getWeights()[0]!;
    assert.deepEqual(dw.shape, [3, 3, 6 * 32, 1]);
    const mvIndex = mobileTable.findIndex((l) => l.name === 'Conv_1_bn');
    assert.equal(model.getLayer('Conv_1_bn').getWeights()[3]!.dataSync()[0], Math.fround(mvIndex + 0.3));
    model.dispose();
  });

  it('loads the flat layout (weight_names "kernel:0"), chunked layer_names, and conv biases of a reduced ResNet', async () => {
    const file = path.join(dir, 'resnet_flat.h5');
    await writeKerasH5(file, resnetTable, { layout: 'flat', chunkLayerNames: 3 });
    const model = smallResNet();
    const report = await loadKerasH5Weights(model, file);
    assert.equal(assertLoadedFromTable(model, resnetTable), report.weightsLoaded);
    const bias = model.getLayer('conv3_block1_0_conv').getWeights()[1]!;
    assert.deepEqual(bias.shape, [32]);
    model.dispose();
  });

  it('loads a full-model .h5 whose weights sit under model_weights/', async () => {
    const file = path.join(dir, 'full_model.h5');
    await writeKerasH5(file, resnetTable, { underModelWeights: true });
    const model = smallResNet();
    await loadKerasH5Weights(model, file);
    assertLoadedFromTable(model, resnetTable);
    model.dispose();
  });

  async function expectUserError(run: () => Promise<unknown>, ...fragments: (string | RegExp)[]): Promise<string> {
    try {
      await run();
    } catch (err) {
      assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
      for (const f of fragments) {
        if (typeof f === 'string') assert.ok(err.message.includes(f), `message should mention ${f}: ${err.message}`);
        else assert.match(err.message, f);
      }
      return err.message;
    }
    assert.fail('expected an error');
  }

  it('names the layer, weight and shape of a missing weight, and assigns nothing', async () => {
    const file = path.join(dir, 'missing.h5');
    await writeKerasH5(file, mobileTable, { omit: { layer: 'block_3_project_BN', weight: 'moving_variance' } });
    const model = mobile();
    const before = model.getLayer('Conv1').getWeights()[0]!.dataSync().slice();
    await expectUserError(() => loadKerasH5Weights(model, file), 'block_3_project_BN', 'moving_variance', '[16]');
    assert.deepEqual(model.getLayer('Conv1').getWeights()[0]!.dataSync(), before, 'a failed load leaves the model untouched');
    model.dispose();
  });

  it('reads every array before it assigns any: an unreadable one in a late layer leaves the model as it was', async () => {
    const file = path.join(dir, 'int-array.h5');
    // The last conv layer of the backbone: every layer before it would have been set by a load that reads as it assigns.
    await writeKerasH5(file, mobileTable, { dtype: { layer: 'Conv_1', weight: 'kernel', dtype: '<i' } });
    const model = mobile();
    const before = model.weights.map((w) => w.read().dataSync().slice());
    await expectUserError(() => loadKerasH5Weights(model, file), 'Could not read 1 weight array(s)', 'none were loaded', 'Conv_1/Conv_1/kernel:0 is not a float16, float32 or float64 array');
    model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), before[i], `${w.originalName} untouched`));
    model.dispose();
  });

  it('converts float64 arrays; reads a dataset’s raw bytes as stored; converts float16 exactly', async () => {
    const file = path.join(dir, 'float64.h5');
    await writeKerasH5(file, mobileTable, { dtype: { layer: 'Conv1', weight: 'kernel', dtype: '<d' } });
    const model = mobile();
    await loadKerasH5Weights(model, file);
    assertLoadedFromTable(model, mobileTable);
    model.dispose();

    // The float16 path reads the stored bytes itself (h5wasm reads no float16): checked here on a float32 dataset.
    const h5 = await loadH5wasm();
    const f = new h5.File(file, 'r');
    try {
      const dataset = f.get('Conv1/Conv1/kernel:0') as InstanceType<typeof h5.Dataset>;
      assert.equal(dataset.metadata.size, 8, 'stored as float64');
      assert.deepEqual(new Float64Array(rawDatasetBytes(h5, dataset).buffer), dataset.value);
    } finally {
      f.close();
    }
    const halves = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x7e00, 0x8000);
    const singles = Array.from(float16ToFloat32(halves));
    assert.deepEqual(singles.slice(0, 6), [1, -2, 65504, 2 ** -24, 2 ** -14, Math.fround(0.333251953125)]);
    assert.deepEqual(singles.slice(6, 8), [Infinity, -Infinity]);
    assert.ok(Number.isNaN(singles[8]) && Object.is(singles[9], -0));
  });

  it('names an extra weight in a layer', async () => {
    const file = path.join(dir, 'extra.h5');
    await writeKerasH5(file, mobileTable, { extraWeight: { layer: 'block_5_expand', weight: 'bias', shape: [96] } });
    const model = mobile();
    await expectUserError(() => loadKerasH5Weights(model, file), 'block_5_expand', 'extra weight', 'bias:0', '[96]');
    model.dispose();
  });

  it('names a mis-shaped weight with both shapes', async () => {
    const file = path.join(dir, 'shape.h5');
    await writeKerasH5(file, mobileTable, { reshape: { layer: 'block_16_project', weight: 'kernel', shape: [1, 1, 336, 120] } });
    const model = mobile();
    await expectUserError(() => loadKerasH5Weights(model, file), 'block_16_project', 'kernel', '[1,1,336,120]', '[1,1,336,112]');
    model.dispose();
  });

  it('rejects a file for another width (alpha 1.0 weights into alpha 0.35)', async () => {
    const file = path.join(dir, 'alpha1.h5');
    await writeKerasH5(file, kerasMobileNetV2Table(1.0).layers);
    const model = mobile();
    await expectUserError(() => loadKerasH5Weights(model, file), 'Conv1', '[3,3,3,32]', '[3,3,3,16]', 'alpha');
    model.dispose();
  });

  it('recognises a with-top file by its extra predictions layer and says to use the notop file', async () => {
    const file = path.join(dir, 'top.h5');
    const predictions: ReferenceLayer = {
      name: 'predictions',
      className: 'Dense',
      weights: [
        { name: 'kernel', shape: [1280, 1000], trainable: true },
        { name: 'bias', shape: [1000], trainable: true },
      ],
    };
    await writeKerasH5(file, mobileTable, { extraLayer: predictions });
    const model = mobile();
    await expectUserError(() => loadKerasH5Weights(model, file), 'predictions', 'notop');
    const report = await loadKerasH5Weights(model, file, { ignoreExtraLayers: true });
    assert.deepEqual(report.ignoredLayers, ['predictions']);
    model.dispose();
  });

  it('reports a layer the file lacks (a head layer) unless told to skip it', async () => {
    const file = path.join(dir, 'backbone_only.h5');
    await writeKerasH5(file, mobileTable);
    const backbone = mobile();
    const classifier = buildClassifier(backbone, 7);
    await expectUserError(() => loadKerasH5Weights(classifier, file), 'missing layer "head_dense"', 'head_predictions');
    await loadKerasH5Weights(classifier, file, { skipLayer: (n) => n.startsWith('head_') });
    assertLoadedFromTable(backbone, mobileTable);
    classifier.dispose();
  });

  it('refuses files that are not Keras weights, with a next step', async () => {
    const h5 = await import('h5wasm/node');
    await h5.ready;
    const plain = path.join(dir, 'plain.h5');
    const f = new h5.File(plain, 'w');
    f.create_dataset({ name: 'x', data: new Float32Array([1, 2]), shape: [2] });
    f.close();
    const model = mobile();
    await expectUserError(() => loadKerasH5Weights(model, plain), 'layer_names');
    const text = path.join(dir, 'notes.txt');
    await fs.writeFile(text, 'hello');
    await expectUserError(() => loadWeightsFile(model, text), 'neither', '--weights');
    await expectUserError(() => loadWeightsFile(model, path.join(dir, 'absent.h5')), 'absent.h5');
    model.dispose();
  });

  it('loadWeightsFile takes a TF.js model.json (e.g. a checkpoint) as well as an .h5', async () => {
    const source = mobile();
    const ckpt = path.join(dir, 'ckpt');
    await saveModelAtomic(source, ckpt);
    const target = mobile();
    const report = await loadWeightsFile(target, path.join(ckpt, 'model.json'));
    assert.equal(report.format, 'tfjs');
    for (const layer of source.layers) {
      const a = layer.getWeights();
      const b = target.getLayer(layer.name).getWeights();
      a.forEach((t, i) => assert.deepEqual(b[i]!.dataSync(), t.dataSync(), `${layer.name} weight ${i}`));
    }
    const h5file = path.join(dir, 'mobilenet_for_dispatch.h5');
    await writeKerasH5(h5file, mobileTable);
    assert.equal((await loadWeightsFile(target, h5file)).format, 'keras-h5');
    source.dispose();
    target.dispose();
  });

  it('takes a backbone out of a whole classifier model.json only when extra layers are allowed', async () => {
    const classifier = buildClassifier(mobile(), 7);
    const ckpt = path.join(dir, 'classifier');
    await saveModelAtomic(classifier, ckpt);
    const backbone = mobile();
    await expectUserError(() => loadWeightsFile(backbone, path.join(ckpt, 'model.json')), 'head_dense');
    const report = await loadWeightsFile(backbone, path.join(ckpt, 'model.json'), { ignoreExtraLayers: true });
    assert.deepEqual(report.ignoredLayers.sort(), ['head_dense', 'head_predictions']);
    const a = classifier.getLayer('block_7_expand').getWeights()[0]!.dataSync();
    assert.deepEqual(backbone.getLayer('block_7_expand').getWeights()[0]!.dataSync(), a);
    classifier.dispose();
    backbone.dispose();
  });
});
