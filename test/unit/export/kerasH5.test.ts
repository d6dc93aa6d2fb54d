import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { writeKerasModelH5, writeKerasWeightsH5 } from '../../../src/backend/export/kerasH5';
import { buildBackbone, buildClassifier } from '../../../src/backend/models/backbone';
import { loadKerasH5Weights } from '../../../src/backend/models/weights';
import { runPython } from '../../helpers/debianPython';

const build = () => buildClassifier(buildBackbone('mobilenetv2', { inputSize: 32, alpha: 0.35 }), 4);

// What h5py (Keras' own reader) sees in a full-model file.
const READ_FULL_MODEL = `
import json, sys, h5py
f = h5py.File(sys.argv[1], 'r')
cfg = json.loads(f.attrs['model_config'])
mw = f['model_weights']
weights = {}
for name in [n.decode() for n in mw.attrs['layer_names']]:
    names = [w.decode() for w in mw[name].attrs['weight_names']]
    weights[name] = [[w, list(mw[name][w].shape)] for w in names]
print(json.dumps({
  'root': sorted(f.attrs.keys()),
  'keras_version': f.attrs['keras_version'], 'backend': f.attrs['backend'],
  'class_name': cfg['class_name'],
  'layers': [[l['name'], l['class_name']] for l in cfg['config']['layers']],
  'inbound': {l['name']: [n[0] for n in (l['inbound_nodes'][0] if l['inbound_nodes'] else [])] for l in cfg['config']['layers']},
  'weights': weights,
}))
`;

describe('export/keras: Keras 2 HDF5 files written with h5wasm', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    await tf.setBackend('cpu');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-keras-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('full model: h5py reads model_config naming every layer (Keras class names, inbound nodes) and a weight group for each', async () => {
    const model = build();
    const file = path.join(dir, 'model.h5');
    await writeKerasModelH5(model, file, { lesion_lab_metadata: '{"classes":["a","b","c","d"]}' });
    const seen = JSON.parse(await runPython(READ_FULL_MODEL, [file]));
    assert.deepEqual(seen.root, ['backend', 'keras_version', 'lesion_lab_metadata', 'model_config']);
    assert.equal(seen.backend, 'tensorflow');
    assert.match(seen.keras_version, /^2\./);
    assert.equal(seen.class_name, 'Functional');
    assert.deepEqual(seen.layers, model.layers.map((l) => [l.name, l.getClassName()]));
    assert.deepEqual(seen.inbound['block_2_add'], ['block_1_project_BN', 'block_2_project_BN']);
    for (const layer of model.layers) {
      const expected = layer.weights.map((w) => [`${layer.name}/${w.originalName.split('/').pop()}:0`, [...w.shape]]);
      assert.deepEqual(seen.weights[layer.name], expected, layer.name);
    }
    model.dispose();
  });

  it('weights only (save_weights layout): Lesion Lab reads it back into a fresh model with identical predictions', async () => {
    const model = build();
    // Move every weight off its initial value so a load that silently did nothing would show.
    model.setWeights(model.getWeights().map((w, i) => tf.add(w, tf.randomNormal(w.shape, 0, 0.1, 'float32', i))));
    const file = path.join(dir, 'weights.h5');
    await writeKerasWeightsH5(model, file);
    const fresh = build();
    const report = await loadKerasH5Weights(fresh, file);
    assert.equal(report.layersLoaded, model.layers.filter((l) => l.weights.length > 0).length);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
    const a = await (model.predict(x) as tf.Tensor).data();
    const b = await (fresh.predict(x) as tf.Tensor).data();
    assert.deepEqual(Array.from(b), Array.from(a));
    model.dispose();
    fresh.dispose();
  });
});
