/**
 * Preview Augmentations: the image and `count` variants under the given ranges and fill mode, each
 * with the parameters that were drawn, so a user sees what a transform does before committing to a run.
 */
import type { AugmentRanges, FillMode } from '../../shared/protocol/augmentation';
import { createRng, deriveSeed } from '../../shared/random';
import { applyAffine, sampleAffineParams } from '../augment/kerasAffine';
import { throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { decodeResizedRgb } from '../training/imagePipeline';
import { jpegDataUri } from './thumbnails';

export interface AugmentPreviewOptions {
  image: string;
  count: number;
  seed: number;
  size: number;
  ranges: AugmentRanges;
  fill: FillMode;
}

export async function renderAugmentPreview(o: AugmentPreviewOptions, ctx: JobContext): Promise<void> {
  // As the reference generator: resize to the training size first, then transform at that size.
  const rgb = await decodeResizedRgb(o.image, o.size);
  const raw = { width: o.size, height: o.size };
  const original = await jpegDataUri(Buffer.from(rgb), o.size, raw);
  const variants = [];
  for (let i = 0; i < o.count; i++) {
    throwIfCancelled(ctx.signal);
    const params = sampleAffineParams(createRng(deriveSeed(o.seed, o.image, i)), o.ranges);
    const out = applyAffine(rgb, o.size, o.size, params, o.fill);
    variants.push({ dataUri: await jpegDataUri(Buffer.from(out), o.size, raw), params });
  }
  ctx.emit({ type: 'augmentPreview/didRender', image: o.image, original, variants });
}
