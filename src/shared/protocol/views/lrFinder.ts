/** The **Learning Rate Finder** panel: the range test's loss against the learning rate, and what it suggests. */
import type { Check } from '../../validate';
import { bool, literal, obj, optional, str } from '../../validate';
import type { LrPoint, LrSuggestion } from '../../lrFinder';

export interface LrFinderPanelState {
  status: 'empty' | 'running' | 'done' | 'failed';
  phase?: 'head' | 'finetune';
  /** What it tested: "mobilenetv2 α0.35 · 96 px · batch 16 · rmsprop". */
  setup?: string;
  points: LrPoint[];
  suggestion?: LrSuggestion;
  stoppedBy?: 'end' | 'divergence' | 'nan';
  /** The value put into the run form, and into which field. */
  applied?: { field: 'lr' | 'finetuneLr'; value: number };
  error?: string;
  trusted: boolean;
}

/** Host → panel: the full state. */
export type LrFinderToView = { type: 'lrFinder/state'; state: LrFinderPanelState };

export const lrFinderToViewSchemas: Record<LrFinderToView['type'], Check> = {
  'lrFinder/state': obj({ state: obj({ status: literal('empty', 'running', 'done', 'failed'), trusted: bool, setup: optional(str) }) }),
};
