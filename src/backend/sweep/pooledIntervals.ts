/**
 * Percentile bootstrap 95% intervals of balanced accuracy and accuracy for pooled out-of-fold predictions,
 * stratified by class (each resample keeps every class's count, so balanced accuracy stays defined) and seeded.
 */
import { createRng } from '../../shared/random';
import type { Interval } from '../../shared/sweep';

export function pooledIntervals(labels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number, resamples = 1000, seed = 20180): { balancedAccuracy: Interval; accuracy: Interval } {
  const right: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) right[labels[i]!]!.push(labels[i] === predicted[i] ? 1 : 0);
  const present = right.filter((r) => r.length > 0);
  const rng = createRng(seed);
  const balanced = new Float64Array(resamples);
  const accuracy = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let correct = 0;
    let recall = 0;
    for (const flags of present) {
      let c = 0;
      for (let d = 0; d < flags.length; d++) c += flags[(rng() * flags.length) | 0]!;
      correct += c;
      recall += c / flags.length;
    }
    balanced[r] = present.length ? recall / present.length : 0;
    accuracy[r] = labels.length ? correct / labels.length : 0;
  }
  return { balancedAccuracy: central(balanced), accuracy: central(accuracy) };
}

function central(values: Float64Array): Interval {
  values.sort();
  const at = (q: number): number => {
    const pos = q * (values.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(values.length - 1, lo + 1);
    return values[lo]! + (values[hi]! - values[lo]!) * (pos - lo);
  };
  return { low: at(0.025), high: at(0.975) };
}
