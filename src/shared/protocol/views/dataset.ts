/** The **Dataset** panel: class distribution before and after the split and augmentation. */
import type { Check } from '../../validate';
import { obj, optional, recordOf, str } from '../../validate';
import type { DatasetSummary } from '../results';
import { datasetSummary } from '../results';

export interface DatasetPanelState {
  preparedPath?: string;
  summary?: DatasetSummary;
  /** Thumbnails (data URIs) of the near-duplicate pairs' images, by their file in the prepared folder. */
  thumbnails?: Record<string, string>;
}

/** Host → Dataset panel: the full state. */
export type DatasetToView = { type: 'dataset/state'; state: DatasetPanelState };

export const datasetToViewSchemas: Record<DatasetToView['type'], Check> = {
  'dataset/state': obj({ state: obj({ preparedPath: optional(str), summary: optional(datasetSummary), thumbnails: optional(recordOf(str)) }) }),
};
