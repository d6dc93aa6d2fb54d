/**
 * The **Evaluation** panel: one evaluated set at a time (a selector over the run's reports), its headline
 * figures with 95% intervals, the confusion matrix (a cell lists its images), per-class metrics, ROC and
 * precision–recall curves, the reliability diagram, and the worst-predicted images.
 */
import type { Check } from '../../validate';
import { arrayOf, nonEmpty, obj, optional, recordOf, str } from '../../validate';
import type { Evaluation } from '../results';
import { evaluation } from '../results';

/** A report in the run folder, as the set selector lists it. */
export interface EvaluationReportEntry {
  /** The set's id: 'val', 'test' or another prepared folder's name. */
  id: string;
  label: string;
  count: number;
}

/** Grad-CAM made on demand for one image of the evaluated set. */
export interface OnDemandGradCam {
  loading?: boolean;
  /** The image with the map over it, as a data URI. */
  uri?: string;
  /** Why there is none ("no evidence map: the gradients are zero …", or the job's error). */
  note?: string;
}

export interface EvaluationPanelState {
  run?: string;
  reports?: EvaluationReportEntry[];
  /** The report shown: a `reports` id. */
  selected?: string;
  evaluation?: Evaluation;
  /** Thumbnails of images the panel shows (highest losses, a confusion cell's images), by file. */
  thumbnails?: Record<string, string>;
  gradcams?: Record<string, OnDemandGradCam>;
}

/** Host → Evaluation panel: the full state. */
export type EvaluationToView = { type: 'evaluation/state'; state: EvaluationPanelState };

/** Evaluation panel → host: show another set's report; thumbnails for images it is about to list; Grad-CAM for one image. */
export type EvaluationToHost =
  | { type: 'evaluation/select'; set: string }
  | { type: 'evaluation/thumbnails'; files: string[] }
  | { type: 'evaluation/gradcam'; file: string };

export const evaluationToViewSchemas: Record<EvaluationToView['type'], Check> = {
  'evaluation/state': obj({
    state: obj({
      run: optional(str),
      reports: optional(arrayOf(obj({ id: str, label: str }))),
      selected: optional(str),
      evaluation: optional(evaluation),
      thumbnails: optional(recordOf(str)),
      gradcams: optional(recordOf(obj({ uri: optional(str), note: optional(str) }))),
    }),
  }),
};

export const evaluationToHostSchemas: Record<EvaluationToHost['type'], Check> = {
  'evaluation/select': obj({ set: nonEmpty }),
  'evaluation/thumbnails': obj({ files: arrayOf(nonEmpty) }),
  'evaluation/gradcam': obj({ file: nonEmpty }),
};
