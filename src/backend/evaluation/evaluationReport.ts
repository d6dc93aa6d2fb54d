/**
 * An evaluation from a set's labels and softmax rows, with nothing to read or write: the point figures
 * (accuracy, balanced accuracy, per-class precision/recall/F1, confusion matrix), a bootstrap 95% interval
 * beside each headline figure, one-vs-rest ROC and precision–recall, calibration, where balanced accuracy
 * stands against chance, the highest-loss images, and every image's probabilities.
 */
import type { Monitor } from '../../shared/protocol/jobs';
import type { CalibrationReport, EvaluatedSet, Evaluation } from '../../shared/protocol/results';
import { chanceLevel, chanceVerdict } from '../../shared/trust';
import { bootstrapIntervals } from './bootstrap';
import { applyTemperature, calibrationOf, fitTemperature } from './calibration';
import { accuracyOf, argmaxRows, balancedAccuracyOf, confusionMatrix, crossEntropy, perClassMetrics } from './metrics';
import { rankingReport } from './ranking';

export const TOP_LOSSES = 24;

export interface EvaluationInput {
  /** A label for people: "validation (lesion-level split)", "test". */
  split: string;
  set: EvaluatedSet;
  classes: string[];
  /** Long names of the classes that have one. */
  classLabels?: Record<string, string>;
  files: string[];
  labels: Int32Array;
  /** Softmax rows, images × classes. */
  probs: Float32Array;
  /** The checkpoint evaluated and what chose it; absent for an ensemble (each member has its own). */
  checkpointEpoch?: number;
  monitor?: Monitor;
  /**
   * Temperature scaling: `fit` fits it on this set (the validation set), a number applies one fitted
   * earlier on validation; absent, none is reported.
   */
  temperature?: { fit: true } | { value: number; fittedOn: string };
}

export function summariseEvaluation(input: EvaluationInput): Evaluation {
  const { classes, labels, probs } = input;
  const k = classes.length;
  const predicted = argmaxRows(probs, k);
  const confusion = confusionMatrix(labels, predicted, k);
  const ci = bootstrapIntervals(labels, predicted, k);
  const perClass = perClassMetrics(confusion, classes).map((c, i) => (ci.recall[i] ? { ...c, recallCi: ci.recall[i] } : c));
  const { perSample } = crossEntropy(probs, labels, k);
  const topLosses = [...perSample.keys()]
    .sort((a, b) => perSample[b]! - perSample[a]!)
    .slice(0, TOP_LOSSES)
    .map((i) => ({ image: input.files[i]!, trueClass: classes[labels[i]!]!, predicted: classes[predicted[i]!]!, loss: perSample[i]! }));
  return {
    split: input.split,
    set: input.set,
    classes,
    ...(input.classLabels ? { classLabels: input.classLabels } : {}),
    confusion,
    perClass,
    accuracy: accuracyOf(confusion),
    balancedAccuracy: balancedAccuracyOf(confusion),
    count: labels.length,
    topLosses,
    balancedAccuracyCi: ci.balancedAccuracy,
    accuracyCi: ci.accuracy,
    bootstrap: { resamples: ci.resamples, seed: ci.seed, level: ci.level, stratified: true },
    chance: { level: chanceLevel(k), verdict: chanceVerdict(ci.balancedAccuracy, k) },
    ranking: rankingReport(probs, labels, k),
    calibration: calibrationReport(probs, labels, k, input.temperature),
    ...(input.checkpointEpoch !== undefined ? { checkpointEpoch: input.checkpointEpoch } : {}),
    ...(input.monitor ? { monitor: input.monitor } : {}),
    evaluatedAt: new Date().toISOString(),
    images: input.files.map((file, i) => ({
      file,
      label: labels[i]!,
      predicted: predicted[i]!,
      // Six decimals: the order of top losses and the shown percentages are unchanged, the JSON a third.
      probabilities: Array.from(probs.subarray(i * k, (i + 1) * k), (p) => Math.round(p * 1e6) / 1e6),
    })),
  };
}

function calibrationReport(probs: Float32Array, labels: Int32Array, k: number, temperature: EvaluationInput['temperature']): CalibrationReport {
  const raw = calibrationOf(probs, labels, k);
  if (!temperature || labels.length === 0) return raw;
  const value = 'fit' in temperature ? fitTemperature(probs, labels, k) : temperature.value;
  const fittedOn = 'fit' in temperature ? 'this set (validation)' : temperature.fittedOn;
  return { ...raw, temperature: { value, fittedOn, ...calibrationOf(applyTemperature(probs, k, value), labels, k) } };
}
