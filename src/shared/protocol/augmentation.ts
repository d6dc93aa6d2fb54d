/** Keras ImageDataGenerator's transform family: the ranges it draws from and one draw. */
import { bool, literal, num, obj } from '../validate';

export type FillMode = 'nearest' | 'reflect' | 'wrap' | 'constant';

/** What Keras' ImageDataGenerator draws from (the reference: 180°, 0.1, 0.1, 0.1, both flips). */
export interface AugmentRanges {
  /** θ ~ U(−rotationDeg, rotationDeg), degrees. */
  rotationDeg: number;
  /** tx ~ U(−widthShift, widthShift), as a fraction of the width. */
  widthShift: number;
  /** ty ~ U(−heightShift, heightShift), as a fraction of the height. */
  heightShift: number;
  /** zx, zy ~ U(1 − zoom, 1 + zoom) independently (Keras' `zoom_range` as a float). */
  zoom: number;
  horizontalFlip: boolean;
  verticalFlip: boolean;
}

/** One draw of the transform. Shifts are fractions of the image size, so a draw applies at any size. */
export interface AugmentParams {
  angleDeg: number;
  /** Horizontal shift as a fraction of the width (positive: content moves left). */
  tx: number;
  /** Vertical shift as a fraction of the height (positive: content moves up). */
  ty: number;
  /** Horizontal zoom factor (> 1 zooms out). */
  zx: number;
  /** Vertical zoom factor (> 1 zooms out). */
  zy: number;
  flipH: boolean;
  flipV: boolean;
}

export const fillMode = literal('nearest', 'reflect', 'wrap', 'constant');
export const augmentParams = obj({ angleDeg: num, tx: num, ty: num, zx: num, zy: num, flipH: bool, flipV: bool });
export const augmentRanges = obj({ rotationDeg: num, widthShift: num, heightShift: num, zoom: num, horizontalFlip: bool, verticalFlip: bool });
