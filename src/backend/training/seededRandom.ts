/**
 * TF.js draws its random numbers (weight initialisers, dropout masks) from generators it seeds with Math.random()
 * whenever no seed is given, and tfjs-layers gives none. So `--seed` makes a run repeatable only if Math.random
 * itself is seeded while the run builds and trains its model. The backend runs one job at a time, and no code of
 * ours calls Math.random, so replacing it for the length of a job changes nothing else.
 *
 * Each epoch then draws from a stream of its own (`reseedMathRandom(seed, phase, epoch)`), the way the epoch's batch
 * order does: a run resumed after a crash starts the epoch from the same state as the uninterrupted run, whatever
 * was drawn before it (a model loaded from a checkpoint runs its initialisers too) — nothing to save, nothing to drift.
 */
import { createRng, deriveSeed } from '../../shared/random';

let active = false;

export async function withSeededMathRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = createRng(deriveSeed(seed, 'tfjs'));
  active = true;
  try {
    return await fn();
  } finally {
    active = false;
    Math.random = original;
  }
}

/** Starts a fresh stream derived from `seed` and `parts`; only inside withSeededMathRandom (which restores the original). */
export function reseedMathRandom(seed: number, ...parts: (number | string)[]): void {
  if (!active) throw new Error('reseedMathRandom outside withSeededMathRandom');
  Math.random = createRng(deriveSeed(seed, 'tfjs', ...parts));
}
