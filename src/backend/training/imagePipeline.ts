/**
 * Streams labelled images from disk into preprocessed float batches: decode + resize with sharp
 * (JPEG shrink-on-load, off the main thread), optional online augmentation, and the model's
 * preprocessing. The next batch is decoded while the current one trains; at most two batches are
 * ever in memory, never the dataset.
 */
import sharp from 'sharp';
import type { FillMode } from '../../shared/protocol/augmentation';
import { createRng, deriveSeed } from '../../shared/random';
import type { AffineRanges } from '../augment/kerasAffine';
import { augmentForTraining } from '../augment/online';
import { UserError, throwIfCancelled } from '../errors';
import type { PreprocessSpec } from '../models/preprocess';
import { preprocessPixelsInto } from '../models/preprocess';

export interface LabeledImage {
  file: string;
  /** Class index, or −1 when unknown (prediction). */
  label: number;
}

export interface OnlineAugmentation {
  seed: number;
  ranges: AffineRanges;
  fill: FillMode;
}

export interface Batch {
  /** [count, size, size, 3], preprocessed. */
  x: Float32Array;
  labels: Int32Array;
  /** Indices into the image list, in batch order. */
  indices: number[];
  count: number;
}

/**
 * Decodes any image sharp reads to size×size RGB, stretched like Keras' `load_img(target_size)`. `advice`: what to
 * do about a file that cannot be read (a prepared dataset's image, by default).
 */
export async function decodeResizedRgb(file: string, size: number, advice = 'Check the file, or prepare the dataset again so damaged images are excluded.'): Promise<Uint8Array> {
  try {
    const data = await sharp(file).resize(size, size, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (err) {
    throw new UserError(`Could not read the image ${file}: ${(err as Error).message}. ${advice}`);
  }
}

export interface PipelineOptions {
  size: number;
  preprocess: PreprocessSpec;
  batchSize: number;
  /** Per-epoch augmentation; omitted for validation and feature extraction. */
  augment?: OnlineAugmentation;
  /** Epoch number, so each epoch's augmentation draws differ but stay reproducible. */
  epoch?: number;
}

async function loadBatch(images: readonly LabeledImage[], indices: number[], start: number, opts: PipelineOptions): Promise<Batch> {
  const pixels = opts.size * opts.size * 3;
  const x = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  await Promise.all(
    indices.map(async (index, slot) => {
      const image = images[index]!;
      let rgb = await decodeResizedRgb(image.file, opts.size);
      if (opts.augment) {
        // Seeded by position in the epoch too: a class-balanced epoch repeats minority images, each draw differs.
        const rng = createRng(deriveSeed(opts.augment.seed, 'online', opts.epoch ?? 0, start + slot, index));
        rgb = augmentForTraining(rgb, opts.size, opts.size, rng, opts.augment.ranges, opts.augment.fill);
      }
      preprocessPixelsInto(opts.preprocess, rgb, x, slot * pixels);
      labels[slot] = image.label;
    }),
  );
  return { x, labels, indices, count: indices.length };
}

/** Yields batches over `order` (indices into `images`), prefetching one batch ahead. */
export async function* imageBatches(images: readonly LabeledImage[], order: readonly number[], opts: PipelineOptions, signal: AbortSignal): AsyncGenerator<Batch> {
  const starts: number[] = [];
  for (let i = 0; i < order.length; i += opts.batchSize) starts.push(i);
  const load = (b: number): Promise<Batch> => {
    const batch = loadBatch(images, order.slice(starts[b]!, starts[b]! + opts.batchSize), starts[b]!, opts);
    // A consumer that stops early (cancel, error) never awaits the prefetched batch: its failure must
    // not surface as an unhandled rejection (the wasm backend turns those into a crash).
    batch.catch(() => undefined);
    return batch;
  };
  let next: Promise<Batch> | undefined = starts.length ? load(0) : undefined;
  for (let b = 0; b < starts.length; b++) {
    throwIfCancelled(signal);
    const current: Batch = await next!;
    next = b + 1 < starts.length ? load(b + 1) : undefined;
    yield current;
  }
}
