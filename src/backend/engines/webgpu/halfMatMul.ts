/**
 * Mixed-precision matrix products for the webgpu engine (adapters with `shader-f16`):
 *   C[m, n] = outScale · Σ_k A(m, k) · B(k, n)  (+ bias[n])
 * Operands are rounded to float16 as they are loaded into workgroup memory (or are already float16 in storage,
 * as the im2col matrix is), each product of two halves is formed exactly in float32 and summed in float32 —
 * the numerics of tensor-core "mixed precision". Gradient operands are multiplied by a fixed loss scale before
 * rounding (outScale undoes it), so values down to ~1e-10 survive instead of flushing to zero below float16's
 * 6e-8; values are clamped to ±65504 rather than becoming infinite.
 * Long reductions with few output tiles (filter gradients: K = batch × pixels) are split across workgroups into
 * partial sums and added by a second dispatch.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGpuBackendInternals } from './backendInternals';
import type { DirectProgram } from './directProgram';
import { flatGrid } from './backendInternals';
import { storageElements } from './deviceLimits';
import { allocateOutput, runDirect } from './directProgram';

const TILE_M = 64;
const TILE_N = 64;
const TILE_K = 16;
/** Enough workgroups to keep a large GPU busy when splitting a long reduction. */
const TARGET_WORKGROUPS = 256;

const HALF_MAX = 65504;

export interface Operand {
  tensor: TensorInfo;
  /** Stored as float16 (allocateHalfStorage) rather than float32. */
  half?: boolean;
  /** A is read as Aᵀ (stored [K, M]); B as Bᵀ (stored [N, K]). */
  transposed?: boolean;
  /** Element offset of the matrix inside its buffer. */
  offset?: number;
  /** Multiplies float32 values before they are rounded (the loss scale for gradients); ignored for half storage. */
  scale?: number;
}

export interface HalfMatMulOptions {
  m: number;
  n: number;
  k: number;
  a: Operand;
  b: Operand;
  /** Multiplies the float32 sums (1 / the operands' scales). */
  outScale?: number;
  bias?: TensorInfo;
  /** Write into this [*, n] float32 tensor from row `outRowOffset` instead of allocating one (im2col chunks). */
  into?: { tensor: TensorInfo; rowOffset: number };
}

function tileLoader(name: 'a' | 'b', op: { half: boolean; transposed: boolean }): string {
  // Consecutive invocations read consecutive addresses: along K when the stored rows run along K, else along M/N.
  const outer = name === 'a' ? TILE_M : TILE_N;
  const alongK = name === 'a' ? !op.transposed : op.transposed;
  const limit = name === 'a' ? 'u.M' : 'u.N';
  const base = name === 'a' ? 'm0' : 'n0';
  const index = name === 'a' ? (op.transposed ? `kk * u.M + r` : `r * u.K + kk`) : op.transposed ? `r * u.K + kk` : `kk * u.N + r`;
  const read = op.half ? `${name}[u.${name}Offset + ${index}]` : `f16(clamp(${name}[u.${name}Offset + ${index}] * u.${name}Scale, -${HALF_MAX}.0, ${HALF_MAX}.0))`;
  const tile = name === 'a' ? 'tileA' : 'tileB';
  return `
    for (var e = tid; e < ${TILE_K * outer}u; e = e + 256u) {
      ${alongK ? `let kl = e % ${TILE_K}u; let rl = e / ${TILE_K}u;` : `let rl = e % ${outer}u; let kl = e / ${outer}u;`}
      let r = ${base} + rl;
      let kk = k0 + kl;
      var v = 0.0h;
      if (r < ${limit} && kk < kEnd) { v = ${read}; }
      ${tile}[kl][rl] = v;
    }`;
}

function matMulProgram(a: { half: boolean; transposed: boolean }, b: { half: boolean; transposed: boolean }, hasBias: boolean, partial: boolean): DirectProgram {
  const key = `halfMatMul:${+a.half}${+a.transposed}${+b.half}${+b.transposed}${+hasBias}${+partial}`;
  const store = partial
    ? `c[(u.zBase + z) * u.M * u.N + row * u.N + col] = acc[i][j];`
    : `c[(u.cRowOffset + row) * u.N + col] = acc[i][j] * u.outScale${hasBias ? ' + bias[col]' : ''};`;
  return {
    key,
    outputs: ['c'],
    inputs: hasBias ? ['a', 'b', 'bias'] : ['a', 'b'],
    halfBindings: [...(a.half ? ['a'] : []), ...(b.half ? ['b'] : [])],
    uniforms: [
      { name: 'M', type: 'u32' },
      { name: 'N', type: 'u32' },
      { name: 'K', type: 'u32' },
      { name: 'kPerSplit', type: 'u32' },
      { name: 'aOffset', type: 'u32' },
      { name: 'bOffset', type: 'u32' },
      { name: 'cRowOffset', type: 'u32' },
      { name: 'zBase', type: 'u32' },
      { name: 'aScale', type: 'f32' },
      { name: 'bScale', type: 'f32' },
      { name: 'outScale', type: 'f32' },
    ],
    main: `
var<workgroup> tileA : array<array<f16, ${TILE_M}>, ${TILE_K}>;
var<workgroup> tileB : array<array<f16, ${TILE_N}>, ${TILE_K}>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>) {
  let tid = lid.y * 16u + lid.x;
  let m0 = wid.y * ${TILE_M}u;
  let n0 = wid.x * ${TILE_N}u;
  let z = wid.z;
  let kBegin = z * u.kPerSplit;
  let kEnd = min(u.K, kBegin + u.kPerSplit);
  var acc : array<array<f32, 4>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + ${TILE_K}u) {
    ${tileLoader('a', a)}
    ${tileLoader('b', b)}
    workgroupBarrier();
    for (var kl = 0u; kl < ${TILE_K}u; kl = kl + 1u) {
      var av : array<f32, 4>;
      var bv : array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) { av[i] = f32(tileA[kl][lid.y + 16u * i]); }
      for (var j = 0u; j < 4u; j = j + 1u) { bv[j] = f32(tileB[kl][lid.x + 16u * j]); }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let row = m0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let col = n0 + lid.x + 16u * j;
      if (row < u.M && col < u.N) { ${store} }
    }
  }
}`,
  };
}

const SUM_PARTIALS: DirectProgram = {
  key: 'halfMatMulSumPartials',
  outputs: ['c'],
  inputs: ['partials'],
  uniforms: [
    { name: 'size', type: 'u32' },
    { name: 'parts', type: 'u32' },
    { name: 'rowStride', type: 'u32' },
    { name: 'outScale', type: 'f32' },
  ],
  main: `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let i = gid.y * u.rowStride + gid.x;
  if (gid.x >= u.rowStride || i >= u.size) { return; }
  var s = 0.0;
  for (var p = 0u; p < u.parts; p = p + 1u) { s = s + partials[p * u.size + i]; }
  c[i] = s * u.outScale;
}`,
};

function uniforms(o: HalfMatMulOptions, kPerSplit: number, cRowOffset: number, zBase: number): number[] {
  return [o.m, o.n, o.k, kPerSplit, o.a.offset ?? 0, o.b.offset ?? 0, cRowOffset, zBase, o.a.scale ?? 1, o.b.scale ?? 1, o.outScale ?? 1];
}

function shapeOf(op: Operand): { half: boolean; transposed: boolean } {
  return { half: op.half ?? false, transposed: op.transposed ?? false };
}

function checkGrid(backend: WebGpuBackendInternals, m: number): void {
  const limit = backend.device.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(m / TILE_M) > limit) throw new Error(`halfMatMul: ${m} rows need more than ${limit} workgroups; split the batch`);
}

/** One dispatch: C = A·B (+ bias), written into `o.into` or a new [m, n] float32 tensor. */
export function halfMatMul(backend: WebGpuBackendInternals, o: HalfMatMulOptions): TensorInfo {
  checkGrid(backend, o.m);
  const out = o.into?.tensor ?? allocateOutput(backend, [o.m, o.n]);
  const program = matMulProgram(shapeOf(o.a), shapeOf(o.b), !!o.bias, false);
  const inputs = o.bias ? [o.a.tensor, o.b.tensor, o.bias] : [o.a.tensor, o.b.tensor];
  runDirect(backend, program, [out], inputs, uniforms(o, Math.ceil(o.k / TILE_K) * TILE_K, o.into?.rowOffset ?? 0, 0), [Math.ceil(o.n / TILE_N), Math.ceil(o.m / TILE_M), 1]);
  return out;
}

/**
 * How many ways to split a reduction of length k over an m×n output so the GPU has TARGET_WORKGROUPS to run (at
 * most `maxSplits`: the partial sums must fit one storage binding).
 */
function reductionSplits(m: number, n: number, k: number, maxSplits: number): { splits: number; kPerSplit: number } {
  const tiles = Math.ceil(m / TILE_M) * Math.ceil(n / TILE_N);
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.ceil(k / (8 * TILE_K)), 64, maxSplits));
  const kPerSplit = Math.ceil(k / wanted / TILE_K) * TILE_K;
  return { splits: Math.ceil(k / kPerSplit), kPerSplit };
}

/** One term of a halfMatMulSum, built when its turn comes so only one term's temporaries (an im2col chunk) exist at a time. */
export interface SumTerm {
  k: number;
  build(): { a: Operand; b: Operand; release(): void };
}

/**
 * Σ over `terms` of A_t·B_t (each [m, k_t]·[k_t, n]), each term's reduction split across workgroups into partial
 * sums, then added (times outScale) by one more dispatch: the filter gradient, whose reduction runs over every
 * image and pixel of the batch. Undefined when even one partial sum per term would not fit a storage binding.
 */
export function halfMatMulSum(backend: WebGpuBackendInternals, m: number, n: number, terms: SumTerm[], outScale: number): TensorInfo | undefined {
  const maxSplits = Math.floor(storageElements(backend, 4) / (m * n) / terms.length);
  if (maxSplits < 1) return undefined;
  const plans = terms.map((t) => reductionSplits(m, n, t.k, maxSplits));
  const totalSplits = plans.reduce((s, p) => s + p.splits, 0);
  const partials = allocateOutput(backend, [totalSplits, m, n]);
  try {
    let zBase = 0;
    terms.forEach((term, i) => {
      const { splits, kPerSplit } = plans[i]!;
      const { a, b, release } = term.build();
      try {
        const o: HalfMatMulOptions = { m, n, k: term.k, a, b };
        const program = matMulProgram(shapeOf(a), shapeOf(b), false, true);
        runDirect(backend, program, [partials], [a.tensor, b.tensor], uniforms(o, kPerSplit, 0, zBase), [Math.ceil(n / TILE_N), Math.ceil(m / TILE_M), splits]);
      } finally {
        release();
      }
      zBase += splits;
    });
    const out = allocateOutput(backend, [m, n]);
    const grid = flatGrid(m * n);
    runDirect(backend, SUM_PARTIALS, [out], [partials], [m * n, totalSplits, grid.rowStride, outScale], grid.groups);
    return out;
  } finally {
    backend.disposeData(partials.dataId);
  }
}
