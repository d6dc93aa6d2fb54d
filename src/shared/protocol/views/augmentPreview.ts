/** The **Augmentations** panel (Preview Augmentations): an image and augmented variants with their parameters. */
import type { Check } from '../../validate';
import { arrayOf, bool, int, num, obj, str } from '../../validate';
import type { AugmentParams, AugmentRanges, FillMode } from '../augmentation';
import { augmentParams, augmentRanges, fillMode } from '../augmentation';
import { augmentRangesInLimits } from '../jobs';

export interface AugmentPreviewState {
  image?: string;
  original?: string;
  variants: { dataUri: string; params: AugmentParams }[];
  ranges: AugmentRanges;
  fill: FillMode;
  seed: number;
  loading: boolean;
  error?: string;
}

/** Host → Augmentations panel: the full state. */
export type AugmentPreviewToView = { type: 'augmentPreview/state'; state: AugmentPreviewState };

/** Augmentations panel → host: render variants with these ranges. */
export type AugmentPreviewToHost = { type: 'augmentPreview/render'; ranges: AugmentRanges; fill: FillMode; seed: number };

export const augmentPreviewToViewSchemas: Record<AugmentPreviewToView['type'], Check> = {
  'augmentPreview/state': obj({ state: obj({ variants: arrayOf(obj({ dataUri: str, params: augmentParams })), ranges: augmentRanges, fill: fillMode, seed: num, loading: bool }) }),
};

export const augmentPreviewToHostSchemas: Record<AugmentPreviewToHost['type'], Check> = {
  'augmentPreview/render': obj({ ranges: augmentRangesInLimits, fill: fillMode, seed: int() }),
};
