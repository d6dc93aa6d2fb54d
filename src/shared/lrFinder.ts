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

/**
 * The suggestion, from the smoothed curve as fastai reads it: leave out the first tenth of the points (the
 * average is still settling) and the last few (where it diverges); the minimum; and the steepest descent per
 * decade of learning rate on the way down to it (past the minimum the curve only climbs or thrashes, and a
 * "descent" there is noise). Points whose loss is not a number are left out. Undefined fields: the curve
 * has too few usable points, or never descends.
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
  let steepest: number | undefined;
  let steepestSlope = 0;
  for (let i = 0; i < minAt; i++) {
    const a = window[i]!;
    const b = window[i + 1]!;
    const slope = (b.smoothed - a.smoothed) / (Math.log10(b.lr) - Math.log10(a.lr));
    if (Number.isFinite(slope) && slope < steepestSlope) {
      steepestSlope = slope;
      steepest = a.lr;
    }
  }
  const minimum = window[minAt]!.lr;
  const minimumTenth = minimum / 10;
  return { steepest, minimum, minimumTenth, suggested: steepest ?? (minAt > 0 ? minimumTenth : undefined) };
}
