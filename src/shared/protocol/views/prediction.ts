/** The **Prediction** panel (Classify Lesion): class probabilities, the model's provenance, and a Grad-CAM overlay, for one image or several. */
import type { Check } from '../../validate';
import { arrayOf, bool, obj, optional, str } from '../../validate';
import type { ModelProvenance, Prediction } from '../results';

/** One classified image (or one that could not be). */
export interface PredictionItem {
  image: string;
  imageUri?: string;
  prediction?: Prediction;
  /** The Grad-CAM heat map alone (RGBA), laid over the image with the panel's opacity. */
  gradcamHeatUri?: string;
  /** Why this image could not be classified; the others still were. */
  error?: string;
}

export interface PredictionPanelState {
  /** The images of the last Classify Lesion, in the order they were selected. */
  items: PredictionItem[];
  run?: string;
  tta: boolean;
  /** Temperature-scaled probabilities (the temperature fitted on validation). */
  calibrated: boolean;
  /** The run's classes in the model's order (their colours follow it) and their long names, where known. */
  classes?: string[];
  classLabels?: Record<string, string>;
  /** Where the model comes from and how far its figures go. */
  model?: ModelProvenance;
  loading: boolean;
  /** The job as a whole failed (no model, the engine …). */
  error?: string;
}

/** Host → Prediction panel: the full state. */
export type PredictionToView = { type: 'prediction/state'; state: PredictionPanelState };

/** Prediction panel → host: classify again, with or without test-time augmentation and calibration. */
export type PredictionToHost = { type: 'prediction/run'; tta: boolean; calibrated: boolean };

export const predictionToViewSchemas: Record<PredictionToView['type'], Check> = {
  'prediction/state': obj({ state: obj({ tta: bool, calibrated: bool, loading: bool, items: arrayOf(obj({ image: str, error: optional(str) })), run: optional(str) }) }),
};

export const predictionToHostSchemas: Record<PredictionToHost['type'], Check> = {
  'prediction/run': obj({ tta: bool, calibrated: bool }),
};
