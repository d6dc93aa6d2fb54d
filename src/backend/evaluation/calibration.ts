/**
 * Whether the model's confidence means what it says. Expected calibration error (Guo et al., 2017):
 * the top-class confidence split into 15 equal-width bins, ECE = Σ (n_b / N) · |accuracy_b − confidence_b|;
 * the bins themselves are the reliability diagram. Temperature scaling divides the logits by one number
 * T fitted on validation by minimising the negative log-likelihood; it changes confidence, never the
 * predicted class.
 *
 * The models end in a softmax, so their logits are log(p) up to a constant per image, which softmax
 * ignores: softmax(log(p) / T) is exactly what scaling the pre-softmax scores by 1/T gives.
 */
import type { ReliabilityBin } from '../../shared/protocol/results';

export const ECE_BINS = 15;
/** Clip before the log: a float32 softmax can underflow to 0. */
const MIN_PROB = 1e-12;

export interface CalibrationFigures {
  ece: number;
  /** Mean negative log-likelihood of the true class (natural log). */
  nll: number;
  bins: ReliabilityBin[];
}

/** ECE, NLL and the reliability diagram's bins for softmax rows. */
export function calibrationOf(probs: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, bins = ECE_BINS): CalibrationFigures {
  const n = labels.length;
  const count = new Float64Array(bins);
  const confSum = new Float64Array(bins);
  const rightSum = new Float64Array(bins);
  let nll = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probs[i * numClasses + k]! > probs[i * numClasses + best]!) best = k;
    const confidence = probs[i * numClasses + best]!;
    // Bins are (lo, hi]; a confidence of exactly 0 joins the first.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
    count[b]!++;
    confSum[b]! += confidence;
    if (best === labels[i]) rightSum[b]!++;
    nll -= Math.log(Math.max(MIN_PROB, probs[i * numClasses + labels[i]!]!));
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = count[b]!;
    const bin: ReliabilityBin = { low: b / bins, high: (b + 1) / bins, count: c };
    if (c > 0) {
      bin.confidence = confSum[b]! / c;
      bin.accuracy = rightSum[b]! / c;
      ece += (c / n) * Math.abs(bin.accuracy - bin.confidence);
    }
    out.push(bin);
  }
  return { ece: n ? ece : 0, nll: n ? nll / n : 0, bins: out };
}

/** softmax(log(p) / T) for each row; a new array. */
export function applyTemperature(probs: ArrayLike<number>, numClasses: number, temperature: number): Float64Array {
  const out = new Float64Array(probs.length);
  const rows = probs.length / numClasses;
  const logits = new Float64Array(numClasses);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let k = 0; k < numClasses; k++) {
      logits[k] = Math.log(Math.max(MIN_PROB, probs[i * numClasses + k]!)) / temperature;
      if (logits[k]! > max) max = logits[k]!;
    }
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += logits[k] = Math.exp(logits[k]! - max);
    for (let k = 0; k < numClasses; k++) out[i * numClasses + k] = logits[k]! / sum;
  }
  return out;
}

/** Mean NLL of softmax(logits / T) for the true classes; `logits` are log-probabilities, row by row. */
function nllAt(logits: Float64Array, labels: ArrayLike<number>, numClasses: number, temperature: number): number {
  let nll = 0;
  for (let i = 0; i < labels.length; i++) {
    let max = -Infinity;
    for (let k = 0; k < numClasses; k++) max = Math.max(max, logits[i * numClasses + k]! / temperature);
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += Math.exp(logits[i * numClasses + k]! / temperature - max);
    nll -= logits[i * numClasses + labels[i]!]! / temperature - max - Math.log(sum);
  }
  return nll / Math.max(1, labels.length);
}

/** Temperatures searched: from sharpening 20× to flattening 20×. */
const T_RANGE: [number, number] = [0.05, 20];

/**
 * The temperature that minimises the validation NLL. The NLL is convex in 1/T, so a golden-section search
 * over 1/T finds the minimum; 60 steps narrow the bracket far below what the NLL can tell apart.
 */
export function fitTemperature(probs: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number {
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = 1 / T_RANGE[1];
  let b = 1 / T_RANGE[0];
  const logits = Float64Array.from({ length: labels.length * numClasses }, (_, i) => Math.log(Math.max(MIN_PROB, probs[i]!)));
  const f = (beta: number): number => nllAt(logits, labels, numClasses, 1 / beta);
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < 60; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = f(d);
    }
  }
  return 1 / ((a + b) / 2);
}
