import assert from 'node:assert/strict';
import type { AffineParams } from '../../../src/backend/augment/kerasAffine';
import { IDENTITY_PARAMS, KERAS_REFERENCE_RANGES, applyAffine, kerasContrastStretch, sampleAffineParams } from '../../../src/backend/augment/kerasAffine';
import { createRng } from '../../../src/shared/random';

const params = (p: Partial<AffineParams>): AffineParams => ({ ...IDENTITY_PARAMS, ...p });

/** An RGB image filled with `bg` and a bright square of side `side` centred on (px, py). */
function blobImage(w: number, h: number, px: number, py: number, side = 3, bg = 40): Uint8Array {
  const img = new Uint8Array(w * h * 3).fill(bg);
  const r = (side - 1) / 2;
  for (let y = py - r; y <= py + r; y++) for (let x = px - r; x <= px + r; x++) img.fill(250, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return img;
}

/** Brightness-weighted centroid of what rises above the background. */
function centroid(img: Uint8Array, w: number, h: number, bg = 40): { x: number; y: number } {
  let sx = 0;
  let sy = 0;
  let s = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img[(y * w + x) * 3]! - bg;
      if (v > 0) {
        sx += v * x;
        sy += v * y;
        s += v;
      }
    }
  }
  return { x: sx / s, y: sy / s };
}

/**
 * Where a source point lands, from first principles (y down): rotate counter-clockwise on screen by θ
 * about the centre, move the content by (−tx·w, −ty·h), scale offsets from the centre by 1/z, flip.
 */
function expectedLanding(x: number, y: number, w: number, h: number, p: AffineParams): { x: number; y: number } {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const t = (p.angleDeg * Math.PI) / 180;
  const dx = x - cx;
  const dy = y - cy;
  let ox = dx * Math.cos(t) + dy * Math.sin(t) - p.tx * w;
  let oy = -dx * Math.sin(t) + dy * Math.cos(t) - p.ty * h;
  ox /= p.zx;
  oy /= p.zy;
  if (p.flipH) ox = -ox;
  if (p.flipV) oy = -oy;
  return { x: cx + ox, y: cy + oy };
}

describe('kerasAffine: geometry on real pixels', () => {
  const w = 64;
  const h = 48;
  const cases: [string, Partial<AffineParams>][] = [
    ['90° (counter-clockwise on screen)', { angleDeg: 90 }],
    ['−90°', { angleDeg: -90 }],
    ['45° with a shift', { angleDeg: 45, tx: 0.1, ty: -0.05 }],
    ['−30°, zoom 1.1 × 0.9, both flips', { angleDeg: -30, zx: 1.1, zy: 0.9, flipH: true, flipV: true }],
    ['shift only', { tx: -0.1, ty: 0.1 }],
    ['horizontal flip only', { flipH: true }],
  ];
  for (const [name, p] of cases) {
    it(`a bright spot lands where the geometry says: ${name}`, () => {
      const src = blobImage(w, h, 40, 15);
      const out = applyAffine(src, w, h, params(p));
      const got = centroid(out, w, h);
      const want = expectedLanding(40, 15, w, h, params(p));
      assert.ok(Math.hypot(got.x - want.x, got.y - want.y) <= 1, `landed at (${got.x.toFixed(2)}, ${got.y.toFixed(2)}), expected (${want.x.toFixed(2)}, ${want.y.toFixed(2)})`);
    });
  }

  it('90° turns an L-shape exactly as numpy.rot90 (counter-clockwise) does', () => {
    const n = 7;
    const src = new Uint8Array(n * n * 3).fill(30);
    const lit = [[1, 1], [1, 2], [1, 3], [1, 4], [2, 4], [3, 4]]; // [x, y]: a vertical bar with a foot to the right
    for (const [x, y] of lit) src.fill(200, (y! * n + x!) * 3, (y! * n + x!) * 3 + 3);
    const out = applyAffine(src, n, n, params({ angleDeg: 90 }));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        // rot90: B[i][j] = A[j][n − 1 − i] (row, column)
        assert.equal(out[(i * n + j) * 3], src[(j * n + (n - 1 - i)) * 3], `row ${i} col ${j}`);
      }
    }
  });

  it('flips mirror the image exactly', () => {
    const w2 = 5;
    const h2 = 4;
    const src = Uint8Array.from({ length: w2 * h2 * 3 }, (_, i) => (i * 7) % 251);
    const hflip = applyAffine(src, w2, h2, params({ flipH: true }));
    const vflip = applyAffine(src, w2, h2, params({ flipV: true }));
    for (let y = 0; y < h2; y++) {
      for (let x = 0; x < w2; x++) {
        for (let c = 0; c < 3; c++) {
          assert.equal(hflip[(y * w2 + x) * 3 + c], src[(y * w2 + (w2 - 1 - x)) * 3 + c]);
          assert.equal(vflip[(y * w2 + x) * 3 + c], src[((h2 - 1 - y) * w2 + x) * 3 + c]);
        }
      }
    }
  });

  it('the identity leaves every byte as it was', () => {
    const src = Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => (i * 13) % 256);
    assert.deepEqual(applyAffine(src, 30, 20, IDENTITY_PARAMS), src);
  });
});

describe('kerasAffine: fill modes', () => {
  const w = 40;
  const h = 40;
  // No pure black anywhere, and a gradient so the edges differ.
  const src = Uint8Array.from({ length: w * h * 3 }, (_, i) => 20 + ((i * 3) % 200));
  const corners = [0, w - 1, (h - 1) * w, h * w - 1];

  it("'nearest' replicates edges: after 45° no corner takes the constant fill colour", () => {
    const out = applyAffine(src, w, h, params({ angleDeg: 45 }), 'nearest');
    for (const p of corners) assert.notDeepEqual([...out.subarray(p * 3, p * 3 + 3)], [0, 0, 0]);
    assert.ok(out.every((v) => v >= 20), 'no value below the source minimum');
  });

  it("'constant' fills the corners with cval after 45°", () => {
    const black = applyAffine(src, w, h, params({ angleDeg: 45 }), 'constant');
    for (const p of corners) assert.deepEqual([...black.subarray(p * 3, p * 3 + 3)], [0, 0, 0]);
    const grey = applyAffine(src, w, h, params({ angleDeg: 45 }), { mode: 'constant', cval: 7 });
    for (const p of corners) assert.deepEqual([...grey.subarray(p * 3, p * 3 + 3)], [7, 7, 7]);
  });

  // One row "a b c d" = 10 20 30 40, one channel, shifted by whole and half pixels; expectations by hand
  // from the Keras docs: reflect dcba|abcd|dcba, wrap abcd|abcd|abcd, nearest aaaa|abcd|dddd, constant kkkk|abcd|kkkk.
  const row = Uint8Array.from([10, 20, 30, 40]);
  const shifted = (tx: number, mode: 'nearest' | 'reflect' | 'wrap' | 'constant'): number[] => [
    ...applyAffine(row, 4, 1, params({ tx: tx / 4 }), { mode, cval: 5 }, 1),
  ];
  it('reflect, by hand', () => {
    assert.deepEqual(shifted(2, 'reflect'), [30, 40, 40, 30]);
    assert.deepEqual(shifted(-2, 'reflect'), [20, 10, 10, 20]);
    assert.deepEqual(shifted(0.5, 'reflect'), [15, 25, 35, 40]);
  });
  it('wrap, by hand', () => {
    assert.deepEqual(shifted(2, 'wrap'), [30, 40, 10, 20]);
    assert.deepEqual(shifted(-1, 'wrap'), [40, 10, 20, 30]);
    assert.deepEqual(shifted(0.5, 'wrap'), [15, 25, 35, 25]);
  });
  it('nearest and constant, by hand', () => {
    assert.deepEqual(shifted(2, 'nearest'), [30, 40, 40, 40]);
    assert.deepEqual(shifted(-2, 'nearest'), [10, 10, 10, 20]);
    assert.deepEqual(shifted(2, 'constant'), [30, 40, 5, 5]);
    assert.deepEqual(shifted(0.5, 'constant'), [15, 25, 35, 5]);
  });
  it('reflect and wrap in the vertical direction too', () => {
    const col = Uint8Array.from([10, 20, 30]);
    const v = (ty: number, mode: 'reflect' | 'wrap'): number[] => [...applyAffine(col, 1, 3, params({ ty: ty / 3 }), mode, 1)];
    assert.deepEqual(v(2, 'reflect'), [30, 30, 20]);
    assert.deepEqual(v(2, 'wrap'), [30, 10, 20]);
  });
});

describe('kerasAffine: sampling', () => {
  const draws = Array.from({ length: 10_000 }, ((rng) => () => sampleAffineParams(rng, KERAS_REFERENCE_RANGES))(createRng(42)));

  it('flips each with probability ≈ 0.5, independently', () => {
    const h = draws.filter((d) => d.flipH).length;
    const v = draws.filter((d) => d.flipV).length;
    const both = draws.filter((d) => d.flipH && d.flipV).length;
    // binomial(10000, 0.5): sd 50; 4 sd. Both: binomial(10000, 0.25): sd ≈ 43.
    assert.ok(Math.abs(h - 5000) <= 200, `horizontal flips: ${h}`);
    assert.ok(Math.abs(v - 5000) <= 200, `vertical flips: ${v}`);
    assert.ok(Math.abs(both - 2500) <= 175, `both: ${both}`);
  });

  it('zx and zy lie in [0.9, 1.1], cover it, and are uncorrelated', () => {
    const zx = draws.map((d) => d.zx);
    const zy = draws.map((d) => d.zy);
    for (const z of [...zx, ...zy]) assert.ok(z >= 0.9 && z <= 1.1, `zoom ${z}`);
    assert.ok(Math.min(...zx) < 0.905 && Math.max(...zx) > 1.095);
    const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
    const mx = mean(zx);
    const my = mean(zy);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < zx.length; i++) {
      sxy += (zx[i]! - mx) * (zy[i]! - my);
      sxx += (zx[i]! - mx) ** 2;
      syy += (zy[i]! - my) ** 2;
    }
    const r = sxy / Math.sqrt(sxx * syy);
    assert.ok(Math.abs(r) < 0.05, `correlation ${r}`); // sd of r ≈ 0.01 at n = 10,000
    assert.ok(Math.abs(mx - 1) < 0.005 && Math.abs(my - 1) < 0.005);
  });

  it('angles span ±180° and shifts ±0.1', () => {
    assert.ok(draws.every((d) => Math.abs(d.angleDeg) <= 180 && Math.abs(d.tx) <= 0.1 && Math.abs(d.ty) <= 0.1));
    assert.ok(Math.min(...draws.map((d) => d.angleDeg)) < -175 && Math.max(...draws.map((d) => d.angleDeg)) > 175);
  });

  it('follows the configured ranges, and disabled flips never happen', () => {
    const rng = createRng(3);
    for (let i = 0; i < 1000; i++) {
      const d = sampleAffineParams(rng, { rotationDeg: 10, widthShift: 0.2, heightShift: 0, zoom: 0, horizontalFlip: false, verticalFlip: true });
      assert.ok(Math.abs(d.angleDeg) <= 10 && Math.abs(d.tx) <= 0.2 && d.ty === 0 && d.zx === 1 && d.zy === 1 && !d.flipH);
    }
  });

  it('the same seed draws the same transform', () => {
    assert.deepEqual(sampleAffineParams(createRng(9)), sampleAffineParams(createRng(9)));
    assert.notDeepEqual(sampleAffineParams(createRng(9)), sampleAffineParams(createRng(10)));
  });
});

describe('kerasContrastStretch', () => {
  it("scales the brightest value to 255 and truncates, as Keras' array_to_img(scale=True)", () => {
    assert.deepEqual([...kerasContrastStretch(Uint8Array.from([0, 50, 100]))], [0, 127, 255]);
    assert.deepEqual([...kerasContrastStretch(Uint8Array.from([0, 0]))], [0, 0]);
  });
});
