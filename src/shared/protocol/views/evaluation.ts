/** The **Evaluation** panel: confusion matrix, per-class metrics, balanced accuracy, the worst-predicted images. */
import type { Check } from '../../validate';
import { obj, optional, recordOf, str } from '../../validate';
import type { Evaluation } from '../results';
import { evaluation } from '../results';

export interface EvaluationPanelState {
  run?: string;
  evaluation?: Evaluation;
  /** Thumbnails of the top-loss images, by file. */
  thumbnails?: Record<string, string>;
}

/** Host → Evaluation panel: the full state. */
export type EvaluationToView = { type: 'evaluation/state'; state: EvaluationPanelState };

export const evaluationToViewSchemas: Record<EvaluationToView['type'], Check> = {
  'evaluation/state': obj({ state: obj({ run: optional(str), evaluation: optional(evaluation), thumbnails: optional(recordOf(str)) }) }),
};
