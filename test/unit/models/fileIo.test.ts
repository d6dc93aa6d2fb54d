import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../../src/backend/errors';
import { buildClassifier } from '../../../src/backend/models/backbone';
import { loadModelFromDir, saveModelAtomic } from '../../../src/backend/models/fileIo';
import { buildMobileNetV2 } from '../../../src/backend/models/mobilenetV2';

describe('models/fileIo: checkpoints on disk', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    await tf.setBackend('cpu');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-fileio-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const classifier = (): tfl.LayersModel => buildClassifier(buildMobileNetV2(0.35, 32), 7);
  const input = (): tf.Tensor => tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 7);
  const writeState = (state: unknown) => async (temp: string): Promise<void> => fs.writeFile(path.join(temp, 'state.json'), JSON.stringify(state));
  const readState = async (d: string): Promise<unknown> => JSON.parse(await fs.readFile(path.join(d, 'state.json'), 'utf8'));

  it('round-trips a classifier: same layers, same predictions, and the files written alongside', async () => {
    const model = classifier();
    const target = path.join(dir, 'best');
    const extra = { epoch: 3, valAccuracy: 0.81, classes: ['akiec', 'bcc'] };
    await saveModelAtomic(model, target, { alongside: writeState(extra) });
    assert.deepEqual((await fs.readdir(target)).sort(), ['model.json', 'state.json', 'weights.bin']);

    const loaded = await loadModelFromDir(target);
    assert.deepEqual(await readState(loaded.dir), extra);
    assert.deepEqual(
      loaded.model.layers.map((l) => l.name),
      model.layers.map((l) => l.name),
    );
    const x = input();
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.model.predict(x) as tf.Tensor;
    assert.deepEqual(b.shape, [2, 7]);
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.model.dispose();
  });

  /** A dropout-free model: training steps are deterministic, so resumed and uninterrupted training can be compared. */
  const deterministic = (): tfl.LayersModel => {
    const inp = tfl.input({ shape: [32, 32, 3] });
    let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 4, name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(inp) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: 'bn' }).apply(x) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 7, activation: 'softmax', name: 'predictions', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(pooled) as tfl.SymbolicTensor;
    return tfl.model({ inputs: inp, outputs: out });
  };

  async function stepAfterReload(includeOptimizer: boolean): Promise<number> {
    const model = deterministic();
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const x = input();
    const y = tf.oneHot(tf.tensor1d([1, 4], 'int32'), 7);
    await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
    const target = path.join(dir, `resume-${includeOptimizer}`);
    await saveModelAtomic(model, target, { includeOptimizer, alongside: writeState({ epoch: 2 }) });

    const loaded = await loadModelFromDir(target);
    if (includeOptimizer) {
      assert.ok(loaded.model.optimizer, 'the loaded model is compiled');
      assert.equal(loaded.model.optimizer.getClassName(), 'Adam');
      const before = await model.optimizer.getWeights();
      const after = await loaded.model.optimizer.getWeights();
      assert.ok(before.length > 1);
      assert.equal(after.length, before.length);
      before.forEach((w, i) => assert.deepEqual(Array.from(after[i]!.tensor.dataSync()), Array.from(w.tensor.dataSync()), `optimizer weight ${w.name}`));
    } else {
      loaded.model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    }
    await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
    await loaded.model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
    const k1 = model.getLayer('predictions').getWeights()[0]!.dataSync();
    const k2 = loaded.model.getLayer('predictions').getWeights()[0]!.dataSync();
    let maxDiff = 0;
    k1.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - k2[i]!))));
    tf.dispose([x, y]);
    model.dispose();
    loaded.model.dispose();
    return maxDiff;
  }

  it('keeps the optimizer state when asked, so training resumes where it stopped', async () => {
    const resumed = await stepAfterReload(true);
    assert.ok(resumed < 1e-6, `weights after a resumed step differ by ${resumed}`);
    // The comparison can tell: without the Adam moments the same step lands elsewhere.
    const fresh = await stepAfterReload(false);
    assert.ok(fresh > 1e-5, `a fresh optimizer should step differently (diff ${fresh})`);
  });

  it('a save that fails half-way leaves the previous checkpoint intact and no temp dirs behind', async () => {
    const model = classifier();
    const target = path.join(dir, 'atomic');
    await saveModelAtomic(model, target, { alongside: writeState({ epoch: 1 }) });
    const original = await fs.readFile(path.join(target, 'weights.bin'));
    const other = classifier();
    // JSON.stringify throws on a BigInt: the failure happens after model.json/weights.bin were written to the temp dir.
    await assert.rejects(saveModelAtomic(other, target, { alongside: writeState({ epoch: 2n }) }), TypeError);
    assert.deepEqual(await fs.readFile(path.join(target, 'weights.bin')), original);
    const { dir: kept } = await loadModelFromDir(target);
    assert.deepEqual(await readState(kept), { epoch: 1 });
    const leftovers = (await fs.readdir(dir)).filter((n) => n.includes('atomic') && n !== 'atomic');
    assert.deepEqual(leftovers, []);
    model.dispose();
    other.dispose();
  });

  it('reads the moved-aside copy when a crash happened between the two renames', async () => {
    const model = classifier();
    const target = path.join(dir, 'crashed');
    await saveModelAtomic(model, target, { alongside: writeState({ epoch: 5 }) });
    await fs.rename(target, `${target}.old-12345`);
    const loaded = await loadModelFromDir(target);
    assert.equal(loaded.dir, `${target}.old-12345`);
    assert.deepEqual(await readState(loaded.dir), { epoch: 5 });
    model.dispose();
    loaded.model.dispose();
  });

  it('says what is wrong with a missing or truncated checkpoint', async () => {
    await assert.rejects(loadModelFromDir(path.join(dir, 'nothing-here')), (err: unknown) => err instanceof UserError && /model\.json is missing/.test(err.message));
    const model = classifier();
    const target = path.join(dir, 'truncated');
    await saveModelAtomic(model, target);
    const bin = path.join(target, 'weights.bin');
    const bytes = await fs.readFile(bin);
    await fs.writeFile(bin, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(loadModelFromDir(target), (err: unknown) => err instanceof UserError && /truncated/.test(err.message));
    model.dispose();
  });
});
