/**
 * The random geometric transform of Keras' `ImageDataGenerator(rotation_range, width_shift_range,
 * height_shift_range, zoom_range, horizontal_flip, vertical_flip, fill_mode)`, on raw pixel buffers.
 *
 * Conventions (x = column, rightwards; y = row, downwards; c = the exact image centre
 * ((w−1)/2, (h−1)/2), as `transform_matrix_offset_center` in Keras ≥ 2.6 / keras-preprocessing 1.1.2+):
 *   output pixel o samples the source at  s = c + R(θ)·(Z·F·(o − c) + t)
 * with R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]], t = (tx·w, ty·h), Z = diag(zx, zy), and F the flips
 * (diag(±1, ±1)). This is Keras' composition: rotation · shift · zoom about the centre, an inverse
 * (output → input) mapping as scipy's `affine_transform` / `tfa.image.transform` use, with the flips
 * applied to the transformed image afterwards, as `ImageDataGenerator.apply_transform` does.
 * Consequences, visible on screen (y down): a positive angle turns the image counter-clockwise (as in
 * tf.keras ≥ 2.6, whose matrix acts on (x, y)); a positive tx moves the content left (it samples from the
 * right), zx > 1 shrinks the content horizontally (zooms out).
 * Two Keras quirks are not copied, both invisible in distribution: keras-preprocessing ≤ 1.1.1 applied
 * the same matrix to (row, col), turning positive angles clockwise, with its centre half a pixel past
 * the middle (h/2 + 0.5); and Keras names the height shift `tx` (it shifts rows). Here tx is horizontal.
 *
 * Sampling is bilinear (Keras' `order=1`); out-of-image samples follow scipy.ndimage's fill modes.
 */
import type { AugmentParams, AugmentRanges, FillMode } from '../../shared/protocol/augmentation';
import type { Rng } from '../../shared/random';
import { uniform } from '../../shared/random';

/** What the generator draws from (see AugmentRanges); the defaults are the reference workflow's. */
export type AffineRanges = AugmentRanges;

export const KERAS_REFERENCE_RANGES: Readonly<AffineRanges> = {
  rotationDeg: 180,
  widthShift: 0.1,
  heightShift: 0.1,
  zoom: 0.1,
  horizontalFlip: true,
  verticalFlip: true,
};

/** One draw of the transform (see AugmentParams). */
export type AffineParams = AugmentParams;

export const IDENTITY_PARAMS: Readonly<AffineParams> = { angleDeg: 0, tx: 0, ty: 0, zx: 1, zy: 1, flipH: false, flipV: false };

export interface FillOptions {
  mode: FillMode;
  /** The constant for mode 'constant' (Keras' `cval`), applied to every channel. */
  cval?: number;
}

/**
 * Draws one transform. The draw order is fixed (angle, tx, ty, zx, zy, flipH, flipV) and every draw
 * consumes the same number of random numbers, so streams stay aligned whatever the ranges.
 */
export function sampleAffineParams(rng: Rng, ranges: AffineRanges = KERAS_REFERENCE_RANGES): AffineParams {
  const angleDeg = uniform(rng, -ranges.rotationDeg, ranges.rotationDeg);
  const tx = uniform(rng, -ranges.widthShift, ranges.widthShift);
  const ty = uniform(rng, -ranges.heightShift, ranges.heightShift);
  const zx = uniform(rng, 1 - ranges.zoom, 1 + ranges.zoom);
  const zy = uniform(rng, 1 - ranges.zoom, 1 + ranges.zoom);
  const flipH = rng() < 0.5 && ranges.horizontalFlip;
  const flipV = rng() < 0.5 && ranges.verticalFlip;
  return { angleDeg, tx, ty, zx, zy, flipH, flipV };
}

/** Output → source mapping: sx = a·x + b·y + c, sy = d·x + e·y + f (pixel-centre coordinates). */
export interface SourceMapping {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export function sourceMapping(params: AffineParams, width: number, height: number): SourceMapping {
  const theta = (params.angleDeg * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const sx = params.zx * (params.flipH ? -1 : 1);
  const sy = params.zy * (params.flipV ? -1 : 1);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const tx = params.tx * width;
  const ty = params.ty * height;
  // s = c + R·(Z·F·(o − c) + t)  ⇒  s = A·o + (c + R·t − A·c), with A = R·Z·F.
  const a = cos * sx;
  const b = -sin * sy;
  const d = sin * sx;
  const e = cos * sy;
  return {
    a,
    b,
    c: cx + (cos * tx - sin * ty) - (a * cx + b * cy),
    d,
    e,
    f: cy + (sin * tx + cos * ty) - (d * cx + e * cy),
  };
}

export const FILL_MODE_CODES: Readonly<Record<FillMode, number>> = { nearest: 0, reflect: 1, wrap: 2, constant: 3 };

/**
 * Packs an interleaved 8-bit image (1–4 channels) into one 32-bit word per pixel, channel i in byte i.
 * The affine loop then reads 4 words per output pixel instead of 4 × channels bytes (~20% faster);
 * a source reused for many variants is packed once.
 */
export function packPixels(src: Uint8Array, width: number, height: number, channels: number, out?: Uint32Array): Uint32Array {
  if (channels < 1 || channels > 4) throw new Error(`packPixels: ${channels} channels; 1 to 4 are supported`);
  const n = width * height;
  if (src.length !== n * channels) throw new Error(`packPixels: buffer holds ${src.length} bytes, ${width}×${height}×${channels} needs ${n * channels}`);
  const packed = out ?? new Uint32Array(n);
  if (channels === 3) {
    for (let i = 0, j = 0; i < n; i++, j += 3) packed[i] = src[j]! | (src[j + 1]! << 8) | (src[j + 2]! << 16);
  } else {
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let c = 0; c < channels; c++) v |= src[i * channels + c]! << (8 * c);
      packed[i] = v >>> 0;
    }
  }
  return packed;
}

/**
 * Applies a transform to an interleaved 8-bit image (`channels` per pixel, row-major, no padding).
 * Returns a new buffer of the same shape unless `out` is given.
 */
export function applyAffine(
  src: Uint8Array,
  width: number,
  height: number,
  params: AffineParams,
  fill: FillMode | FillOptions = 'nearest',
  channels = 3,
  out?: Uint8Array,
): Uint8Array {
  return applyAffinePacked(packPixels(src, width, height, channels), width, height, channels, params, fill, out);
}

/** applyAffine on a source already packed by packPixels. */
export function applyAffinePacked(
  packed: Uint32Array,
  width: number,
  height: number,
  channels: number,
  params: AffineParams,
  fill: FillMode | FillOptions = 'nearest',
  out?: Uint8Array,
): Uint8Array {
  if (packed.length !== width * height) throw new Error(`applyAffine: ${packed.length} pixels, ${width}×${height} needs ${width * height}`);
  const expected = width * height * channels;
  const dst = out ?? new Uint8Array(expected);
  if (dst.length !== expected) throw new Error(`applyAffine: output buffer holds ${dst.length} bytes, needs ${expected}`);
  const f = typeof fill === 'string' ? { mode: fill } : fill;
  const m = sourceMapping(params, width, height);
  affineKernel(packed, dst, width, height, channels, m.a, m.b, m.c, m.d, m.e, m.f, FILL_MODE_CODES[f.mode], f.cval ?? 0);
  return dst;
}

/**
 * The per-pixel loop: packed source in, interleaved bytes out. Self-contained on purpose (no closures,
 * no calls to other functions of this module, no inner functions) so its source text can be shipped
 * to a worker thread as is.
 * mode: 0 nearest (aaaa|abcd|dddd), 1 reflect (dcba|abcd|dcba), 2 wrap (abcd|abcd|abcd),
 * 3 constant (kkkk|abcd|kkkk, no blending with k inside [0, n−1], as scipy's 'constant').
 */
export function affineKernel(
  src: Uint32Array,
  dst: Uint8Array,
  w: number,
  h: number,
  ch: number,
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
  mode: number,
  cval: number,
): void {
  const wMax = w - 1;
  const hMax = h - 1;
  const eps = 1e-6;
  const k = Math.min(255, Math.max(0, Math.round(cval)));
  // Single-pixel rows or columns have no right/lower neighbour; the slow path handles them.
  const dx = wMax > 0 ? 1 : 0;
  const dy = hMax > 0 ? w : 0;
  let o = 0;
  for (let y = 0; y < h; y++) {
    const rowX = b * y + c;
    const rowY = e * y + f;
    for (let x = 0; x < w; x++, o += ch) {
      let sx = a * x + rowX;
      let sy = d * x + rowY;
      let p00 = 0;
      let p01 = 0;
      let p10 = 0;
      let p11 = 0;
      let fx = 0;
      let fy = 0;
      if (sx >= 0 && sy >= 0 && sx < wMax && sy < hMax) {
        // Inside: all four neighbours exist (the common case).
        const x0 = sx | 0;
        const y0 = sy | 0;
        fx = sx - x0;
        fy = sy - y0;
        const p = y0 * w + x0;
        p00 = src[p]!;
        p01 = src[p + 1]!;
        p10 = src[p + w]!;
        p11 = src[p + w + 1]!;
      } else if (mode === 0 || mode === 3) {
        if (mode === 3 && (sx < -eps || sy < -eps || sx > wMax + eps || sy > hMax + eps)) {
          for (let i = 0; i < ch; i++) dst[o + i] = k;
          continue;
        }
        // Edge replication: clamping the sample point equals clamping each neighbour.
        sx = sx < 0 ? 0 : sx > wMax ? wMax : sx;
        sy = sy < 0 ? 0 : sy > hMax ? hMax : sy;
        let x0 = sx | 0;
        let y0 = sy | 0;
        if (x0 === wMax && wMax > 0) x0 = wMax - 1;
        if (y0 === hMax && hMax > 0) y0 = hMax - 1;
        fx = sx - x0;
        fy = sy - y0;
        const p = y0 * w + x0;
        p00 = src[p]!;
        p01 = src[p + dx]!;
        p10 = src[p + dy]!;
        p11 = src[p + dx + dy]!;
      } else {
        // reflect / wrap: map each of the four neighbours into the image separately.
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        fx = sx - x0;
        fy = sy - y0;
        let xa = x0;
        let xb = x0 + 1;
        let ya = y0;
        let yb = y0 + 1;
        if (mode === 1) {
          const pw = 2 * w;
          const ph = 2 * h;
          xa = ((xa % pw) + pw) % pw;
          xa = xa < w ? xa : pw - 1 - xa;
          xb = ((xb % pw) + pw) % pw;
          xb = xb < w ? xb : pw - 1 - xb;
          ya = ((ya % ph) + ph) % ph;
          ya = ya < h ? ya : ph - 1 - ya;
          yb = ((yb % ph) + ph) % ph;
          yb = yb < h ? yb : ph - 1 - yb;
        } else {
          xa = ((xa % w) + w) % w;
          xb = ((xb % w) + w) % w;
          ya = ((ya % h) + h) % h;
          yb = ((yb % h) + h) % h;
        }
        p00 = src[ya * w + xa]!;
        p01 = src[ya * w + xb]!;
        p10 = src[yb * w + xa]!;
        p11 = src[yb * w + xb]!;
      }
      if (ch === 3) {
        let q0 = p00 & 255;
        let q1 = p01 & 255;
        let r0 = p10 & 255;
        let r1 = p11 & 255;
        let t = q0 + (q1 - q0) * fx;
        let u = r0 + (r1 - r0) * fx;
        dst[o] = (t + (u - t) * fy + 0.5) | 0;
        q0 = (p00 >>> 8) & 255;
        q1 = (p01 >>> 8) & 255;
        r0 = (p10 >>> 8) & 255;
        r1 = (p11 >>> 8) & 255;
        t = q0 + (q1 - q0) * fx;
        u = r0 + (r1 - r0) * fx;
        dst[o + 1] = (t + (u - t) * fy + 0.5) | 0;
        q0 = (p00 >>> 16) & 255;
        q1 = (p01 >>> 16) & 255;
        r0 = (p10 >>> 16) & 255;
        r1 = (p11 >>> 16) & 255;
        t = q0 + (q1 - q0) * fx;
        u = r0 + (r1 - r0) * fx;
        dst[o + 2] = (t + (u - t) * fy + 0.5) | 0;
      } else {
        for (let i = 0; i < ch; i++) {
          const sh = 8 * i;
          const q0 = (p00 >>> sh) & 255;
          const q1 = (p01 >>> sh) & 255;
          const r0 = (p10 >>> sh) & 255;
          const r1 = (p11 >>> sh) & 255;
          const t = q0 + (q1 - q0) * fx;
          const u = r0 + (r1 - r0) * fx;
          dst[o + i] = (t + (u - t) * fy + 0.5) | 0;
        }
      }
    }
  }
}

/**
 * Keras' `array_to_img(scale=True)`, for exact reproduction only: scales the image so its brightest
 * value becomes 255 (x / max · 255, max over all channels) and truncates, as `astype('uint8')` does.
 * It changes lesion colour, which is why it is off by default.
 */
export function kerasContrastStretch(pixels: Uint8Array): Uint8Array {
  let max = 0;
  for (let i = 0; i < pixels.length; i++) if (pixels[i]! > max) max = pixels[i]!;
  if (max === 0 || max === 255) return pixels;
  // Same order of operations as Keras (x /= x_max; x *= 255), so the truncation agrees.
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor((pixels[i]! / max) * 255);
  return pixels;
}
