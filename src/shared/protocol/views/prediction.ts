/** The **Prediction** panel (Classify Lesion): class probabilities and a Grad-CAM overlay. */
import type { Check } from '../../validate';
import { bool, obj, optional, str } from '../../validate';
import type { Prediction } from '../results';

export interface PredictionPanelState {
  image?: string;
  imageUri?: string;
  run?: string;
  tta: boolean;
  prediction?: Prediction;
  /** The run's classes in the model's order (their colours follow it) and their long names, where known. */
  classes?: string[];
  classLabels?: Record<string, string>;
  gradcamUri?: string;
  loading: boolean;
  error?: string;
}

/** Host → Prediction panel: the full state. */
export type PredictionToView = { type: 'prediction/state'; state: PredictionPanelState };

/** Prediction panel → host: classify again, with or without test-time augmentation. */
export type PredictionToHost = { type: 'prediction/run'; tta: boolean };

export const predictionToViewSchemas: Record<PredictionToView['type'], Check> = {
  'prediction/state': obj({ state: obj({ tta: bool, loading: bool, image: optional(str), run: optional(str) }) }),
};

export const predictionToHostSchemas: Record<PredictionToHost['type'], Check> = {
  'prediction/run': obj({ tta: bool }),
};
