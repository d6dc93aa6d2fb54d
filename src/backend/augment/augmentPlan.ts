/**
 * Which augmented files a class should have: a pure function of the train sources, the target and
 * the seed. Output j of a class comes from source order[j mod n] as that source's k-th variant
 * (k = ⌊j / n⌋), so every source gets ⌊needed/n⌋ or ⌈needed/n⌉ variants, and the files for a lower
 * target are a subset of those for a higher one (resume and a changed target only add or remove).
 */
import { createRng, deriveSeed, shuffle } from '../../shared/random';

export interface AugmentSource {
  imageId: string;
  /** Absolute path of the train image. */
  path: string;
}

export interface PlannedOutput {
  source: AugmentSource;
  /** This output is the source's k-th variant. */
  index: number;
  /** File name inside `aug/<dx>/`. */
  name: string;
  /** Seed of the transform drawn for it. */
  seed: number;
}

export interface ClassPlan {
  dx: string;
  /** Train images of the class. */
  before: number;
  skipped: boolean;
  /** Every augmented file the class should end up with, source by source. */
  outputs: PlannedOutput[];
}

export function augmentedFileName(imageId: string, index: number): string {
  return `${imageId}_aug${index}.jpg`;
}

/** Each output's transform is reproducible from the run seed, its source image and its index alone. */
export function outputSeed(seed: number, imageId: string, index: number): number {
  return deriveSeed(seed, 'augment', imageId, index);
}

/** How many outputs a class needs to reach `target` (none when skipped or already there). */
export function outputsNeeded(before: number, target: number, skipped: boolean): number {
  return skipped || before === 0 ? 0 : Math.max(0, target - before);
}

export function planClass(dx: string, sources: readonly AugmentSource[], target: number, seed: number, skipped: boolean): ClassPlan {
  // Sorted first so the plan does not depend on manifest order; then shuffled so that, when a class
  // needs fewer outputs than it has sources, which sources get one is not decided by their IDs.
  const order = shuffle(
    createRng(deriveSeed(seed, 'source-order', dx)),
    [...sources].sort((a, b) => (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0)),
  );
  const n = order.length;
  const needed = outputsNeeded(n, target, skipped);
  const outputs: PlannedOutput[] = [];
  // Source-major order: a source's variants are adjacent, so it is decoded once and released early.
  for (let p = 0; p < Math.min(n, needed); p++) {
    const source = order[p]!;
    const count = Math.floor(needed / n) + (p < needed % n ? 1 : 0);
    for (let k = 0; k < count; k++) {
      outputs.push({ source, index: k, name: augmentedFileName(source.imageId, k), seed: outputSeed(seed, source.imageId, k) });
    }
  }
  return { dx, before: n, skipped, outputs };
}
