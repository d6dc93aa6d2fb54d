/**
 * Bootstrap confidence intervals for the headline figures (Efron's percentile method). Resampling is
 * stratified by class: each resample draws, with replacement, as many images of each class as the set
 * has, so every resample keeps the class counts and balanced accuracy stays defined. Seeded: the same
 * predictions and seed give the same interval.
 *
 * Each class's recall gets the Wilson score interval instead (a binomial proportion with n = the class's
 * images): the percentile bootstrap collapses to [1, 1] for a class whose images were all right, which on
 * ten images would claim a certainty the data cannot give (Wilson: 72–100%).
 *
 * Only whether each image was classified right matters, so a resample is a count of correct draws per
 * class; with typed arrays, 1,000 resamples of 2,000 images take a few milliseconds (bench/bootstrap.ts).
 */
import { createRng } from '../../shared/random';
import type { Interval } from '../../shared/trust';

export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 20180;
export const CONFIDENCE_LEVEL = 0.95;

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** 0.95 for a 95% interval. */
  level?: number;
}

export interface BootstrapIntervals {
  balancedAccuracy: Interval;
  accuracy: Interval;
  /** Per class, Wilson score intervals; undefined for a class with no images in the set. */
  recall: (Interval | undefined)[];
  resamples: number;
  seed: number;
  level: number;
}

/** Percentile bootstrap intervals of balanced accuracy and accuracy; Wilson intervals of each class's recall. */
export function bootstrapIntervals(labels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number, options: BootstrapOptions = {}): BootstrapIntervals {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? BOOTSTRAP_SEED;
  const level = options.level ?? CONFIDENCE_LEVEL;
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`bootstrapIntervals: resamples must be a positive whole number, got ${resamples}`);
  // Per class, which of its images were classified right (1) or wrong (0).
  const support = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) support[labels[i]!]!++;
  const correct: Uint8Array[] = Array.from({ length: numClasses }, (_, k) => new Uint8Array(support[k]!));
  const filled = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i]!;
    correct[k]![filled[k]!++] = labels[i] === predicted[i] ? 1 : 0;
  }
  const present = [...support.keys()].filter((k) => support[k]! > 0);
  const total = labels.length;

  const rng = createRng(seed);
  const balanced = new Float64Array(resamples);
  const accuracy = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let right = 0;
    let recallSum = 0;
    for (let j = 0; j < present.length; j++) {
      const flags = correct[present[j]!]!;
      const n = flags.length;
      let c = 0;
      for (let d = 0; d < n; d++) c += flags[(rng() * n) | 0]!;
      right += c;
      recallSum += c / n;
    }
    balanced[r] = present.length ? recallSum / present.length : 0;
    accuracy[r] = total ? right / total : 0;
  }
  const perClass: (Interval | undefined)[] = new Array<Interval | undefined>(numClasses).fill(undefined);
  for (const k of present) {
    const flags = correct[k]!;
    let right = 0;
    for (let d = 0; d < flags.length; d++) right += flags[d]!;
    perClass[k] = wilsonInterval(right, flags.length, level);
  }
  return { balancedAccuracy: percentileInterval(balanced, level), accuracy: percentileInterval(accuracy, level), recall: perClass, resamples, seed, level };
}

/** Wilson's score interval of a binomial proportion: `successes` of `n`, at the two-sided `level`. */
export function wilsonInterval(successes: number, n: number, level: number): Interval {
  if (n <= 0) return { low: NaN, high: NaN };
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  // Clamp the rounding at the ends: at p = 1 the upper bound is exactly 1.
  return { low: Math.max(0, successes === 0 ? 0 : centre - half), high: Math.min(1, successes === n ? 1 : centre + half) };
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`normalQuantile: q must be in (0, 1), got ${q}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (t: number): number => (((((c[0]! * t + c[1]!) * t + c[2]!) * t + c[3]!) * t + c[4]!) * t + c[5]!) / ((((d[0]! * t + d[1]!) * t + d[2]!) * t + d[3]!) * t + 1);
  if (q < 0.02425) return tail(Math.sqrt(-2 * Math.log(q)));
  if (q > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - q)));
  const r = q - 0.5;
  const t = r * r;
  return ((((((a[0]! * t + a[1]!) * t + a[2]!) * t + a[3]!) * t + a[4]!) * t + a[5]!) * r) / (((((b[0]! * t + b[1]!) * t + b[2]!) * t + b[3]!) * t + b[4]!) * t + 1);
}

/** The central `level` share of the values (sorted in place), with numpy's default linear interpolation. */
export function percentileInterval(values: Float64Array, level: number): Interval {
  values.sort();
  const tail = (1 - level) / 2;
  return { low: quantileOfSorted(values, tail), high: quantileOfSorted(values, 1 - tail) };
}

function quantileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
