/** What finished work reports: dataset summaries, epoch metrics, evaluations, predictions (carried by events, shown by views). */
import { arrayOf, literal, num, obj, optional, str, unknownValue } from '../validate';
import type { LinkMode, SplitMode } from './jobs';

export interface ClassCount {
  images: number;
  lesions: number;
}

export interface DatasetClassSummary {
  name: string;
  all: ClassCount;
  train: ClassCount;
  val: ClassCount;
  /** Present when the prepared set is an ISIC 2018 test set (all images in test/). */
  test?: ClassCount;
  /** Augmented images written for the train split (present once `augment` ran). */
  augmented?: number;
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
  probabilities: Record<string, number>;
  predicted: string;
  gradcam?: string;
}

const classCount = obj({ images: num, lesions: num });
export const datasetSummary = obj({
  sourcePath: str,
  layout: str,
  split: literal('lesion', 'image'),
  valFraction: num,
  seed: num,
  classes: arrayOf(obj({ name: str, all: classCount, train: classCount, val: classCount, test: optional(classCount), augmented: optional(num) })),
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
});
export const evaluation = obj({
  split: str,
  classes: arrayOf(str),
  confusion: arrayOf(arrayOf(num)),
  perClass: arrayOf(obj({ name: str, precision: num, recall: num, f1: num, support: num })),
  accuracy: num,
  balancedAccuracy: num,
  count: num,
  topLosses: arrayOf(unknownValue),
});
