/** An evaluation's figures from class probabilities: what `evaluate` and an ensemble's evaluation report. */
import type { Evaluation } from '../../shared/protocol/results';
import type { RunConfig } from '../../shared/runConfig';
import type { LabeledImage } from '../training/imagePipeline';
import { accuracyOf, argmaxRows, balancedAccuracyOf, confusionMatrix, crossEntropy, perClassMetrics } from './metrics';

const TOP_LOSSES = 24;

/** The figures of class probabilities (row-major [images × classes]) against the images' labels. */
export function evaluationOf(probs: Float32Array, images: readonly LabeledImage[], config: Pick<RunConfig, 'classes' | 'classLabels'>, split: string): Evaluation {
  const numClasses = config.classes.length;
  const labels = Int32Array.from(images, (i) => i.label);
  const predicted = argmaxRows(probs, numClasses);
  const confusion = confusionMatrix(labels, predicted, numClasses);
  const { perSample } = crossEntropy(probs, labels, numClasses);
  const topLosses = [...perSample.keys()]
    .sort((a, b) => perSample[b]! - perSample[a]!)
    .slice(0, TOP_LOSSES)
    .map((i) => ({ image: images[i]!.file, trueClass: config.classes[labels[i]!]!, predicted: config.classes[predicted[i]!]!, loss: perSample[i]! }));
  return {
    split,
    classes: config.classes,
    ...(config.classLabels ? { classLabels: config.classLabels } : {}),
    confusion,
    perClass: perClassMetrics(confusion, config.classes),
    accuracy: accuracyOf(confusion),
    balancedAccuracy: balancedAccuracyOf(confusion),
    count: images.length,
    topLosses,
  };
}
