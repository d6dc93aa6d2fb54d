/**
 * Draws synthetic dermatoscopic images: a skin-toned, noisy background with one lesion whose look
 * depends on its class. The class cues are the textbook ones (colour, outline irregularity, border
 * sharpness, texture, size), exaggerated enough that a small CNN learns them at 96×96:
 *   nv    medium-brown, round, regular, fine pigment network
 *   mel   large, irregular and asymmetric, multicoloured (black, blue-grey, red-brown), radial streaks
 *   bkl   light tan "stuck-on", sharp border, cerebriform fissures and milia-like white dots
 *   bcc   translucent pearly pink, blue-grey ovoid nests, thin branching red vessels
 *   akiec red-pink, ill-defined border, white scale
 *   df    small, light-brown rim around a white central patch
 *   vasc  small, sharp, red-purple lacunae separated by dark septa
 * Pure and deterministic: the same appearance, view and size give the same pixels. No I/O.
 */
import type { LesionClass } from '../../shared/classes';
import type { Rng } from '../../shared/random';
import { createRng, gaussian, randomInt, uniform } from '../../shared/random';
import { assertNever } from '../../shared/assertNever';

export type Rgb = readonly [number, number, number];

/** A disc in lesion units (1 = the lesion's mean radius), centred on (u, v). */
export interface LesionSpot {
  u: number;
  v: number;
  radius: number;
  colour: Rgb;
  opacity: number;
}

/** A polyline; lesion units for lesion features, image-height units for hair. */
export interface Stroke {
  points: [number, number][];
  width: number;
  colour: Rgb;
  opacity: number;
}

/** Everything that stays the same between photographs of one lesion. */
export interface LesionAppearance {
  dx: LesionClass;
  skin: Rgb;
  /** Mean radius as a fraction of the image height. */
  radius: number;
  /** Stretch of the outline along its own u axis. */
  elongation: number;
  /** Offset of the lesion from the image centre, as fractions of width and height. */
  offset: [number, number];
  /** r(φ) relative to the mean radius, OUTLINE_SAMPLES angles from −π. */
  outline: Float32Array;
  /** Width of the border ramp as a fraction of the radius: small = sharp. */
  softness: number;
  opacity: number;
  centre: Rgb;
  edge: Rgb;
  /** Coarse blotches recoloured along this palette (empty: none) with `blotchStrength`. */
  palette: Rgb[];
  blotchStrength: number;
  /** Level-set lines of the fine noise: pigment network, fissures, septa. */
  lineColour: Rgb;
  lineWidth: number;
  lineStrength: number;
  /** Fine-noise peaks above `speckleLevel` recoloured: scale. */
  speckleColour: Rgb;
  speckleLevel: number;
  speckleStrength: number;
  /** A central patch out to `patchRadius` (relative distance; 0 = none). */
  patchColour: Rgb;
  patchRadius: number;
  coarseNoise: Float32Array;
  fineNoise: Float32Array;
  spots: LesionSpot[];
  strokes: Stroke[];
}

/** What changes between photographs of the same lesion, and the nuisances of one photograph. */
export interface PhotoView {
  /** Shift as fractions of width and height. */
  shift: [number, number];
  rotation: number;
  scale: number;
  brightness: number;
  grain: number;
  /** Slow shading of the skin, ±1 on a SHADE_W×SHADE_H grid. */
  shading: Float32Array;
  shadingAmplitude: number;
  hairs: Stroke[];
  /** Radius of the dark dermatoscope circle relative to the half-diagonal (0 = none). */
  vignette: number;
  grainSeed: number;
}

export const OUTLINE_SAMPLES = 256;
const COARSE = 7;
const FINE = 22;
/** The noise grids span [−NOISE_SPAN, NOISE_SPAN] in lesion units. */
const NOISE_SPAN = 1.6;
const SHADE_W = 6;
const SHADE_H = 5;

const clamp255 = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : x);

/** Mostly lighter/darker, a little hue: independent channel noise would turn browns olive. */
function jitter(rng: Rng, c: Rgb, amount: number): Rgb {
  const common = gaussian(rng) * amount;
  const own = (): number => gaussian(rng) * amount * 0.3;
  return [clamp255(c[0] + common + own()), clamp255(c[1] + common + own()), clamp255(c[2] + common + own())];
}

function mixRgb(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function noiseGrid(rng: Rng, n: number): Float32Array {
  const g = new Float32Array(n * n);
  for (let i = 0; i < g.length; i++) g[i] = rng();
  return g;
}

/** r(φ) = 1 + Σ a_k cos(kφ + p_k): `irregularity` spread over harmonics 2…maxHarmonic, `asymmetry` on the first. */
function makeOutline(rng: Rng, irregularity: number, asymmetry: number, maxHarmonic: number): Float32Array {
  const terms: { k: number; a: number; p: number }[] = [{ k: 1, a: asymmetry, p: uniform(rng, 0, 2 * Math.PI) }];
  for (let k = 2; k <= maxHarmonic; k++) terms.push({ k, a: (irregularity * uniform(rng, 0.4, 1.6)) / Math.sqrt(k - 1), p: uniform(rng, 0, 2 * Math.PI) });
  const outline = new Float32Array(OUTLINE_SAMPLES);
  for (let i = 0; i < OUTLINE_SAMPLES; i++) {
    const phi = -Math.PI + ((i + 0.5) / OUTLINE_SAMPLES) * 2 * Math.PI;
    let r = 1;
    for (const t of terms) r += t.a * Math.cos(t.k * phi + t.p);
    outline[i] = Math.max(0.35, r);
  }
  return outline;
}

function outlineAt(outline: Float32Array, phi: number): number {
  const i = Math.floor(((phi + Math.PI) / (2 * Math.PI)) * OUTLINE_SAMPLES);
  return outline[((i % OUTLINE_SAMPLES) + OUTLINE_SAMPLES) % OUTLINE_SAMPLES]!;
}

/** A random point inside the outline, at most `reach` of the way out. */
function pointInside(rng: Rng, outline: Float32Array, reach: number): [number, number] {
  const phi = uniform(rng, -Math.PI, Math.PI);
  const rho = Math.sqrt(rng()) * reach * outlineAt(outline, phi);
  return [rho * Math.cos(phi), rho * Math.sin(phi)];
}

/** A wiggly branching vessel tree (bcc): thin red lines that fork. */
function vesselTree(rng: Rng, start: [number, number], heading: number, length: number, depth: number, colour: Rgb, width: number, out: Stroke[]): void {
  const points: [number, number][] = [start];
  let [x, y] = start;
  let h = heading;
  const steps = 6;
  for (let i = 0; i < steps; i++) {
    h += gaussian(rng) * 0.35;
    x += (Math.cos(h) * length) / steps;
    y += (Math.sin(h) * length) / steps;
    points.push([x, y]);
  }
  out.push({ points, width, colour, opacity: 0.85 });
  if (depth > 0) {
    const forks = 1 + randomInt(rng, 2);
    for (let f = 0; f < forks; f++) {
      const from = points[2 + randomInt(rng, steps - 2)]!;
      vesselTree(rng, [from[0], from[1]], h + (rng() < 0.5 ? -1 : 1) * uniform(rng, 0.4, 1.0), length * 0.6, depth - 1, colour, width * 0.75, out);
    }
  }
}

function skinTone(rng: Rng): Rgb {
  // Fair to light-brown skin, as in HAM10000's (mostly central European and Australian) patients.
  const t = rng();
  const base = mixRgb([238, 203, 182], [192, 142, 108], t);
  const pink = uniform(rng, -6, 12);
  return [clamp255(base[0] + pink * 0.6), clamp255(base[1] - pink * 0.4), clamp255(base[2] - pink * 0.1)];
}

/** Designs one lesion of class `dx`. */
export function designLesion(dx: LesionClass, rng: Rng): LesionAppearance {
  const skin = skinTone(rng);
  const base = {
    dx,
    skin,
    elongation: uniform(rng, 1.0, 1.25),
    offset: [uniform(rng, -0.05, 0.05), uniform(rng, -0.05, 0.05)] as [number, number],
    palette: [] as Rgb[],
    blotchStrength: 0,
    lineColour: [0, 0, 0] as Rgb,
    lineWidth: 0.05,
    lineStrength: 0,
    speckleColour: [255, 255, 255] as Rgb,
    speckleLevel: 2,
    speckleStrength: 0,
    patchColour: [255, 255, 255] as Rgb,
    patchRadius: 0,
    coarseNoise: noiseGrid(rng, COARSE),
    fineNoise: noiseGrid(rng, FINE),
    spots: [] as LesionSpot[],
    strokes: [] as Stroke[],
    opacity: 0.97,
  };
  switch (dx) {
    case 'nv': {
      const outline = makeOutline(rng, 0.035, 0.02, 4);
      const spots: LesionSpot[] = [];
      for (let i = randomInt(rng, 5); i > 0; i--) {
        const [u, v] = pointInside(rng, outline, 0.7);
        spots.push({ u, v, radius: uniform(rng, 0.03, 0.06), colour: jitter(rng, [72, 44, 36], 8), opacity: 0.8 });
      }
      return {
        ...base,
        radius: uniform(rng, 0.2, 0.29),
        outline,
        softness: uniform(rng, 0.1, 0.18),
        centre: jitter(rng, [118, 72, 58], 10),
        edge: jitter(rng, [160, 108, 92], 10),
        lineColour: [86, 52, 42],
        lineWidth: 0.06,
        lineStrength: 0.45,
        spots,
      };
    }
    case 'mel': {
      const outline = makeOutline(rng, uniform(rng, 0.1, 0.17), uniform(rng, 0.08, 0.16), 8);
      const spots: LesionSpot[] = [];
      for (let i = 5 + randomInt(rng, 10); i > 0; i--) {
        const [u, v] = pointInside(rng, outline, 0.95);
        spots.push({ u, v, radius: uniform(rng, 0.02, 0.07), colour: jitter(rng, [35, 25, 25], 8), opacity: 0.85 });
      }
      const strokes: Stroke[] = [];
      for (let i = 6 + randomInt(rng, 9); i > 0; i--) {
        const phi = uniform(rng, -Math.PI, Math.PI);
        const r = outlineAt(outline, phi);
        const bend = gaussian(rng) * 0.15;
        const p = (t: number): [number, number] => [t * r * Math.cos(phi + bend * (t - 0.8)), t * r * Math.sin(phi + bend * (t - 0.8))];
        strokes.push({ points: [p(0.75), p(0.95), p(1.12)], width: uniform(rng, 0.015, 0.03), colour: jitter(rng, [55, 35, 28], 8), opacity: 0.8 });
      }
      return {
        ...base,
        radius: uniform(rng, 0.28, 0.38),
        outline,
        softness: uniform(rng, 0.05, 0.22),
        centre: jitter(rng, [62, 42, 36], 10),
        edge: jitter(rng, [118, 78, 58], 10),
        palette: [
          [38, 26, 24],
          [96, 102, 128],
          [152, 76, 66],
          [165, 118, 84],
        ],
        blotchStrength: uniform(rng, 0.55, 0.8),
        lineColour: [40, 28, 24],
        lineWidth: 0.09,
        lineStrength: 0.35,
        spots,
        strokes,
      };
    }
    case 'bkl': {
      const outline = makeOutline(rng, uniform(rng, 0.05, 0.09), 0.04, 6);
      const spots: LesionSpot[] = [];
      for (let i = 5 + randomInt(rng, 10); i > 0; i--) {
        const [u, v] = pointInside(rng, outline, 0.85);
        spots.push({ u, v, radius: uniform(rng, 0.03, 0.06), colour: jitter(rng, [236, 226, 192], 6), opacity: 0.9 });
      }
      return {
        ...base,
        radius: uniform(rng, 0.22, 0.32),
        outline,
        softness: uniform(rng, 0.02, 0.05),
        centre: jitter(rng, [178, 136, 100], 10),
        edge: jitter(rng, [156, 114, 84], 10),
        lineColour: [110, 74, 54],
        lineWidth: 0.05,
        lineStrength: 0.75,
        spots,
      };
    }
    case 'bcc': {
      const outline = makeOutline(rng, uniform(rng, 0.05, 0.1), 0.05, 6);
      const spots: LesionSpot[] = [];
      for (let i = 5 + randomInt(rng, 8); i > 0; i--) {
        const [u, v] = pointInside(rng, outline, 0.75);
        spots.push({ u, v, radius: uniform(rng, 0.07, 0.15), colour: jitter(rng, [82, 92, 120], 8), opacity: 0.8 });
      }
      const strokes: Stroke[] = [];
      const colour = jitter(rng, [178, 36, 48], 8);
      for (let i = 2 + randomInt(rng, 3); i > 0; i--) {
        vesselTree(rng, pointInside(rng, outline, 0.6), uniform(rng, -Math.PI, Math.PI), uniform(rng, 0.35, 0.6), 2, colour, uniform(rng, 0.02, 0.03), strokes);
      }
      return {
        ...base,
        radius: uniform(rng, 0.18, 0.27),
        outline,
        softness: uniform(rng, 0.12, 0.2),
        opacity: 0.9,
        centre: jitter(rng, [234, 180, 192], 8),
        edge: jitter(rng, [214, 140, 158], 8),
        spots,
        strokes,
      };
    }
    case 'akiec': {
      const outline = makeOutline(rng, uniform(rng, 0.08, 0.13), 0.06, 6);
      const spots: LesionSpot[] = [];
      for (let i = 4 + randomInt(rng, 8); i > 0; i--) {
        const [u, v] = pointInside(rng, outline, 0.8);
        spots.push({ u, v, radius: uniform(rng, 0.02, 0.04), colour: jitter(rng, [176, 58, 58], 8), opacity: 0.7 });
      }
      return {
        ...base,
        radius: uniform(rng, 0.22, 0.32),
        outline,
        softness: uniform(rng, 0.28, 0.42),
        opacity: 0.9,
        centre: jitter(rng, [204, 104, 94], 8),
        edge: jitter(rng, [214, 138, 124], 8),
        speckleColour: [242, 230, 218],
        speckleLevel: uniform(rng, 0.6, 0.66),
        speckleStrength: 0.85,
        spots,
      };
    }
    case 'df': {
      const outline = makeOutline(rng, uniform(rng, 0.03, 0.06), 0.03, 4);
      return {
        ...base,
        radius: uniform(rng, 0.12, 0.17),
        outline,
        softness: uniform(rng, 0.25, 0.35),
        centre: jitter(rng, [154, 102, 82], 8),
        edge: jitter(rng, [164, 112, 92], 8),
        lineColour: [122, 80, 64],
        lineWidth: 0.05,
        lineStrength: 0.3,
        patchColour: jitter(rng, [240, 228, 218], 5),
        patchRadius: uniform(rng, 0.5, 0.62),
      };
    }
    case 'vasc': {
      const outline = makeOutline(rng, uniform(rng, 0.04, 0.08), 0.04, 5);
      return {
        ...base,
        radius: uniform(rng, 0.13, 0.21),
        outline,
        softness: uniform(rng, 0.03, 0.06),
        centre: jitter(rng, [142, 22, 56], 8),
        edge: jitter(rng, [178, 40, 70], 8),
        palette: [
          [96, 28, 88],
          [190, 34, 50],
        ],
        blotchStrength: 0.5,
        lineColour: [86, 14, 38],
        lineWidth: 0.08,
        lineStrength: 0.8,
      };
    }
    default:
      return assertNever(dx, 'class');
  }
}

/** Designs one photograph of a lesion: a small shift, turn and zoom, lighting, hair. */
export function designView(rng: Rng): PhotoView {
  const shading = new Float32Array(SHADE_W * SHADE_H);
  for (let i = 0; i < shading.length; i++) shading[i] = rng() * 2 - 1;
  const hairs: Stroke[] = [];
  if (rng() < 0.3) {
    const colour: Rgb = jitter(rng, [45, 32, 26], 10);
    for (let i = 1 + randomInt(rng, 8); i > 0; i--) {
      // Quadratic curves in image-height units (x spans 0…4/3).
      const a: [number, number] = [uniform(rng, -0.1, 1.43), uniform(rng, -0.1, 1.1)];
      const angle = uniform(rng, 0, 2 * Math.PI);
      const length = uniform(rng, 0.3, 1.0);
      const b: [number, number] = [a[0] + Math.cos(angle) * length, a[1] + Math.sin(angle) * length];
      const c: [number, number] = [(a[0] + b[0]) / 2 + gaussian(rng) * 0.12, (a[1] + b[1]) / 2 + gaussian(rng) * 0.12];
      const points: [number, number][] = [];
      for (let s = 0; s <= 12; s++) {
        const t = s / 12;
        points.push([(1 - t) * (1 - t) * a[0] + 2 * t * (1 - t) * c[0] + t * t * b[0], (1 - t) * (1 - t) * a[1] + 2 * t * (1 - t) * c[1] + t * t * b[1]]);
      }
      hairs.push({ points, width: uniform(rng, 0.003, 0.006), colour, opacity: 0.9 });
    }
  }
  return {
    shift: [uniform(rng, -0.05, 0.05), uniform(rng, -0.05, 0.05)],
    rotation: uniform(rng, -0.35, 0.35),
    scale: uniform(rng, 0.9, 1.1),
    brightness: uniform(rng, 0.93, 1.07),
    grain: uniform(rng, 4, 9),
    shading,
    shadingAmplitude: uniform(rng, 6, 16),
    hairs,
    vignette: rng() < 0.12 ? uniform(rng, 0.85, 1.0) : 0,
    grainSeed: Math.floor(rng() * 0x7fffffff),
  };
}

/** Bilinear sample of an n×n grid spanning [−NOISE_SPAN, NOISE_SPAN]² at (u, v), clamped at the edges. */
function sampleNoise(grid: Float32Array, n: number, u: number, v: number): number {
  let gx = ((u + NOISE_SPAN) / (2 * NOISE_SPAN)) * (n - 1);
  let gy = ((v + NOISE_SPAN) / (2 * NOISE_SPAN)) * (n - 1);
  gx = gx < 0 ? 0 : gx > n - 1.001 ? n - 1.001 : gx;
  gy = gy < 0 ? 0 : gy > n - 1.001 ? n - 1.001 : gy;
  const ix = gx | 0;
  const iy = gy | 0;
  const fx = gx - ix;
  const fy = gy - iy;
  const i = iy * n + ix;
  const a = grid[i]! + (grid[i + 1]! - grid[i]!) * fx;
  const b = grid[i + n]! + (grid[i + n + 1]! - grid[i + n]!) * fx;
  return a + (b - a) * fy;
}

/** Blends a soft-edged disc (pixel units) into the RGB image. */
function stampDisc(img: Uint8ClampedArray, width: number, height: number, cx: number, cy: number, r: number, c: Rgb, opacity: number): void {
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(height - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      let a = r + 0.5 - Math.sqrt(dx * dx + dy * dy);
      if (a <= 0) continue;
      a = (a > 1 ? 1 : a) * opacity;
      const p = (y * width + x) * 3;
      img[p] = img[p]! + (c[0] - img[p]!) * a;
      img[p + 1] = img[p + 1]! + (c[1] - img[p + 1]!) * a;
      img[p + 2] = img[p + 2]! + (c[2] - img[p + 2]!) * a;
    }
  }
}

/** Draws a polyline (already in pixel units) as discs spaced a fraction of its width apart. */
function stampStroke(img: Uint8ClampedArray, width: number, height: number, pts: [number, number][], r: number, c: Rgb, opacity: number): void {
  // Overlapping stamps compound, so each carries a fraction of the opacity.
  const step = Math.max(0.5, r * 0.8);
  const perStamp = 1 - Math.pow(1 - opacity, step / Math.max(1, 2 * r));
  for (let i = 1; i < pts.length; i++) {
    const [ax, ay] = pts[i - 1]!;
    const [bx, by] = pts[i]!;
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
    for (let s = i === 1 ? 0 : 1; s <= n; s++) {
      const t = s / n;
      stampDisc(img, width, height, ax + (bx - ax) * t, ay + (by - ay) * t, r, c, perStamp);
    }
  }
}

/** Paints one photograph as packed 8-bit RGB, `width`×`height` (a clamped array: blends never wrap). */
export function paintLesionImage(lesion: LesionAppearance, view: PhotoView, width: number, height: number): Uint8ClampedArray {
  const img = new Uint8ClampedArray(width * height * 3);
  const bright = view.brightness;
  const skinR = lesion.skin[0] * bright;
  const skinG = lesion.skin[1] * bright;
  const skinB = lesion.skin[2] * bright;

  // Skin: base tone, slow shading (bilinear over a coarse grid) and sensor grain. The clamped
  // array rounds and clips every store, so no pixel can wrap around.
  const shade = view.shading;
  const amp = view.shadingAmplitude;
  const grain = view.grain;
  let state = view.grainSeed | 0;
  const gxScale = (SHADE_W - 1.001) / Math.max(1, width - 1);
  for (let y = 0; y < height; y++) {
    const gy = (y / Math.max(1, height - 1)) * (SHADE_H - 1.001);
    const iy = gy | 0;
    const fy = gy - iy;
    let p = y * width * 3;
    for (let x = 0; x < width; x++) {
      const gx = x * gxScale;
      const ix = gx | 0;
      const fx = gx - ix;
      const i = iy * SHADE_W + ix;
      const top = shade[i]! + (shade[i + 1]! - shade[i]!) * fx;
      const bottom = shade[i + SHADE_W]! + (shade[i + SHADE_W + 1]! - shade[i + SHADE_W]!) * fx;
      const s = (top + (bottom - top) * fy) * amp;
      state = (Math.imul(state, 1664525) + 1013904223) | 0;
      const n = ((state >>> 24) / 255 - 0.5) * grain;
      const chroma = (((state >>> 16) & 0xff) / 255 - 0.5) * grain * 0.3;
      img[p++] = skinR + s + n + chroma;
      img[p++] = skinG + s * 0.9 + n;
      img[p++] = skinB + s * 0.8 + n - chroma;
    }
  }

  // The lesion body, evaluated in lesion coordinates so every photograph shows the same lesion.
  const R = lesion.radius * height * view.scale;
  const cx = width / 2 + (lesion.offset[0] + view.shift[0]) * width;
  const cy = height / 2 + (lesion.offset[1] + view.shift[1]) * height;
  const cos = Math.cos(view.rotation);
  const sin = Math.sin(view.rotation);
  const elong = lesion.elongation;
  let outlineMax = 0;
  for (const r of lesion.outline) outlineMax = Math.max(outlineMax, r);
  const soft = lesion.softness;
  const rhoMax = outlineMax * (1 + soft / 2);
  const reach = R * rhoMax * elong + 2;
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(height - 1, Math.ceil(cy + reach));
  const outline = lesion.outline;
  const lutScale = OUTLINE_SAMPLES / (2 * Math.PI);
  const cR = lesion.centre[0] * bright;
  const cG = lesion.centre[1] * bright;
  const cB = lesion.centre[2] * bright;
  const eR = lesion.edge[0] * bright - cR;
  const eG = lesion.edge[1] * bright - cG;
  const eB = lesion.edge[2] * bright - cB;
  const palette = lesion.palette.map((c) => [c[0] * bright, c[1] * bright, c[2] * bright] as const);
  const pn = palette.length;
  const blotch = lesion.blotchStrength;
  const [lR, lG, lB] = lesion.lineColour;
  const lineW = lesion.lineWidth;
  const lineS = lesion.lineStrength;
  const [sR, sG, sB] = lesion.speckleColour;
  const speckL = lesion.speckleLevel;
  const speckS = lesion.speckleStrength;
  const [pR, pG, pB] = lesion.patchColour;
  const patchR = lesion.patchRadius;
  const coarse = lesion.coarseNoise;
  const fine = lesion.fineNoise;
  const opacity = lesion.opacity;
  for (let y = y0; y <= y1; y++) {
    const Y = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const X = x + 0.5 - cx;
      const u = (X * cos + Y * sin) / R;
      const v = (-X * sin + Y * cos) / R;
      const ue = u / elong;
      const rho = Math.sqrt(ue * ue + v * v);
      if (rho > rhoMax) continue;
      const li = ((Math.atan2(v, ue) + Math.PI) * lutScale) | 0;
      const d = rho / outline[li < OUTLINE_SAMPLES ? li : OUTLINE_SAMPLES - 1]!;
      let a = (1 - d) / soft + 0.5;
      if (a <= 0) continue;
      if (a > 1) a = 1;
      a = a * a * (3 - 2 * a) * opacity;

      const k = d < 1 ? d : 1;
      let r = cR + eR * k;
      let g = cG + eG * k;
      let b = cB + eB * k;
      if (pn > 0) {
        const t = sampleNoise(coarse, COARSE, u, v) * (pn - 1);
        const i = t | 0;
        const f = t - i;
        const c0 = palette[i]!;
        const c1 = palette[i + 1 < pn ? i + 1 : i]!;
        r += (c0[0] + (c1[0] - c0[0]) * f - r) * blotch;
        g += (c0[1] + (c1[1] - c0[1]) * f - g) * blotch;
        b += (c0[2] + (c1[2] - c0[2]) * f - b) * blotch;
      }
      if (lineS > 0 || speckS > 0) {
        const tf = sampleNoise(fine, FINE, u, v);
        const off = tf > 0.5 ? tf - 0.5 : 0.5 - tf;
        if (off < lineW) {
          const m = (1 - off / lineW) * lineS;
          r += (lR - r) * m;
          g += (lG - g) * m;
          b += (lB - b) * m;
        }
        if (tf > speckL) {
          const m = Math.min(1, (tf - speckL) * 10) * speckS;
          r += (sR - r) * m;
          g += (sG - g) * m;
          b += (sB - b) * m;
        }
      }
      if (d < patchR) {
        let m = (patchR - d) / (patchR * 0.4);
        if (m > 1) m = 1;
        r += (pR - r) * m;
        g += (pG - g) * m;
        b += (pB - b) * m;
      }
      state = (Math.imul(state, 1664525) + 1013904223) | 0;
      const n = ((state >>> 24) / 255 - 0.5) * grain;
      const p = (y * width + x) * 3;
      img[p] = img[p]! + (r + n - img[p]!) * a;
      img[p + 1] = img[p + 1]! + (g + n - img[p + 1]!) * a;
      img[p + 2] = img[p + 2]! + (b + n - img[p + 2]!) * a;
    }
  }

  // Dots, streaks and vessels: lesion units → pixels.
  const toPixel = (u: number, v: number): [number, number] => [cx + (u * elong * cos - v * sin) * R, cy + (u * elong * sin + v * cos) * R];
  const dim = (c: Rgb): Rgb => [c[0] * bright, c[1] * bright, c[2] * bright];
  for (const s of lesion.spots) {
    const [px, py] = toPixel(s.u, s.v);
    stampDisc(img, width, height, px, py, Math.max(0.6, s.radius * R), dim(s.colour), s.opacity);
  }
  for (const s of lesion.strokes) {
    stampStroke(img, width, height, s.points.map(([u, v]) => toPixel(u, v)), Math.max(0.45, s.width * R), dim(s.colour), s.opacity);
  }
  for (const h of view.hairs) {
    stampStroke(img, width, height, h.points.map(([u, v]) => [u * height, v * height] as [number, number]), Math.max(0.45, h.width * height), h.colour, h.opacity);
  }

  // The dermatoscope's dark circle, on some photographs.
  const vig = view.vignette;
  if (vig > 0) {
    const halfDiag = Math.hypot(width, height) / 2;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dist = Math.hypot(x + 0.5 - width / 2, y + 0.5 - height / 2) / halfDiag;
        let m = (dist - vig) * 25;
        if (m <= 0) continue;
        if (m > 1) m = 1;
        const p = (y * width + x) * 3;
        img[p] = img[p]! + (12 - img[p]!) * m;
        img[p + 1] = img[p + 1]! + (10 - img[p + 1]!) * m;
        img[p + 2] = img[p + 2]! + (10 - img[p + 2]!) * m;
      }
    }
  }
  return img;
}

/** Convenience for tests and previews: one photograph of a fresh lesion from two seeds. */
export function paintFromSeeds(dx: LesionClass, lesionSeed: number, viewSeed: number, width: number, height: number): Uint8ClampedArray {
  return paintLesionImage(designLesion(dx, createRng(lesionSeed)), designView(createRng(viewSeed)), width, height);
}
