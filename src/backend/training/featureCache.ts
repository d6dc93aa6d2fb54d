/**
 * While the backbone is frozen its output for an image never changes, so the head phase computes
 * it once per image and trains from the cache (the reference workflow re-ran the full ResNet152
 * forward pass every epoch). The cache key covers everything the features depend on: architecture,
 * the frozen weights themselves (a fingerprint), input size, preprocessing, each file's identity, and the
 * numerics that computed them — the engine (each sums in its own order, so a wasm run reusing cpu features
 * would not repeat a cpu run bit for bit), the precision (float16 convolutions under --precision mixed) and the
 * forward pass itself (batch norm folded into the convolutions: models/foldedInference.ts).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineName } from '../../shared/protocol/engines';
import type { Precision } from '../../shared/protocol/jobs';
import { writeFileAtomic, writeJsonAtomic } from '../fsAtomic';
import { foldBatchNorm } from '../models/foldedInference';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { LabeledImage, PipelineOptions } from './imagePipeline';
import { imageBatches } from './imagePipeline';

export interface CachedFeatures {
  /** count × dim, row-major. */
  data: Float32Array;
  dim: number;
  count: number;
  fromCache: boolean;
}

/**
 * A cheap but weight-sensitive digest: a strided sample of every weight tensor. Read asynchronously: the webgpu
 * backend cannot read GPU memory synchronously in Node (its readSync needs OffscreenCanvas).
 */
export async function weightFingerprint(model: tfl.LayersModel): Promise<string> {
  const hash = createHash('sha256');
  for (const w of model.weights) {
    const values = (await w.read().data()) as Float32Array;
    const step = Math.max(1, Math.floor(values.length / 256));
    const sample = new Float32Array(Math.ceil(values.length / step));
    for (let i = 0, j = 0; i < values.length; i += step, j++) sample[j] = values[i]!;
    // originalName, not name: TF.js suffixes `name` (_1, _2 …) each time the same model is built again in a
    // process, and the backend process outlives a job, so `name` would miss the cache on every later run.
    hash.update(w.originalName).update(w.shape.join('x')).update(Buffer.from(sample.buffer));
  }
  return hash.digest('hex');
}

/** What computed the features: features of one engine or precision are not reused by another. */
export interface FeatureNumerics {
  engine: EngineName;
  /** The precision the engine actually ran with (a mixed request falls back to float32 where it cannot run). */
  precision: Precision;
}

export async function featureCacheKey(frozen: tfl.LayersModel, images: readonly LabeledImage[], opts: PipelineOptions, numerics: FeatureNumerics): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ v: 3, forward: 'batch norm folded', arch: frozen.toJSON(null, false), size: opts.size, preprocess: opts.preprocess, engine: numerics.engine, precision: numerics.precision }));
  hash.update(await weightFingerprint(frozen));
  for (const img of images) {
    const st = await fs.stat(img.file);
    hash.update(`${img.file}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

export async function computeFeatures(
  frozen: tfl.LayersModel,
  images: readonly LabeledImage[],
  opts: PipelineOptions,
  numerics: FeatureNumerics,
  cacheDir: string,
  task: string,
  ctx: JobContext,
): Promise<CachedFeatures> {
  const dim = (frozen.outputs[0]!.shape as number[]).slice(1).reduce((a, b) => a * b, 1);
  const key = await featureCacheKey(frozen, images, opts, numerics);
  const file = path.join(cacheDir, `${key}.f32`);
  const expectedBytes = images.length * dim * 4;
  try {
    const buf = await fs.readFile(file);
    if (buf.length === expectedBytes) {
      ctx.emit({ type: 'log', level: 'info', message: `${task}: ${images.length} cached backbone features reused` });
      return { data: new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4), dim, count: images.length, fromCache: true };
    }
  } catch {
    // not cached yet
  }
  const data = new Float32Array(images.length * dim);
  const progress = new ProgressReporter(ctx.emit, task, images.length, 'image');
  let done = 0;
  const order = images.map((_, i) => i);
  const forward = foldBatchNorm(frozen);
  try {
    for await (const batch of imageBatches(images, order, opts, ctx.signal)) {
      const x = tf.tensor4d(batch.x, [batch.count, opts.size, opts.size, 3]);
      const out = forward.run(x);
      x.dispose();
      const values = (await out.data()) as Float32Array;
      out.dispose();
      data.set(values, done * dim);
      done += batch.count;
      progress.update(done);
    }
  } finally {
    forward.dispose();
  }
  await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await writeJsonAtomic(path.join(cacheDir, `${key}.json`), { dim, count: images.length, ...numerics, files: images.map((i) => i.file), createdAt: new Date().toISOString() });
  return { data, dim, count: images.length, fromCache: false };
}
