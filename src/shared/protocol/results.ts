/** What finished work reports: dataset summaries, epoch metrics, evaluations, predictions (carried by events, shown by views). */
import { arrayOf, bool, literal, nullable, num, obj, optional, recordOf, str, unknownValue } from '../validate';
import type { ChanceVerdict, Interval } from '../trust';
import type { LinkMode, Monitor, SplitMode } from './jobs';

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

/** One image of a near-duplicate pair, as the views show it. */
export interface NearDuplicateImage {
  /** Relative to the prepared folder, `/`-separated (its split and class folder are in it). */
  file: string;
  imageId: string;
  /** Its group (lesion, patient …) in the data. */
  lesionId: string;
  dx: string;
  split: 'train' | 'val' | 'test';
}

/** Two images of different groups whose perceptual hashes differ in at most the threshold's bits. */
export interface NearDuplicatePair {
  a: NearDuplicateImage;
  b: NearDuplicateImage;
  /** Hamming distance between the two 64-bit hashes. */
  distance: number;
}

/** What prepare found and did about near-duplicates (manifest.json › nearDuplicates has every pair). */
export interface NearDuplicateSummary {
  /** group: each cluster was kept on one side of the split; ignore: only reported. */
  mode: 'group' | 'ignore';
  /** The Hamming threshold in bits (of 64). */
  distance: number;
  /** Images hashed (all that decoded). */
  hashed: number;
  /** Pairs of images from different groups within the threshold (manifest.json lists the first 5,000). */
  pairs: number;
  /** Connected sets of images that the pairs link. */
  clusters: number;
  /** Images in the largest cluster. */
  largestCluster: number;
  /** Pairs whose two images ended up in different splits (train/val/test) as prepared. */
  crossSplit: number;
  /** Pairs across train and val that the plain split (without grouping) made or would make. */
  crossSplitPlain: number;
  /** Groups joined with another one to keep a cluster together (group mode). */
  groupsJoined: number;
  /** The first pairs, cross-split ones first, for the views. */
  shown: NearDuplicatePair[];
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
  /** The images are Lesion Lab's synthetic demo data (`demo-data` marked the folder): painted, not photographed. */
  synthetic?: boolean;
  /** Perceptual-hash near-duplicates across groups (absent in datasets prepared before it was recorded). */
  nearDuplicates?: NearDuplicateSummary;
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
  /** Bootstrap 95% interval of valBalancedAccuracy (absent in runs from before it was recorded). */
  valBalancedAccuracyCi?: Interval;
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
  /** Bootstrap 95% interval of the recall; absent for a class with no images in the set. */
  recallCi?: Interval;
}

/** A curve to draw: ROC (x false-positive rate, y true-positive rate) or precision–recall (x recall, y precision). */
export interface Curve {
  x: number[];
  y: number[];
}

/** One-vs-rest ranking per class, in the evaluation's class order; a class missing from the set has no curve. */
export interface RankingReport {
  perClass: { auc?: number; roc?: Curve; averagePrecision?: number; pr?: Curve }[];
  macroAuc?: number;
  macroAveragePrecision?: number;
}

/** A bin of the reliability diagram: the images whose top-class confidence lies in (low, high]. */
export interface ReliabilityBin {
  low: number;
  high: number;
  count: number;
  /** Mean confidence and accuracy of the bin's images; absent for an empty bin. */
  confidence?: number;
  accuracy?: number;
}

export interface CalibrationFiguresReport {
  /** Expected calibration error over 15 equal-width bins of top-class confidence. */
  ece: number;
  /** Mean negative log-likelihood of the true class. */
  nll: number;
  bins: ReliabilityBin[];
}

export interface CalibrationReport extends CalibrationFiguresReport {
  /** Temperature scaling (fitted on the validation set) and what it does to this set. */
  temperature?: CalibrationFiguresReport & { value: number; fittedOn: string };
}

/** Which set an evaluation is of, and what its figures can stand for. */
export interface EvaluatedSet {
  /** 'val', 'test', or the name of another prepared folder. */
  id: string;
  kind: 'validation' | 'test';
  /** The report's file in the run folder: evaluation.json (validation), evaluation-test.json, evaluation-<name>.json. */
  report: string;
  /** The prepared folder the images come from. */
  prepared: string;
  /** This set chose the checkpoint, so its figures are optimistic. */
  usedForSelection: boolean;
  /** The ISIC 2018 Task 3 test set: the published leaderboard gives context. */
  isic2018Test?: boolean;
  /** Images of this set that the run trained on (by their original file). */
  overlapWithTraining?: number;
  /** An ensemble's report (id 'ensemble'): the run folders whose probabilities were averaged. */
  members?: string[];
}

/** One evaluated image: its true and predicted class (indices into `classes`) and the softmax row. */
export interface EvaluatedImage {
  file: string;
  label: number;
  predicted: number;
  probabilities: number[];
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
  /** The fields below are absent in evaluations written before they were computed. */
  set?: EvaluatedSet;
  balancedAccuracyCi?: Interval;
  accuracyCi?: Interval;
  /** How the intervals were drawn: seeded percentile bootstrap, stratified by class. */
  bootstrap?: { resamples: number; seed: number; level: number; stratified: boolean };
  /** Balanced accuracy against guessing (1 / number of classes). */
  chance?: { level: number; verdict: ChanceVerdict };
  ranking?: RankingReport;
  calibration?: CalibrationReport;
  /** The checkpoint evaluated, and the validation metric that chose it. */
  checkpointEpoch?: number;
  monitor?: Monitor;
  evaluatedAt?: string;
  /** Every image with its probabilities (the Evaluation panel lists a confusion cell's images from it). */
  images?: EvaluatedImage[];
}

export interface Prediction {
  image: string;
  /** By class name (the model's class order is the run's: predict/didFinish › classes); temperature-scaled when asked for `calibrated`. */
  probabilities: Record<string, number>;
  /** The softmax as the model gave it, when `probabilities` are temperature-scaled. */
  uncalibrated?: Record<string, number>;
  predicted: string;
  /** Grad-CAM on the predicted class: the image with the map over it, and the map alone (RGBA, for a viewer's own opacity). */
  gradcam?: string;
  gradcamHeat?: string;
  /** Why no map was drawn ("no evidence map: the gradients are zero …"). */
  gradcamNote?: string;
}

/** Where a model comes from and how far its figures go, shown beside every prediction. */
export interface ModelProvenance {
  run: string;
  /** The checkpoint's epoch, of how many the run trained, and the figure that chose it. */
  checkpointEpoch: number;
  epochs: number;
  monitor: Monitor;
  trainedOn: { prepared: string; source?: string; images: number; synthetic: boolean };
  /** The checkpoint's validation balanced accuracy: from the validation report, or from training's own validation. */
  validation?: { epoch: number; balancedAccuracy: number; ci?: Interval; chance?: ChanceVerdict; images: number; from: 'evaluation' | 'training' };
  /** Temperature scaling: whether it is applied, and what it does on validation. */
  calibration: { applied: boolean; temperature?: number; ece?: number; eceScaled?: number };
}

/** An image predict could not classify, and why (in words a person can act on). */
export interface PredictFailure {
  image: string;
  error: string;
}

const classCount = obj({ images: num, lesions: num });
const interval = obj({ low: num, high: num });
const nearDuplicateImage = obj({ file: str, imageId: str, lesionId: str, dx: str, split: literal('train', 'val', 'test') });
export const nearDuplicatePair = obj({ a: nearDuplicateImage, b: nearDuplicateImage, distance: num });
export const nearDuplicateSummary = obj({
  mode: literal('group', 'ignore'),
  distance: num,
  hashed: num,
  pairs: num,
  clusters: num,
  largestCluster: num,
  crossSplit: num,
  crossSplitPlain: num,
  groupsJoined: num,
  shown: arrayOf(nearDuplicatePair),
});
export const datasetSummary = obj({
  sourcePath: str,
  layout: str,
  split: literal('lesion', 'image'),
  valFraction: num,
  seed: num,
  grouping: optional(obj({ column: str, noun: literal('lesion', 'patient', 'group'), ungrouped: num })),
  leakage: optional(str),
  nearDuplicates: optional(nearDuplicateSummary),
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
  valBalancedAccuracyCi: optional(interval),
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
  set: optional(obj({ id: str, kind: literal('validation', 'test'), report: str, prepared: str, usedForSelection: bool })),
  balancedAccuracyCi: optional(interval),
  accuracyCi: optional(interval),
  chance: optional(obj({ level: num, verdict: literal('above', 'at', 'below') })),
  images: optional(arrayOf(obj({ file: str, label: num, predicted: num, probabilities: arrayOf(num) }))),
});
