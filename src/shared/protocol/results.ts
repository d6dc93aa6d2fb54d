/** What finished work reports: dataset summaries, epoch metrics, evaluations, predictions (carried by events, shown by views). */
import { arrayOf, literal, nullable, num, obj, optional, recordOf, str, unknownValue } from '../validate';
import type { LinkMode, SplitMode } from './jobs';

export interface ClassCount {
  images: number;
  lesions: number;
}

export interface DatasetClassSummary {
  name: string;
  /** The long name, where the data names a known diagnosis by its abbreviation (HAM10000, ISIC). */
  label?: string;
  all: ClassCount;
  train: ClassCount;
  val: ClassCount;
  /** Present when the prepared set is an ISIC 2018 test set (all images in test/). */
  test?: ClassCount;
  /** Augmented images written for the train split (present once `augment` ran). */
  augmented?: number;
}

export interface SplitGrouping {
  column: string;
  /** What one group is, for people: "lesion", "patient", or "group" for a column of the user's. */
  noun: 'lesion' | 'patient' | 'group';
  /** Images with no value in the column: each is a group of its own. */
  ungrouped: number;
}

export interface ExcludedFile {
  file: string;
  reason: string;
}

export interface DatasetSummary {
  sourcePath: string;
  layout: string;
  split: SplitMode;
  valFraction: number;
  seed: number;
  link: LinkMode;
  /** Image-level split only: lesions with images on both sides (leakage). */
  straddlingLesions?: number;
  /**
   * What the split kept together: the column (lesion_id, patient_id or the user's) and what one group is.
   * Absent when the data has no group column: then every image is a group of its own.
   */
  grouping?: SplitGrouping;
  /** Said plainly when the split cannot rule out that one lesion or patient has images on both sides. */
  leakage?: string;
  classes: DatasetClassSummary[];
  excludedCount: number;
  /** First excluded files (the full list is in manifest.json). */
  excluded: ExcludedFile[];
  preparedAt: string;
}

export interface EpochMetrics {
  phase: 'head' | 'finetune';
  /** 1-based over the whole run (head epochs, then fine-tune epochs). */
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  valBalancedAccuracy: number;
  lr: number;
  seconds: number;
  finishedAt: string;
  /** Training batches run by the end of this epoch, over the whole run (the step axis); absent in older runs. */
  step?: number;
}

/** One training batch: a line of batches.jsonl, and a point of the live per-batch curves. */
export interface BatchMetrics {
  phase: 'head' | 'finetune';
  /** The epoch it belongs to, 1-based over the whole run. */
  epoch: number;
  /** 1-based within the epoch, of `batches`. */
  batch: number;
  batches: number;
  /** Training batches run so far over the whole run, this one included: (epoch − 1) · batches + batch. */
  step: number;
  /** This batch's own loss and accuracy (not a running mean): what the curves smooth. null: not a number (a diverging batch; JSON has no NaN). */
  loss: number | null;
  accuracy: number | null;
  lr: number;
  /** When it finished, in ms since 1970 (the wall-time axis). */
  time: number;
}

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  split: string;
  classes: string[];
  /** Long names of the classes that have one (absent in evaluations written before classes came from the data). */
  classLabels?: Record<string, string>;
  /** confusion[true][predicted] */
  confusion: number[][];
  perClass: ClassMetrics[];
  accuracy: number;
  balancedAccuracy: number;
  count: number;
  topLosses: { image: string; trueClass: string; predicted: string; loss: number }[];
}

export interface Prediction {
  image: string;
  /** By class name; the model's class order is the run's (predict/didFinish › classes). */
  probabilities: Record<string, number>;
  predicted: string;
  gradcam?: string;
}

/** An image predict could not classify, and why (in words a person can act on). */
export interface PredictFailure {
  image: string;
  error: string;
}

const classCount = obj({ images: num, lesions: num });
export const datasetSummary = obj({
  sourcePath: str,
  layout: str,
  split: literal('lesion', 'image'),
  valFraction: num,
  seed: num,
  grouping: optional(obj({ column: str, noun: literal('lesion', 'patient', 'group'), ungrouped: num })),
  leakage: optional(str),
  classes: arrayOf(obj({ name: str, label: optional(str), all: classCount, train: classCount, val: classCount, test: optional(classCount), augmented: optional(num) })),
  excludedCount: num,
  excluded: arrayOf(obj({ file: str, reason: str })),
});
export const trainPhase = literal('head', 'finetune');
export const epochMetrics = obj({
  phase: trainPhase,
  epoch: num,
  loss: num,
  accuracy: num,
  valLoss: num,
  valAccuracy: num,
  valBalancedAccuracy: num,
  lr: num,
  seconds: num,
  step: optional(num),
});
export const batchMetrics = obj({ phase: trainPhase, epoch: num, batch: num, batches: num, step: num, loss: nullable(num), accuracy: nullable(num), lr: num, time: num });
export const evaluation = obj({
  split: str,
  classes: arrayOf(str),
  classLabels: optional(recordOf(str)),
  confusion: arrayOf(arrayOf(num)),
  perClass: arrayOf(obj({ name: str, precision: num, recall: num, f1: num, support: num })),
  accuracy: num,
  balancedAccuracy: num,
  count: num,
  topLosses: arrayOf(unknownValue),
});
