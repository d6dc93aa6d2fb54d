/** The **Training** panel: live loss and accuracy per epoch, batch progress, markers, compared runs. */
import type { Check } from '../../validate';
import { arrayOf, nullable, obj, optional, str, unknownValue } from '../../validate';
import type { EpochMetrics } from '../results';
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
  batch?: { phase: string; epoch: number; batch: number; batches: number; rate: number; etaSeconds?: number };
  /** Checkpoint-improved and early-stop events, drawn on the charts. */
  markers?: TrainingMarker[];
  /** Other runs overlaid for comparison. */
  compare?: { run: string; name: string; epochs: EpochMetrics[] }[];
  /** What the run trains, how and where, from its config.json: "mobilenetv2 α0.35 · 96 px · batch 16 · webgpu (…) · mixed precision". */
  setup?: string;
}

/** Host → Training panel: the full state. */
export type TrainingToView = { type: 'training/state'; state: TrainingPanelState };

/** Training panel → host: pick other runs to overlay. */
export type TrainingToHost = { type: 'training/compare' };

export const trainingToViewSchemas: Record<TrainingToView['type'], Check> = {
  'training/state': obj({
    state: obj({ status: str, epochs: arrayOf(epochMetrics), run: optional(str), batch: optional(nullable(unknownValue)), setup: optional(str) }),
  }),
};

export const trainingToHostSchemas: Record<TrainingToHost['type'], Check> = {
  'training/compare': obj({}),
};
