/** The **Samples** panel: a grid of a prepared dataset's images per class and source, with re-roll. */
import type { Check } from '../../validate';
import { arrayOf, bool, literal, num, obj, str, unknownValue } from '../../validate';

export type SampleSource = 'train' | 'aug' | 'val';

export interface SamplesPanelState {
  preparedPath?: string;
  /** Images per class in each source. */
  classes: { name: string; label?: string; train: number; aug: number; val: number }[];
  dx: string;
  source: SampleSource;
  page: number;
  pageSize: number;
  seed: number;
  total: number;
  items: { file: string; name: string; dataUri: string }[];
  loading: boolean;
}

/** Host → Samples panel: the full state. */
export type SamplesToView = { type: 'samples/state'; state: SamplesPanelState };

/** Samples panel → host: show this page of this class and source. */
export type SamplesToHost = { type: 'samples/show'; dx: string; source: SampleSource; page: number; seed: number };

export const samplesToViewSchemas: Record<SamplesToView['type'], Check> = {
  'samples/state': obj({ state: obj({ classes: arrayOf(unknownValue), dx: str, source: str, page: num, pageSize: num, seed: num, total: num, items: arrayOf(obj({ file: str, name: str, dataUri: str })), loading: bool }) }),
};

export const samplesToHostSchemas: Record<SamplesToHost['type'], Check> = {
  'samples/show': obj({ dx: str, source: literal('train', 'aug', 'val'), page: num, seed: num }),
};
