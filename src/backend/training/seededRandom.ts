/**
 * TF.js draws its random numbers (weight initialisers, dropout masks) from generators it seeds with Math.random()
 * whenever no seed is given, and tfjs-layers gives none. So `--seed` makes a run repeatable only if Math.random
 * itself is seeded while the run builds and trains its model. The backend runs one job at a time, and no code of
 * ours calls Math.random, so replacing it for the length of a job changes nothing else.
 */
import { createRng, deriveSeed } from '../../shared/random';

export async function withSeededMathRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = createRng(deriveSeed(seed, 'tfjs'));
  try {
    return await fn();
  } finally {
    Math.random = original;
  }
}
