/** The **Training** panel: live loss and accuracy per epoch, batch progress, markers, compared runs. */
import type { Check } from '../../validate';
import { arrayOf, literal, nonEmpty, nullable, obj, optional, str, unknownValue } from '../../validate';
import type { Monitor } from '../jobs';
import type { BatchMetrics, EpochMetrics } from '../results';
import { epochMetrics } from '../results';

export interface TrainingMarker {
  epoch: number;
  kind: 'best' | 'earlyStop';
  label: string;
}

export interface TrainingPanelState {
  run?: string;
  /** `interrupted`: the process died mid-run (crash, kill, reboot); --resume continues it. */
  status: 'empty' | 'running' | 'finished' | 'failed' | 'cancelled' | 'interrupted';
  epochs: EpochMetrics[];
  /** Every training batch (batches.jsonl, then live), evenly thinned past TRAINING_BATCH_POINTS. */
  batches?: BatchMetrics[];
  batch?: { phase: string; epoch: number; batch: number; batches: number; rate: number; etaSeconds?: number };
  /** Checkpoint-improved and early-stop events, drawn on the charts. */
  markers?: TrainingMarker[];
  /** Other runs overlaid for comparison. */
  compare?: { run: string; name: string; epochs: EpochMetrics[] }[];
  /** What the run trains, how and where, from its config.json: "mobilenetv2 α0.35 · 96 px · batch 16 · webgpu (…) · mixed precision". */
  setup?: string;
  /** What picks the kept checkpoint, and how many classes the model tells apart (chance is 1 / classes). */
  monitor?: Monitor;
  classes?: number;
}

/** Host → Training panel: the full state. */
export type TrainingToView = { type: 'training/state'; state: TrainingPanelState };

/** At most this many batch points go to the panel: a long run is thinned evenly (its last batch kept). */
export const TRAINING_BATCH_POINTS = 5000;

/** Training panel → host: pick other runs to overlay; save a chart (a PNG data URL) or the metrics (CSV) through a save dialog. */
export type TrainingToHost =
  | { type: 'training/compare' }
  | { type: 'training/savePng'; chart: string; dataUrl: string }
  | { type: 'training/saveCsv'; what: 'epochs' | 'batches' };

export const trainingToViewSchemas: Record<TrainingToView['type'], Check> = {
  'training/state': obj({
    state: obj({ status: str, epochs: arrayOf(epochMetrics), run: optional(str), batch: optional(nullable(unknownValue)), setup: optional(str), batches: optional(arrayOf(unknownValue)) }),
  }),
};

const pngDataUrl: Check = (v, p) => nonEmpty(v, p) ?? (/^data:image\/png;base64,[A-Za-z0-9+/=]+$/.test(v as string) ? undefined : `${p} should be a PNG data URL`);

export const trainingToHostSchemas: Record<TrainingToHost['type'], Check> = {
  'training/compare': obj({}),
  'training/savePng': obj({ chart: nonEmpty, dataUrl: pngDataUrl }),
  'training/saveCsv': obj({ what: literal('epochs', 'batches') }),
};
