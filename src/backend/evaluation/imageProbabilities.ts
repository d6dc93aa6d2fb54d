/**
 * A model's class probabilities for a list of images, batch by batch from disk: what a sweep task keeps for the
 * out-of-fold pool and what an ensemble averages. With TTA each image's 8 dihedral copies are averaged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { throwIfCancelled } from '../errors';
import type { PreprocessSpec } from '../models/preprocess';
import { preprocessPixelsInto } from '../models/preprocess';
import type { LabeledImage } from '../training/imagePipeline';
import { decodeResizedRgb, imageBatches } from '../training/imagePipeline';
import { dihedralVariants } from './predict';

export interface ProbabilityOptions {
  size: number;
  preprocess: PreprocessSpec;
  batchSize: number;
  tta?: boolean;
}

/** Row-major [images × classes]. `onImages(done)` after each batch (or image, with TTA). */
export async function imageProbabilities(
  predict: (x: tf.Tensor4D) => tf.Tensor,
  images: readonly LabeledImage[],
  numClasses: number,
  opts: ProbabilityOptions,
  signal: AbortSignal,
  onImages?: (done: number) => void,
): Promise<Float32Array> {
  const probs = new Float32Array(images.length * numClasses);
  const { size } = opts;
  if (opts.tta) {
    for (const [n, image] of images.entries()) {
      throwIfCancelled(signal);
      const variants = dihedralVariants(await decodeResizedRgb(image.file, size), size);
      const batch = new Float32Array(variants.length * size * size * 3);
      variants.forEach((v, i) => preprocessPixelsInto(opts.preprocess, v, batch, i * size * size * 3));
      const mean = tf.tidy(() => tf.mean(predict(tf.tensor4d(batch, [variants.length, size, size, 3])), 0));
      probs.set((await mean.data()) as Float32Array, n * numClasses);
      mean.dispose();
      onImages?.(n + 1);
    }
    return probs;
  }
  let done = 0;
  for await (const b of imageBatches(images, images.map((_, i) => i), { size, preprocess: opts.preprocess, batchSize: opts.batchSize }, signal)) {
    const out = tf.tidy(() => predict(tf.tensor4d(b.x, [b.count, size, size, 3])));
    // data(), not dataSync(): the webgpu backend has no synchronous GPU read in Node.
    probs.set((await out.data()) as Float32Array, done * numClasses);
    out.dispose();
    done += b.count;
    onImages?.(done);
  }
  return probs;
}
