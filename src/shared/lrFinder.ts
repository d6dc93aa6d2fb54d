/**
 * The learning-rate range test (Smith 2015, "Cyclical Learning Rates"; fastai's `lr_find`): the learning
 * rate grows exponentially batch by batch, the loss is smoothed, and the test stops once it diverges.
 * The pure half: the schedule, the smoothing, when to stop, and the suggestion read off the curve.
 */
import { emaSmooth } from './smoothing';

/** One batch of the test: its learning rate, its loss (null: not a number) and the smoothed loss so far. */
export interface LrPoint {
  lr: number;
  loss: number | null;
  smoothed: number | null;
}

export interface LrSuggestion {
  /** Where the smoothed loss falls fastest per decade of learning rate (fastai's "steep"). */
  steepest?: number;
  /** The learning rate at the smoothed loss's minimum, and a tenth of it (fastai's "minimum"). */
  minimum?: number;
  minimumTenth?: number;
  /** What goes into the form: the steepest descent, else a tenth of the minimum. */
  suggested?: number;
}

/** fastai's smoothing factor for the range test. */
export const LR_FIND_BETA = 0.98;
/** fastai stops when the smoothed loss exceeds four times the best smoothed loss. */
export const LR_FIND_DIVERGENCE = 4;

/** The learning rate of batch `i` of `steps`: from `start` to `end` geometrically (both included). */
export function lrAt(i: number, steps: number, start: number, end: number): number {
  return steps <= 1 ? start : start * Math.pow(end / start, i / (steps - 1));
}

/** The smoothed losses of the test: fastai's debiased moving average, the same as the curves' (smoothing.ts). */
export function smoothLosses(losses: readonly (number | null)[], beta = LR_FIND_BETA): (number | null)[] {
  return emaSmooth(losses, beta);
}

/**
 * Why the test stops after a point, if it does: the loss is not a number, or the smoothed loss has grown
 * past `LR_FIND_DIVERGENCE` times the best so far.
 */
export function stopReason(loss: number | null, smoothed: number | null, bestSmoothed: number): 'nan' | 'divergence' | undefined {
  if (loss === null || !Number.isFinite(loss) || smoothed === null) return 'nan';
  if (Number.isFinite(bestSmoothed) && smoothed > LR_FIND_DIVERGENCE * bestSmoothed) return 'divergence';
  return undefined;
}

/** How far the smoothed loss must fall before its minimum for the curve to count as descending (a share of where it started). */
export const LR_FIND_MIN_DROP = 0.02;
/** The slope is measured across half a decade of learning rate: across neighbouring points it is mostly noise. */
const SLOPE_SPAN_DECADES = 0.5;

/**
 * The suggestion, from the smoothed curve as fastai reads it: leave out the first tenth of the points (the
 * average is still settling) and the last few (where it diverges); the minimum; and the steepest descent per
 * decade of learning rate on the way down to it (past the minimum the curve only climbs or thrashes). The
 * slope is taken across half a decade, and only a curve that falls by LR_FIND_MIN_DROP before its minimum
 * has a steepest descent: on a flat, noisy curve the steepest "descent" is noise (then a tenth of the minimum
 * is suggested). Points whose loss is not a number are left out. Undefined fields: too few usable points,
 * or the curve never descends.
 */
export function suggestLearningRate(points: readonly LrPoint[]): LrSuggestion {
  const skipStart = Math.floor(points.length / 10);
  const skipEnd = points.length > 20 ? 5 : 0;
  const window = points.slice(skipStart, points.length - skipEnd).filter((p): p is LrPoint & { smoothed: number } => p.smoothed !== null && Number.isFinite(p.smoothed) && p.lr > 0);
  if (window.length === 0) return {};
  let minAt = 0;
  window.forEach((p, i) => {
    if (p.smoothed < window[minAt]!.smoothed) minAt = i;
  });
  const minimum = window[minAt]!.lr;
  const minimumTenth = minimum / 10;
  if (minAt === 0) return { minimum, minimumTenth };
  const decadesPerPoint = (Math.log10(window.at(-1)!.lr) - Math.log10(window[0]!.lr)) / Math.max(1, window.length - 1);
  const span = Math.max(1, Math.round(SLOPE_SPAN_DECADES / Math.max(decadesPerPoint, 1e-9)));
  const descends = window[0]!.smoothed - window[minAt]!.smoothed > LR_FIND_MIN_DROP * Math.abs(window[0]!.smoothed);
  let steepest: number | undefined;
  let steepestSlope = 0;
  for (let i = 0; descends && i < minAt; i++) {
    const j = Math.min(i + span, minAt);
    const a = window[i]!;
    const b = window[j]!;
    const slope = (b.smoothed - a.smoothed) / (Math.log10(b.lr) - Math.log10(a.lr));
    if (Number.isFinite(slope) && slope < steepestSlope) {
      steepestSlope = slope;
      // The middle of the span, as a point of the curve.
      steepest = window[i + Math.floor((j - i) / 2)]!.lr;
    }
  }
  return { steepest, minimum, minimumTenth, suggested: steepest ?? minimumTenth };
}
