/**
 * Classification metrics from labels and predictions. Balanced accuracy (mean per-class recall) is
 * the ISIC 2018 Task 3 metric; plain accuracy is reported beside it but rewards predicting `nv`.
 * Classes with no true examples are left out of the balanced mean, as scikit-learn does.
 */
import type { ClassMetrics } from '../../shared/protocol/results';

export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predicted[i]!]!++;
  return m;
}

export function accuracyOf(confusion: number[][]): number {
  let correct = 0;
  let total = 0;
  confusion.forEach((row, i) => row.forEach((n, j) => ((total += n), i === j && (correct += n))));
  return total ? correct / total : 0;
}

export function balancedAccuracyOf(confusion: number[][]): number {
  const recalls = confusion.map((row, i) => [row.reduce((a, b) => a + b, 0), row[i]!] as const).filter(([support]) => support > 0).map(([support, tp]) => tp / support);
  return recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0;
}

export function perClassMetrics(confusion: number[][], classes: readonly string[]): ClassMetrics[] {
  return classes.map((name, k) => {
    const tp = confusion[k]![k]!;
    const support = confusion[k]!.reduce((a, b) => a + b, 0);
    const predictedK = confusion.reduce((a, row) => a + row[k]!, 0);
    const precision = predictedK ? tp / predictedK : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, precision, recall, f1, support };
  });
}

export function argmaxRows(probs: Float32Array | number[], numClasses: number): Int32Array {
  const n = probs.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probs[i * numClasses + k]! > probs[i * numClasses + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/** Mean categorical cross-entropy of softmax outputs, clipped as Keras does (epsilon 1e-7). */
export function crossEntropy(probs: Float32Array | number[], labels: ArrayLike<number>, numClasses: number): { mean: number; perSample: Float64Array } {
  const perSample = new Float64Array(labels.length);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, probs[i * numClasses + labels[i]!]!));
    perSample[i] = -Math.log(p);
    sum += perSample[i]!;
  }
  return { mean: labels.length ? sum / labels.length : 0, perSample };
}
