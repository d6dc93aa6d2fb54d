/**
 * Augmentation applied on the fly during training (`train --augment online`): a sampler that draws
 * every class equally often, and the same Keras-style transform `augment` writes to disk.
 */
import type { FillMode } from '../../shared/protocol/augmentation';
import type { Rng } from '../../shared/random';
import { shuffle } from '../../shared/random';
import type { AffineRanges, FillOptions } from './kerasAffine';
import { KERAS_REFERENCE_RANGES, applyAffine, sampleAffineParams } from './kerasAffine';

export interface SampleItem {
  dx: string;
  file: string;
}

/**
 * An endless stream balanced over classes: items come in rounds of one per class (the classes in a
 * fresh random order each round), and within a class in a reshuffled cycle, so every K = number of
 * classes draws hold each class exactly once, and a class's items are all seen before any repeats.
 * Take `epochSize` items for an epoch (e.g. K × the largest class, or the dataset size).
 */
export function* classBalancedSampler<T extends SampleItem>(items: readonly T[], rng: Rng): Generator<T, never, undefined> {
  const byClass = new Map<string, T[]>();
  for (const item of items) {
    const list = byClass.get(item.dx);
    if (list) list.push(item);
    else byClass.set(item.dx, [item]);
  }
  if (byClass.size === 0) throw new Error('classBalancedSampler needs at least one item');
  const classes = [...byClass.keys()].sort();
  const cycles = new Map(classes.map((dx) => [dx, { order: [] as T[], next: 0 }]));
  for (;;) {
    for (const dx of shuffle(rng, [...classes])) {
      const cycle = cycles.get(dx)!;
      if (cycle.next >= cycle.order.length) {
        cycle.order = shuffle(rng, [...byClass.get(dx)!]);
        cycle.next = 0;
      }
      yield cycle.order[cycle.next++]!;
    }
  }
}

/** The first `count` items of a sampler, e.g. one epoch. */
export function takeSamples<T>(sampler: Iterator<T>, count: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(sampler.next().value as T);
  return out;
}

/** One random Keras-style transform of a raw RGB image (same size out), drawn from `rng`. */
export function augmentForTraining(
  raw: Uint8Array,
  width: number,
  height: number,
  rng: Rng,
  ranges: AffineRanges = KERAS_REFERENCE_RANGES,
  fill: FillMode | FillOptions = 'nearest',
): Uint8Array {
  return applyAffine(raw, width, height, sampleAffineParams(rng, ranges), fill, 3);
}
