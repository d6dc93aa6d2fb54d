import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { ONNX_OPSET, buildOnnxModel, windowPads } from '../../../src/backend/export/onnxGraph';
import { decodeOnnxModel, encodeOnnxModel } from '../../../src/backend/export/onnxProto';
import { OnnxRunner } from '../../../src/backend/export/onnxRunner';
import { ensembleOnnxModel } from '../../../src/backend/export/onnxEnsemble';
import { buildBackbone, buildClassifier } from '../../../src/backend/models/backbone';
import { buildResNet } from '../../../src/backend/models/resnet';
import { onnxCheck } from '../../helpers/debianPython';

/** Batch-norm statistics far from the identity, so folding them wrongly shows. */
function randomiseBatchNorms(model: tfl.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [gamma, beta, mean, variance] = layer.getWeights().map((w) => w.shape);
    layer.setWeights([
      tf.randomUniform(gamma!, 0.5, 1.5, 'float32', s++),
      tf.randomNormal(beta!, 0, 0.3, 'float32', s++),
      tf.randomNormal(mean!, 0, 0.3, 'float32', s++),
      tf.randomUniform(variance!, 0.5, 2, 'float32', s++),
    ]);
  }
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const CASES = [
  // Odd input sizes: TF's "same" padding is asymmetric on stride-2 layers there.
  { name: 'ResNet (Keras topology, narrow stages)', size: 37, build: () => buildResNet({ name: 'resnet50', blocks: [2, 1, 1, 1], inputSize: 37, stageFilters: [4, 8, 8, 8] }) },
  { name: 'MobileNetV2 alpha 0.35', size: 35, build: () => buildBackbone('mobilenetv2', { inputSize: 35, alpha: 0.35 }) },
];

describe('export/onnx: the whole classifier as ONNX, batch norm folded', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    await tf.setBackend('cpu');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-onnx-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: onnx.checker accepts it and onnxruntime gives TF.js's probabilities (and so does Lesion Lab's ONNX runner)`, async () => {
      const model = buildClassifier(c.build(), 7);
      randomiseBatchNorms(model, 100 * i + 1);
      const onnx = await buildOnnxModel(model, { producerVersion: 'test', metadata: { classes: '["a"]' }, inputDoc: 'preprocessed NHWC' });
      assert.ok(!onnx.graph.node.some((n) => n.opType === 'BatchNormalization'), 'every batch norm follows a convolution and is folded into it');
      assert.ok(!onnx.graph.node.some((n) => n.opType === 'Dropout'));
      assert.equal(onnx.graph.node.at(-2)?.opType, 'Softmax', 'the softmax is part of the graph');
      const file = path.join(dir, `m${i}.onnx`);
      await fs.writeFile(file, encodeOnnxModel(onnx));
      assert.deepEqual(await onnxCheck(file), { opset: ONNX_OPSET, irVersion: 7 });

      // Batch 3 through a graph declared with a free batch dimension.
      const x = tf.randomNormal([3, c.size, c.size, 3], 0, 40, 'float32', 7 + i);
      const reference = (await (model.predict(x) as tf.Tensor).data()) as Float32Array;
      const session = await ort.InferenceSession.create(file);
      const result = await session.run({ input: new ort.Tensor('float32', (await x.data()) as Float32Array, [3, c.size, c.size, 3]) });
      const fromOrt = result['probabilities']!.data as Float32Array;
      assert.ok(maxAbs(reference, fromOrt) < 1e-5, `onnxruntime vs TF.js: max |Δp| ${maxAbs(reference, fromOrt)}`);
      assert.ok(Math.max(...reference) - Math.min(...reference) > 1e-3, 'the probabilities differ between classes: the comparison means something');

      const runner = await OnnxRunner.load(file);
      const before = tf.memory().numTensors;
      const y = runner.run(x);
      const fromRunner = (await y.data()) as Float32Array;
      y.dispose();
      assert.equal(tf.memory().numTensors, before, 'the runner frees its intermediate tensors');
      runner.dispose();
      assert.ok(maxAbs(fromOrt, fromRunner) < 1e-5, `Lesion Lab's runner vs onnxruntime: max |Δp| ${maxAbs(fromOrt, fromRunner)}`);
      model.dispose();
    });
  }

  it('an ensemble: three members on one input, their probabilities averaged by a Mean node; onnxruntime and the runner give the mean of TF.js’s', async () => {
    const models = [1, 2, 3].map((seed) => {
      const m = buildClassifier(buildBackbone('mobilenetv2', { inputSize: 33, alpha: 0.35 }), 5);
      randomiseBatchNorms(m, 40 + seed);
      return m;
    });
    const graphs = await Promise.all(models.map((m) => buildOnnxModel(m, { producerVersion: 'test', metadata: {}, inputDoc: '' })));
    const onnx = ensembleOnnxModel(graphs, { name: 'ens', metadata: { classes: '["a","b","c","d","e"]' } });
    // Every member's nodes and weights are there under their own names; only the input is shared.
    assert.equal(onnx.graph.node.length, graphs.reduce((n, g) => n + g.graph.node.length, 0) + 1);
    assert.equal(new Set(onnx.graph.node.map((n) => n.name)).size, onnx.graph.node.length, 'node names are unique');
    assert.equal(new Set(onnx.graph.initializer.map((t) => t.name)).size, onnx.graph.initializer.length, 'weight names are unique');
    assert.deepEqual(onnx.graph.node.filter((n) => n.input.includes('input')).map((n) => [n.name.split('/')[0], n.opType]), [['m0', 'Transpose'], ['m1', 'Transpose'], ['m2', 'Transpose']]);
    assert.deepEqual(onnx.graph.node.at(-1), { name: 'ensemble_mean', opType: 'Mean', input: ['m0/probabilities', 'm1/probabilities', 'm2/probabilities'], output: ['probabilities'], attribute: [], docString: "the mean of 3 members' class probabilities" });
    const file = path.join(dir, 'ensemble.onnx');
    await fs.writeFile(file, encodeOnnxModel(onnx));
    assert.deepEqual(await onnxCheck(file), { opset: ONNX_OPSET, irVersion: 7 });

    const x = tf.randomNormal([2, 33, 33, 3], 0, 1, 'float32', 5);
    const each = await Promise.all(models.map(async (m) => (await (m.predict(x) as tf.Tensor).data()) as Float32Array));
    const mean = Float32Array.from(each[0]!, (_, i) => (each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3);
    assert.ok(maxAbs(each[0]!, each[1]!) > 1e-3, 'the members differ: the mean is not any one of them');
    const session = await ort.InferenceSession.create(file);
    const fromOrt = (await session.run({ input: new ort.Tensor('float32', (await x.data()) as Float32Array, [2, 33, 33, 3]) }))['probabilities']!.data as Float32Array;
    assert.ok(maxAbs(mean, fromOrt) < 1e-5, `onnxruntime vs the members' mean: max |Δp| ${maxAbs(mean, fromOrt)}`);
    const runner = await OnnxRunner.load(file);
    const y = runner.run(x);
    const fromRunner = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    runner.dispose();
    assert.ok(maxAbs(fromOrt, fromRunner) < 1e-5, `Lesion Lab's runner vs onnxruntime: max |Δp| ${maxAbs(fromOrt, fromRunner)}`);
    assert.throws(() => ensembleOnnxModel([graphs[0]!, { ...graphs[1]!, graph: { ...graphs[1]!.graph, input: [{ ...graphs[1]!.graph.input[0]!, shape: ['batch', 64, 64, 3] }] } }], { name: 'x', metadata: {} }), /member 1 takes \["batch",64,64,3\]/);
    for (const m of models) m.dispose();
  });

  it('encodes and decodes metadata_props, the free batch dimension and the initializers', async () => {
    const model = buildClassifier(buildBackbone('mobilenetv2', { inputSize: 32, alpha: 0.35 }), 3);
    const onnx = await buildOnnxModel(model, { producerVersion: '9.9.9', metadata: { classes: '["x","y","z"]', note: 'ünïcode ✓' }, inputDoc: 'doc' });
    const back = decodeOnnxModel(encodeOnnxModel(onnx));
    assert.deepEqual(back.metadataProps, { classes: '["x","y","z"]', note: 'ünïcode ✓' });
    assert.deepEqual(back.graph.input[0]!.shape, ['batch', 32, 32, 3]);
    assert.deepEqual(back.graph.output[0]!.shape, ['batch', 3]);
    assert.equal(back.opsetVersion, ONNX_OPSET);
    assert.equal(back.producerVersion, '9.9.9');
    assert.equal(back.graph.initializer.length, onnx.graph.initializer.length);
    const w = onnx.graph.initializer.find((t) => t.name === 'Conv1_W')!;
    assert.ok(Buffer.from(back.graph.initializer.find((t) => t.name === 'Conv1_W')!.rawData!).equals(Buffer.from(w.rawData!)));
    model.dispose();
  });

  it("computes TF's 'same' padding: the extra pixel goes to the bottom and right", () => {
    assert.deepEqual(windowPads('same', [35, 35], [3, 3], [2, 2], [1, 1]), [1, 1, 1, 1]);
    assert.deepEqual(windowPads('same', [32, 32], [3, 3], [2, 2], [1, 1]), [0, 1, 0, 1]);
    assert.deepEqual(windowPads('same', [8, 9], [1, 1], [1, 1], [1, 1]), [0, 0, 0, 0]);
    assert.deepEqual(windowPads('valid', [8, 8], [7, 7], [2, 2], [1, 1]), [0, 0, 0, 0]);
  });

  it('refuses a layer it cannot express, naming it', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const up = tfl.layers.upSampling2d({ size: [2, 2], name: 'grow' }).apply(input) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(up) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    await assert.rejects(buildOnnxModel(model, { producerVersion: 't', metadata: {}, inputDoc: '' }), /UpSampling2D \(layer grow\).*TF\.js or Keras/);
    model.dispose();
  });
});
