/**
 * How far a figure can be trusted, said the same way by the CLI, the model card and every view: a
 * bootstrap confidence interval beside each headline figure, and "at chance level" when a model's
 * balanced-accuracy interval includes what guessing scores (1 / number of classes).
 */

/** A two-sided interval, as fractions (0.71 = 71%). */
export interface Interval {
  low: number;
  high: number;
}

/** Where a model's balanced accuracy stands against guessing. */
export type ChanceVerdict = 'above' | 'at' | 'below';

/**
 * Balanced accuracy (mean per-class recall) of a guess that ignores the image is 1/k: a constant answer
 * gets one class right and the others wrong, a uniform random one gets 1/k of each class right.
 */
export function chanceLevel(numClasses: number): number {
  return numClasses > 0 ? 1 / numClasses : 0;
}

/** 'at' when the interval includes chance, 'below' when it lies wholly under it. */
export function chanceVerdict(ci: Interval, numClasses: number): ChanceVerdict {
  const chance = chanceLevel(numClasses);
  // A constant predictor's interval is exactly [1/k, 1/k]: compare with a little slack for rounding.
  const eps = 1e-9;
  if (ci.high < chance - eps) return 'below';
  if (ci.low <= chance + eps) return 'at';
  return 'above';
}

/** The warning a person sees, or undefined when the model is better than guessing. */
export function chanceWarning(verdict: ChanceVerdict | undefined, numClasses: number): string | undefined {
  const chance = `${(100 * chanceLevel(numClasses)).toFixed(1)}% for ${numClasses} classes`;
  if (verdict === 'at') return `At chance level: the 95% confidence interval of balanced accuracy includes what guessing scores (${chance}). This model has not shown that it can tell the classes apart.`;
  if (verdict === 'below') return `Below chance level: balanced accuracy is reliably worse than guessing (${chance}). Something is wrong with this model or its data.`;
  return undefined;
}

/** "71–88%": whole percents, or tenths when the interval is narrower than two points. */
export function formatInterval(ci: Interval): string {
  const digits = ci.high - ci.low < 0.02 ? 1 : 0;
  return `${(100 * ci.low).toFixed(digits)}–${(100 * ci.high).toFixed(digits)}%`;
}

/** "80.0% (95% CI 71–88%)", or the figure alone when there is no interval. */
export function formatWithInterval(x: number, ci: Interval | undefined, digits = 1): string {
  const value = Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : '–';
  return ci ? `${value} (95% CI ${formatInterval(ci)})` : value;
}

/**
 * Published context for the ISIC 2018 Task 3 test set (1,512 images), balanced multi-class accuracy. The
 * numbers compare only under the official protocol: trained on the official training set only.
 */
export const ISIC2018_LEADERBOARD = {
  topEntry: 0.885,
  bestSingleModel: 0.871,
  top: 'top entry 88.5% (an ensemble using non-public data); best single model 87.1%',
  caveat: 'These compare only under the official protocol: trained on the official ISIC 2018 training set only, evaluated on all 1,512 test images.',
} as const;
