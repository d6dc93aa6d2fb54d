import assert from 'node:assert/strict';
import type { LesionClass } from '../../../src/shared/classes';
import { LESION_CLASSES } from '../../../src/shared/classes';
import { createRng, deriveSeed } from '../../../src/shared/random';
import { designLesion, designView, paintFromSeeds, paintLesionImage } from '../../../src/backend/demo/demoPainter';

const W = 96;
const H = 72;

/**
 * Simple hand-made features of one image: the lesion is every pixel far (in RGB) from the skin
 * colour sampled along the image border. Colour of the whole lesion and of its core, its area,
 * and its texture (luminance spread). Nothing here knows how the painter works.
 */
function features(img: Uint8ClampedArray, width: number, height: number): number[] {
  const border: number[][] = [[], [], []];
  for (let x = 0; x < width; x++) {
    for (const y of [1, height - 2]) for (let c = 0; c < 3; c++) border[c]!.push(img[(y * width + x) * 3 + c]!);
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  const skin = border.map(median);
  const inLesion: number[] = [];
  for (let i = 0; i < width * height; i++) {
    const d = Math.hypot(img[i * 3]! - skin[0]!, img[i * 3 + 1]! - skin[1]!, img[i * 3 + 2]! - skin[2]!);
    if (d > 35) inLesion.push(i);
  }
  if (inLesion.length === 0) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let cx = 0;
  let cy = 0;
  for (const i of inLesion) {
    cx += i % width;
    cy += Math.floor(i / width);
  }
  cx /= inLesion.length;
  cy /= inLesion.length;
  const coreRadius = 0.4 * Math.sqrt(inLesion.length / Math.PI);
  const mean = [0, 0, 0];
  const core = [0, 0, 0];
  let coreCount = 0;
  const lum: number[] = [];
  let bluish = 0;
  for (const i of inLesion) {
    const rgb = [img[i * 3]!, img[i * 3 + 1]!, img[i * 3 + 2]!];
    if (rgb[2]! >= rgb[0]! - 10) bluish++;
    for (let c = 0; c < 3; c++) mean[c]! += rgb[c]!;
    lum.push(0.3 * rgb[0]! + 0.59 * rgb[1]! + 0.11 * rgb[2]!);
    if (Math.hypot((i % width) - cx, Math.floor(i / width) - cy) < coreRadius) {
      for (let c = 0; c < 3; c++) core[c]! += rgb[c]!;
      coreCount++;
    }
  }
  const mLum = lum.reduce((a, b) => a + b, 0) / lum.length;
  const sdLum = Math.sqrt(lum.reduce((a, b) => a + (b - mLum) ** 2, 0) / lum.length);
  return [
    ...mean.map((v) => v / inLesion.length),
    ...core.map((v) => v / Math.max(1, coreCount)),
    Math.sqrt(inLesion.length / (width * height)) * 100,
    sdLum,
    // hue as two opponent components (red–green, yellow–blue), scaled up to weigh like colour
    (2 * (mean[0]! - mean[1]!)) / inLesion.length,
    (2 * (mean[1]! - mean[2]!)) / inLesion.length,
    // blue-grey share: nests (bcc) and regression areas (mel)
    (100 * bluish) / inLesion.length,
  ];
}

describe('demoPainter', () => {
  it('paints the same pixels from the same seeds, and different pixels from other seeds', () => {
    for (const dx of LESION_CLASSES) {
      const a = paintFromSeeds(dx, 11, 12, W, H);
      const b = paintFromSeeds(dx, 11, 12, W, H);
      assert.equal(a.length, W * H * 3);
      assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer), dx);
      assert.notDeepEqual(Buffer.from(paintFromSeeds(dx, 11, 13, W, H).buffer), Buffer.from(a.buffer), `${dx}: another view`);
      assert.notDeepEqual(Buffer.from(paintFromSeeds(dx, 14, 12, W, H).buffer), Buffer.from(a.buffer), `${dx}: another lesion`);
    }
  });

  it('draws classes a nearest-centroid classifier on simple colour/size/texture features separates', () => {
    const perClass = 24;
    const sample = (dx: LesionClass, i: number): number[] =>
      features(paintFromSeeds(dx, deriveSeed(7, dx, 'lesion', i), deriveSeed(7, dx, 'view', i), W, H), W, H);
    const train = LESION_CLASSES.map((dx) => Array.from({ length: perClass }, (_, i) => sample(dx, i)));
    const test = LESION_CLASSES.map((dx) => Array.from({ length: perClass }, (_, i) => sample(dx, 1000 + i)));
    const dims = train[0]![0]!.length;
    const all = train.flat();
    const mu = Array.from({ length: dims }, (_, d) => all.reduce((s, f) => s + f[d]!, 0) / all.length);
    const sd = Array.from({ length: dims }, (_, d) => Math.sqrt(all.reduce((s, f) => s + (f[d]! - mu[d]!) ** 2, 0) / all.length) || 1);
    const z = (f: number[]): number[] => f.map((v, d) => (v - mu[d]!) / sd[d]!);
    const centroids = train.map((rows) => {
      const zs = rows.map(z);
      return Array.from({ length: dims }, (_, d) => zs.reduce((s, f) => s + f[d]!, 0) / zs.length);
    });
    const confusion = LESION_CLASSES.map(() => LESION_CLASSES.map(() => 0));
    test.forEach((rows, truth) => {
      for (const f of rows) {
        const zf = z(f);
        let best = 0;
        let bestD = Infinity;
        centroids.forEach((c, k) => {
          const d = c.reduce((s, v, j) => s + (v - zf[j]!) ** 2, 0);
          if (d < bestD) {
            bestD = d;
            best = k;
          }
        });
        confusion[truth]![best]!++;
      }
    });
    const recalls = confusion.map((row, k) => row[k]! / perClass);
    const balanced = recalls.reduce((a, b) => a + b, 0) / recalls.length;
    const report = LESION_CLASSES.map((c, k) => `${c} ${recalls[k]!.toFixed(2)} [${confusion[k]!.join(' ')}]`).join('; ');
    // Chance is 1/7 ≈ 0.14. A CNN sees far more than these eleven numbers.
    assert.ok(balanced >= 0.85, `balanced accuracy ${balanced.toFixed(3)}: ${report}`);
    for (const [k, r] of recalls.entries()) assert.ok(r >= 0.6, `${LESION_CLASSES[k]} recall ${r}: ${report}`);
  });

  it('shows the textbook colour cues: melanoma darker than all but vascular lesions, vascular reddest, dermatofibroma with a pale core', () => {
    const mean = (dx: LesionClass, pick: (f: number[]) => number): number => {
      let s = 0;
      for (let i = 0; i < 12; i++) s += pick(features(paintFromSeeds(dx, deriveSeed(3, dx, i), deriveSeed(4, dx, i), W, H), W, H));
      return s / 12;
    };
    const lum = (f: number[]): number => 0.3 * f[0]! + 0.59 * f[1]! + 0.11 * f[2]!;
    const redness = (f: number[]): number => f[8]!;
    const coreLum = (f: number[]): number => 0.3 * f[3]! + 0.59 * f[4]! + 0.11 * f[5]!;
    const melLum = mean('mel', lum);
    for (const dx of LESION_CLASSES.filter((c) => c !== 'mel' && c !== 'vasc')) assert.ok(melLum < mean(dx, lum), `mel ${melLum} vs ${dx}`);
    const vascRed = mean('vasc', redness);
    for (const dx of LESION_CLASSES.filter((c) => c !== 'vasc')) assert.ok(vascRed > mean(dx, redness), `vasc redness vs ${dx}`);
    assert.ok(mean('df', coreLum) > mean('df', lum) + 20, 'df core is paler than the lesion as a whole');
    assert.ok(mean('df', (f) => f[6]!) < mean('nv', (f) => f[6]!), 'df is smaller than nv');
  });

  it('shows the same lesion in every photograph of it: only the view changes', () => {
    const look = designLesion('mel', createRng(5));
    const views = [1, 2, 3].map((s) => features(paintLesionImage(look, designView(createRng(s)), W, H), W, H));
    const other = features(paintLesionImage(designLesion('mel', createRng(6)), designView(createRng(1)), W, H), W, H);
    const dist = (a: number[], b: number[]): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
    // Same lesion: mean lesion colour within a few levels (lighting varies ±7%); the area too.
    assert.ok(dist(views[0]!, views[1]!) < 25 && dist(views[0]!, views[2]!) < 25, `${dist(views[0]!, views[1]!)} ${dist(views[0]!, views[2]!)}`);
    assert.ok(Math.abs(views[0]![6]! - views[1]![6]!) < 8);
    assert.ok(dist(views[0]!, other) > 0);
  });
});
