/**
 * How well the model ranks each class above the others, whatever the threshold: one-vs-rest ROC curves
 * with their AUC (trapezoids over the curve, ties counted half, as scikit-learn's roc_auc_score) and
 * precision–recall curves with average precision (scikit-learn's step-wise sum). Macro figures average
 * the classes that have both positives and negatives in the set.
 */
import type { Curve, RankingReport } from '../../shared/protocol/results';

/** Points kept per drawn curve; the areas are computed on every point. */
const MAX_CURVE_POINTS = 256;

interface Counts {
  /** Cumulative true and false positives at each distinct score, highest score first. */
  tp: Float64Array;
  fp: Float64Array;
  positives: number;
  negatives: number;
}

/** Thresholds at every distinct score: what is predicted positive at or above each. */
function cumulativeCounts(scores: ArrayLike<number>, positive: ArrayLike<boolean>): Counts {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const tp: number[] = [];
  const fp: number[] = [];
  let t = 0;
  let f = 0;
  for (let i = 0; i < order.length; i++) {
    const j = order[i]!;
    if (positive[j]) t++;
    else f++;
    // One point per distinct score: tied images cross the threshold together.
    const next = order[i + 1];
    if (next === undefined || scores[next] !== scores[j]) {
      tp.push(t);
      fp.push(f);
    }
  }
  return { tp: Float64Array.from(tp), fp: Float64Array.from(fp), positives: t, negatives: f };
}

export interface Roc {
  curve: Curve;
  auc: number;
}

/** ROC of one class against the rest; undefined when the set lacks positives or negatives. */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): Roc | undefined {
  const { tp, fp, positives, negatives } = cumulativeCounts(scores, positive);
  if (positives === 0 || negatives === 0) return undefined;
  const x = [0];
  const y = [0];
  let auc = 0;
  for (let i = 0; i < tp.length; i++) {
    const fpr = fp[i]! / negatives;
    const tpr = tp[i]! / positives;
    auc += ((fpr - x.at(-1)!) * (tpr + y.at(-1)!)) / 2;
    x.push(fpr);
    y.push(tpr);
  }
  return { curve: thin({ x, y }), auc };
}

export interface PrecisionRecall {
  curve: Curve;
  averagePrecision: number;
}

/** Precision against recall for one class; undefined when the set has no positives. */
export function precisionRecallCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): PrecisionRecall | undefined {
  const { tp, fp, positives } = cumulativeCounts(scores, positive);
  if (positives === 0) return undefined;
  // Starts at recall 0 with precision 1, as scikit-learn draws it.
  const x = [0];
  const y = [1];
  let ap = 0;
  let lastRecall = 0;
  for (let i = 0; i < tp.length; i++) {
    const recall = tp[i]! / positives;
    const precision = tp[i]! / (tp[i]! + fp[i]!);
    ap += (recall - lastRecall) * precision;
    lastRecall = recall;
    x.push(recall);
    y.push(precision);
  }
  return { curve: thin({ x, y }), averagePrecision: ap };
}

/** ROC and precision–recall per class (one-vs-rest) from softmax rows, with macro AUC and macro AP. */
export function rankingReport(probs: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): RankingReport {
  const n = labels.length;
  const perClass: RankingReport['perClass'] = [];
  for (let k = 0; k < numClasses; k++) {
    const scores = new Float64Array(n);
    const positive = new Array<boolean>(n);
    for (let i = 0; i < n; i++) {
      scores[i] = probs[i * numClasses + k]!;
      positive[i] = labels[i] === k;
    }
    const roc = rocCurve(scores, positive);
    const pr = precisionRecallCurve(scores, positive);
    perClass.push({ ...(roc ? { auc: roc.auc, roc: roc.curve } : {}), ...(pr ? { averagePrecision: pr.averagePrecision, pr: pr.curve } : {}) });
  }
  const mean = (xs: number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  const macroAuc = mean(perClass.flatMap((c) => (c.auc === undefined ? [] : [c.auc])));
  const macroAveragePrecision = mean(perClass.flatMap((c) => (c.averagePrecision === undefined ? [] : [c.averagePrecision])));
  return { perClass, ...(macroAuc !== undefined ? { macroAuc } : {}), ...(macroAveragePrecision !== undefined ? { macroAveragePrecision } : {}) };
}

/**
 * At most `max` points for drawing: the ends and every point that moves the curve by a visible step
 * (ROC is monotone in both axes, so this alone bounds it; a jagged precision curve is then sampled evenly).
 */
export function thin(curve: Curve, max = MAX_CURVE_POINTS): Curve {
  const n = curve.x.length;
  if (n <= max) return rounded(curve);
  const step = 2 / (max - 2);
  let keep = [0];
  for (let i = 1; i < n - 1; i++) {
    const last = keep.at(-1)!;
    if (Math.abs(curve.x[i]! - curve.x[last]!) >= step || Math.abs(curve.y[i]! - curve.y[last]!) >= step) keep.push(i);
  }
  keep.push(n - 1);
  if (keep.length > max) keep = Array.from({ length: max }, (_, j) => keep[Math.round((j * (keep.length - 1)) / (max - 1))]!);
  return rounded({ x: keep.map((i) => curve.x[i]!), y: keep.map((i) => curve.y[i]!) });
}

/** Five decimals: far below a pixel, and a third of the JSON. */
function rounded(curve: Curve): Curve {
  const r = (v: number): number => Math.round(v * 1e5) / 1e5;
  return { x: curve.x.map(r), y: curve.y.map(r) };
}
