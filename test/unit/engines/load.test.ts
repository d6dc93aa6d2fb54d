import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../../src/backend/errors';
import { engineInfoForRun, initEngine } from '../../../src/backend/engines/load';
import { GRADIENT_FIXES, activeGradientFixes } from '../../../src/backend/engines/broadcastGradients';

const req = createRequire(__filename);

/** Writes `<dir>/node_modules/<pkg>/` with a package.json and an index.js of the given source. */
function writePackage(dir: string, pkg: string, version: string, source: string): void {
  const root = path.join(dir, 'node_modules', ...pkg.split('/'));
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: pkg, version, main: 'index.js' }));
  writeFileSync(path.join(root, 'index.js'), source);
}

describe('engines › initEngine', function () {
  let tmp: string;
  const savedEnginesDir = process.env.LESION_LAB_ENGINES_DIR;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lesion-engines-'));
  });
  after(async () => {
    if (savedEnginesDir === undefined) delete process.env.LESION_LAB_ENGINES_DIR;
    else process.env.LESION_LAB_ENGINES_DIR = savedEnginesDir;
    tf.removeBackend('tensorflow');
    rmSync(tmp, { recursive: true, force: true });
    await initEngine('cpu');
  });

  it('uses one @tensorflow/tfjs-core for layers and every backend', () => {
    const core = req.resolve('@tensorflow/tfjs-core');
    for (const pkg of ['@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']) {
      const fromPkg = createRequire(req.resolve(pkg)).resolve('@tensorflow/tfjs-core');
      assert.equal(fromPkg, core, `${pkg} resolves tfjs-core to ${fromPkg}`);
    }
  });

  it('cpu: activates the backend, computes, and records versions and patches for the run', async () => {
    const { tf: core, backend } = await initEngine('cpu');
    assert.equal(core.engine(), tf.engine());
    assert.equal(backend, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())), [11]);
    assert.deepEqual(activeGradientFixes(), GRADIENT_FIXES);
    const info = engineInfoForRun();
    assert.equal(info.engine, 'cpu');
    const version = (req('@tensorflow/tfjs-core/package.json') as { version: string }).version;
    assert.equal(info.versions['@tensorflow/tfjs-core'], version);
    assert.equal(info.versions['@tensorflow/tfjs-backend-cpu'], version);
    assert.ok(info.versions['@tensorflow/tfjs-layers']);
    assert.ok(info.patches.includes('broadcasting gradients: Mean, Sum, FusedBatchNorm'), info.patches.join('; '));
  });

  it('wasm: loads the SIMD binary from the package folder and can train a conv (its gradient kernels are present)', async () => {
    const loaded = await initEngine('wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(loaded.device ?? '', /WebAssembly/);
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([3, 3, 2, 2], 0, 1, 'float32', 2));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same'))), [w]);
    assert.equal(grads[w.name]!.shape.join(), '3,3,2,2');
    assert.ok(Number.isFinite(value.dataSync()[0]!));
    tf.dispose([x, w, value, ...Object.values(grads)]);
    const info = engineInfoForRun();
    assert.equal(info.backend, 'wasm');
    assert.ok(info.versions['@tensorflow/tfjs-backend-wasm']);
    assert.ok(info.patches.some((p) => p.startsWith('wasm gradient kernels')));
  });

  it('webgpu: either starts on a real adapter or fails with a UserError that says what to do', async () => {
    try {
      const loaded = await initEngine('webgpu');
      assert.equal(tf.getBackend(), 'webgpu');
      assert.ok(loaded.device);
    } catch (err) {
      assert.ok(err instanceof UserError, String(err));
      assert.match(err.message, /webgpu engine/);
      assert.match(err.message, /--engine wasm/);
    }
  });

  it('tfjs-node: not installed is a UserError that says how to install it', async () => {
    process.env.LESION_LAB_ENGINES_DIR = path.join(tmp, 'empty');
    await assert.rejects(initEngine('tfjs-node'), (err: unknown) => err instanceof UserError && /not installed/.test(err.message) && /Install GPU Engine/.test(err.message));
  });

  it('tfjs-node-gpu: a package in LESION_LAB_ENGINES_DIR that fails to load is reported with the loader message', async () => {
    const dir = path.join(tmp, 'broken');
    writePackage(dir, '@tensorflow/tfjs-node-gpu', '4.22.0', "throw new Error('libcudart.so.11.0: cannot open shared object file');\n");
    process.env.LESION_LAB_ENGINES_DIR = dir;
    await assert.rejects(initEngine('tfjs-node-gpu'), (err: unknown) => err instanceof UserError && /libcudart\.so\.11\.0/.test(err.message) && /CUDA 11\.2/.test(err.message));
  });

  it('tfjs-node: a package found in LESION_LAB_ENGINES_DIR is loaded and its `tensorflow` backend activated', async () => {
    const dir = path.join(tmp, 'working');
    // Registers the plain JS cpu backend under tfjs-node's backend name, through the one shared tfjs-core.
    const core = JSON.stringify(req.resolve('@tensorflow/tfjs-core'));
    const cpu = JSON.stringify(req.resolve('@tensorflow/tfjs-backend-cpu'));
    writePackage(dir, '@tensorflow/tfjs-node', '9.9.9', `const tf = require(${core});\nconst { MathBackendCPU } = require(${cpu});\ntf.registerBackend('tensorflow', () => new MathBackendCPU(), 0);\n`);
    process.env.LESION_LAB_ENGINES_DIR = dir;
    const loaded = await initEngine('tfjs-node');
    assert.equal(loaded.backend, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.equal(engineInfoForRun().versions['@tensorflow/tfjs-node'], '9.9.9');
  });
});
