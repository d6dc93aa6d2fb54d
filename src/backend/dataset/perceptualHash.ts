/**
 * A 64-bit perceptual hash (the DCT hash of Zauner 2010, as Python's imagehash.phash computes it): the image
 * in grey at 32×32, its 2-D DCT-II, the 8×8 lowest frequencies, one bit per coefficient — above their median
 * or not. Resizing, re-encoding and small colour changes barely move it; another image moves about half the
 * bits. Two images whose hashes differ in at most a few bits are near-duplicates (HAM10000 holds the same
 * lesion under different lesion ids: Abhishek, Jain & Hamarneh, Scientific Data 2025).
 *
 * Computed during validation's full decode (validate.ts), which produces the 32×32 grey image at no extra
 * read, so hashing costs one small DCT per image; nearDuplicates.ts pairs and groups the images.
 */

/** Side of the grey image the hash is computed from. */
export const PHASH_INPUT = 32;
const LOW = 8;

// cos((2x + 1) · u · π / 2N) for u < 8, x < 32: the only DCT terms the hash needs.
const COSINES = Float64Array.from({ length: LOW * PHASH_INPUT }, (_, i) => Math.cos(((2 * (i % PHASH_INPUT) + 1) * Math.floor(i / PHASH_INPUT) * Math.PI) / (2 * PHASH_INPUT)));

/** The hash of a 32×32 grey image (row-major, one byte a pixel), as 16 hexadecimal digits. */
export function perceptualHash(grey: ArrayLike<number>): string {
  if (grey.length !== PHASH_INPUT * PHASH_INPUT) throw new Error(`perceptualHash: expected ${PHASH_INPUT}×${PHASH_INPUT} pixels, got ${grey.length}`);
  const N = PHASH_INPUT;
  // Rows first: the 8 lowest frequencies of each row, then of each of those columns.
  const rows = new Float64Array(N * LOW);
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < LOW; u++) {
      let sum = 0;
      for (let x = 0; x < N; x++) sum += grey[y * N + x]! * COSINES[u * N + x]!;
      rows[y * LOW + u] = sum;
    }
  }
  const low = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      let sum = 0;
      for (let y = 0; y < N; y++) sum += rows[y * LOW + u]! * COSINES[v * N + y]!;
      low[v * LOW + u] = sum;
    }
  }
  // scipy's unnormalised DCT-II (what imagehash calls) is these sums times 4: a constant the median ignores.
  const sorted = Float64Array.from(low).sort();
  const median = (sorted[LOW * LOW / 2 - 1]! + sorted[LOW * LOW / 2]!) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let b = 0; b < 4; b++) value = (value << 1) | (low[nibble * 4 + b]! > median ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/**
 * A (nearly) uniform image has no low frequencies but the mean: its bits would be set by rounding noise, and
 * every blank frame would "match" every other. Such an image gets no hash.
 */
export function tooFlatToHash(grey: ArrayLike<number>): boolean {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < grey.length; i++) {
    sum += grey[i]!;
    sq += grey[i]! * grey[i]!;
  }
  const mean = sum / grey.length;
  return sq / grey.length - mean * mean < 1; // a standard deviation under one grey level
}

/** Bits that differ between two hashes. */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < 16; i += 8) d += popcount((parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0);
  return d;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Every pair (i < j) of hashes within `threshold` bits, with its distance; undefined hashes are skipped.
 * All pairs are compared on two 32-bit halves: 10,015 images (50 million pairs) take about half a second.
 */
export function pairsWithin(hashes: readonly (string | undefined)[], threshold: number): { a: number; b: number; distance: number }[] {
  const index: number[] = [];
  const hi: number[] = [];
  const lo: number[] = [];
  hashes.forEach((h, i) => {
    if (h === undefined) return;
    index.push(i);
    hi.push(parseInt(h.slice(0, 8), 16) >>> 0);
    lo.push(parseInt(h.slice(8), 16) >>> 0);
  });
  const H = Uint32Array.from(hi);
  const L = Uint32Array.from(lo);
  const pairs: { a: number; b: number; distance: number }[] = [];
  const n = H.length;
  for (let i = 0; i < n; i++) {
    const hi0 = H[i]!;
    const lo0 = L[i]!;
    for (let j = i + 1; j < n; j++) {
      const d = popcount((hi0 ^ H[j]!) >>> 0) + popcount((lo0 ^ L[j]!) >>> 0);
      if (d <= threshold) pairs.push({ a: index[i]!, b: index[j]!, distance: d });
    }
  }
  return pairs;
}
