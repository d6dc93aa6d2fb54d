import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import type { BackendEvent } from '../../../src/shared/protocol/backend';
import { CancelledError } from '../../../src/backend/errors';
import type { JobContext } from '../../../src/backend/job';
import { preprocessFor, preprocessPixelsInto } from '../../../src/backend/models/preprocess';
import type { FeatureNumerics } from '../../../src/backend/training/featureCache';
import { computeFeatures, featureCacheKey, weightFingerprint } from '../../../src/backend/training/featureCache';
import type { LabeledImage, PipelineOptions } from '../../../src/backend/training/imagePipeline';
import { decodeResizedRgb } from '../../../src/backend/training/imagePipeline';

const SIZE = 16;
const CPU: FeatureNumerics = { engine: 'cpu', precision: 'float32' };

/**
 * A small seeded frozen part: conv → ReLU → global average pooling, 4 features per image. Layers are
 * named, as the real backbones' are, so building it again gives the same architecture.
 */
function frozenPart(seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [SIZE, SIZE, 3], name: 'tiny_input' });
  const conv = tfl.layers.conv2d({ name: 'tiny_conv', filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }), biasInitializer: 'ones' });
  const gap = tfl.layers.globalAveragePooling2d({ name: 'tiny_gap' });
  return tfl.model({ inputs: input, outputs: gap.apply(conv.apply(input)) as tfl.SymbolicTensor, name: 'tiny_frozen' });
}

async function writeJpeg(file: string, colour: { r: number; g: number; b: number }, width = 24, height = 20): Promise<void> {
  // A gradient on top of the colour, so the features depend on more than the mean.
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = Math.min(255, colour.r + x * 4);
      rgb[i + 1] = Math.min(255, colour.g + y * 4);
      rgb[i + 2] = colour.b;
    }
  }
  await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
}

function context(signal = new AbortController().signal): JobContext & { events: BackendEvent[] } {
  const events: BackendEvent[] = [];
  return { events, emit: (e) => events.push(e), signal };
}

describe('feature cache for the frozen backbone', function () {
  this.timeout(30_000);
  let dir: string;
  let images: LabeledImage[];
  const opts: PipelineOptions = { size: SIZE, preprocess: preprocessFor('mobilenetv2'), batchSize: 2 };

  before(async () => {
    await tf.setBackend('cpu');
  });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-features-'));
    const colours = [
      { r: 200, g: 40, b: 30 },
      { r: 30, g: 180, b: 60 },
      { r: 90, g: 60, b: 220 },
      { r: 120, g: 120, b: 120 },
      { r: 10, g: 10, b: 10 },
    ];
    images = [];
    for (const [i, c] of colours.entries()) {
      const file = path.join(dir, `img${i}.jpg`);
      await writeJpeg(file, c);
      images.push({ file, label: i % 2 });
    }
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the key changes with the weights, each file, the input size, the preprocessing and the numerics (engine, precision) — and only then', async () => {
    const model = frozenPart();
    const key = await featureCacheKey(model, images, opts, CPU);
    assert.match(key, /^[0-9a-f]{32}$/);
    assert.equal(await featureCacheKey(model, images, opts, CPU), key, 'stable for the same inputs');
    assert.equal(await featureCacheKey(frozenPart(1), images, opts, CPU), key, 'the same architecture and weights built again give the same key');
    assert.equal(await featureCacheKey(model, images, { ...opts, batchSize: 5 }, CPU), key, 'the batch size does not change the features');

    assert.notEqual(await featureCacheKey(model, images, { ...opts, size: SIZE + 8 }, CPU), key, 'input size');
    assert.notEqual(await featureCacheKey(model, images, { ...opts, preprocess: preprocessFor('resnet50') }, CPU), key, 'preprocessing');
    assert.notEqual(await featureCacheKey(model, images.slice(1), opts, CPU), key, 'the image list');
    assert.notEqual(await featureCacheKey(model, [...images].reverse(), opts, CPU), key, 'the image order (rows follow it)');
    assert.notEqual(await featureCacheKey(model, images, opts, { engine: 'webgpu', precision: 'mixed' }), await featureCacheKey(model, images, opts, { engine: 'webgpu', precision: 'float32' }), 'float16 convolutions (mixed) against float32');
    assert.notEqual(await featureCacheKey(model, images, opts, { engine: 'wasm', precision: 'float32' }), key, 'the engine (another summation order)');

    // Weights: change one kernel value (the first, which the strided fingerprint always samples).
    const fingerprint = await weightFingerprint(model);
    const kernel = model.weights[0]!.read();
    const changed = tf.tidy(() => tf.add(kernel, tf.reshape(tf.oneHot(tf.tensor1d([0], 'int32'), kernel.size), kernel.shape)));
    model.weights[0]!.write(changed);
    assert.notEqual(await weightFingerprint(model), fingerprint, 'fingerprint follows the weights');
    assert.notEqual(await featureCacheKey(model, images, opts, CPU), key, 'weights');
    assert.notEqual(await weightFingerprint(frozenPart(2)), fingerprint, 'other random weights, other fingerprint');

    // Files: the same name with new content (size and mtime change), then only the mtime.
    const restored = frozenPart();
    const file = images[2]!.file;
    const before = await fs.stat(file);
    await writeJpeg(file, { r: 250, g: 250, b: 0 }, 40, 30);
    assert.notEqual((await fs.stat(file)).size, before.size);
    const afterRewrite = await featureCacheKey(restored, images, opts, CPU);
    assert.notEqual(afterRewrite, key, 'a rewritten file');
    const t = new Date(Date.now() + 60_000);
    await fs.utimes(file, t, t);
    assert.notEqual(await featureCacheKey(restored, images, opts, CPU), afterRewrite, 'a touched file (mtime only)');
    tf.dispose(changed);
    model.dispose();
    restored.dispose();
  });

  it('computes the frozen part’s outputs once, then reads identical values from the cache', async () => {
    const model = frozenPart();
    const cacheDir = path.join(dir, 'cache');
    const first = await computeFeatures(model, images, opts, CPU, cacheDir, 'features', context());
    assert.equal(first.fromCache, false);
    assert.equal(first.count, images.length);
    assert.equal(first.dim, 4);
    assert.equal(first.data.length, images.length * 4);

    // Known answer: the same images through the model one at a time.
    for (const [i, img] of images.entries()) {
      const x = new Float32Array(SIZE * SIZE * 3);
      preprocessPixelsInto(opts.preprocess, await decodeResizedRgb(img.file, SIZE), x);
      const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [1, SIZE, SIZE, 3])) as tf.Tensor).dataSync());
      for (let k = 0; k < 4; k++) assert.ok(Math.abs(first.data[i * 4 + k]! - expected[k]!) < 1e-5, `image ${i} feature ${k}`);
    }
    const key = await featureCacheKey(model, images, opts, CPU);
    const stored = await fs.readFile(path.join(cacheDir, `${key}.f32`));
    assert.equal(stored.length, images.length * 4 * 4);
    const meta = JSON.parse(await fs.readFile(path.join(cacheDir, `${key}.json`), 'utf8')) as { dim: number; count: number; files: string[] };
    assert.deepEqual(meta.files, images.map((i) => i.file));

    const ctx = context();
    const second = await computeFeatures(model, images, opts, CPU, cacheDir, 'features', ctx);
    assert.equal(second.fromCache, true);
    assert.deepEqual(Array.from(second.data), Array.from(first.data));
    assert.ok(ctx.events.some((e) => e.type === 'log' && /cached backbone features reused/.test(e.message)));
    assert.ok(!ctx.events.some((e) => e.type === 'progress'), 'no image is decoded again');

    // A touched image invalidates the cache: computed afresh, and a second entry is written.
    const t = new Date(Date.now() + 60_000);
    await fs.utimes(images[0]!.file, t, t);
    const third = await computeFeatures(model, images, opts, CPU, cacheDir, 'features', context());
    assert.equal(third.fromCache, false);
    assert.deepEqual(Array.from(third.data), Array.from(first.data), 'same pixels, same features');
    assert.equal((await fs.readdir(cacheDir)).filter((f) => f.endsWith('.f32')).length, 2);
    model.dispose();
  });

  it('recomputes a cache file of the wrong length instead of trusting it', async () => {
    const model = frozenPart();
    const cacheDir = path.join(dir, 'cache');
    const first = await computeFeatures(model, images, opts, CPU, cacheDir, 'features', context());
    const file = path.join(cacheDir, `${await featureCacheKey(model, images, opts, CPU)}.f32`);
    await fs.writeFile(file, Buffer.alloc(12));
    const again = await computeFeatures(model, images, opts, CPU, cacheDir, 'features', context());
    assert.equal(again.fromCache, false);
    assert.deepEqual(Array.from(again.data), Array.from(first.data));
    assert.equal((await fs.stat(file)).size, images.length * 4 * 4, 'the damaged entry is rewritten');
    model.dispose();
  });

  it('stops when cancelled and leaves no cache entry behind', async () => {
    const model = frozenPart();
    const cacheDir = path.join(dir, 'cache');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(computeFeatures(model, images, opts, CPU, cacheDir, 'features', context(controller.signal)), CancelledError);
    const entries = await fs.readdir(cacheDir).catch(() => [] as string[]);
    assert.deepEqual(entries.filter((f) => f.endsWith('.f32')), []);
    model.dispose();
  });
});
