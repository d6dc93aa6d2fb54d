/**
 * Batch normalisation for training on webgpu in 5 dispatches per layer and step instead of ~48 from TF.js' ops
 * (moments, batchNorm, the moving-average arithmetic and their autodiff gradients: ~2,540 of a ResNet50 RMSprop
 * step's 3,290 dispatches; bench/webgpuStep.ts). x is channels-last, seen as [rows = N·H·W, C]:
 *   LesionLabBatchNormTrain  1. per-(row chunk, channel) partial sums of (x − K) and (x − K)², K = x[0, c] (a
 *                               shift that keeps the one-pass variance from cancelling when |mean| ≫ std)
 *                            2. per channel: mean, 1/√(var + ε), and the new moving mean/variance
 *                            3. y = (x − mean)·(γ/√(var + ε)) + β
 *   LesionLabBatchNormGrad   1. per-(row chunk, channel) partial sums of dy and dy·x̂
 *                            2. dβ = Σdy, dγ = Σdy·x̂ (each workgroup sums the partials of its channels), and
 *                               dx = γ/√(var + ε) · (dy − dβ/M − x̂·dγ/M)
 * which is the gradient of the stock training path (batch statistics differentiated through, as tf.moments is).
 * The variance is the biased one (÷M), as tf.moments; the moving averages are TF.js' `v − (v − batch)·(1 − momentum)`.
 * Reductions run in workgroups of 256 = W channels × 256/W row lanes: neighbouring invocations read neighbouring
 * channels of one row (coalesced), and the lanes are summed in workgroup memory.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { WebGpuBackendInternals } from './backendInternals';
import { hasExpectedInternals } from './backendInternals';
import type { DirectProgram } from './directProgram';
import { allocateOutput, runDirect } from './directProgram';

export const BATCH_NORM_TRAIN = 'LesionLabBatchNormTrain';
export const BATCH_NORM_GRAD = 'LesionLabBatchNormGrad';

const WORKGROUP = 256;
/** Row chunks of one channel block in a reduction pass: at most this many (the finalize pass sums them serially). */
const MAX_SPLITS = 128;
/** …and each lane of a chunk sums at least this many rows (fewer chunks for small tensors). */
const MIN_ROWS_PER_LANE = 16;
/** Rows per lane in the elementwise passes. */
const ROWS_PER_LANE = 4;
const MAX_GROUPS = 65535;

/** W: channels per workgroup (a power of two ≤ 64, no wider than needed); lanes = 256 / W rows at a time. */
function channelTile(channels: number): { width: number; lanes: number; blocks: number } {
  const width = Math.min(64, 2 ** Math.ceil(Math.log2(Math.max(1, channels))));
  return { width, lanes: WORKGROUP / width, blocks: Math.ceil(channels / width) };
}

function reductionGrid(rows: number, channels: number): { width: number; rowsPerGroup: number; groups: [number, number, number] } {
  const { width, lanes, blocks } = channelTile(channels);
  const splits = Math.min(MAX_SPLITS, Math.max(1, Math.ceil(rows / (lanes * MIN_ROWS_PER_LANE))));
  const rowsPerGroup = Math.ceil(rows / splits);
  return { width, rowsPerGroup, groups: [blocks, Math.ceil(rows / rowsPerGroup), 1] };
}

function elementwiseGrid(rows: number, channels: number, minRowsPerGroup = 0): { width: number; rowsPerGroup: number; groups: [number, number, number] } {
  const { width, lanes, blocks } = channelTile(channels);
  const rowsPerGroup = Math.max(lanes * ROWS_PER_LANE, Math.ceil(rows / MAX_GROUPS), minRowsPerGroup);
  return { width, rowsPerGroup, groups: [blocks, Math.ceil(rows / rowsPerGroup), 1] };
}

const TILED_UNIFORMS: DirectProgram['uniforms'] = [
  { name: 'rows', type: 'u32' },
  { name: 'channels', type: 'u32' },
  { name: 'rowsPerGroup', type: 'u32' },
];

/** The shared frame of the tiled passes: `c` (channel), `lane`, and the row range [start, end) of this workgroup. */
function tiledMain(width: number, body: string, prelude = ''): string {
  return `
const W = ${width}u;
const L = ${WORKGROUP / width}u;
${prelude}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(local_invocation_index) t : u32) {
  let lane = t / W;
  let c = wid.x * W + t % W;
  let C = u.channels;
  let inRange = c < C;
  let start = wid.y * u.rowsPerGroup;
  let end = min(start + u.rowsPerGroup, u.rows);
  ${body}
}`;
}

/**
 * A reduction pass: `accumulate` adds row r's terms (element index i) to s1 and s2 (after `setup`); the lane sums
 * are then added in workgroup memory and written as partials[chunk][0|1][c].
 */
function reductionProgram(key: string, width: number, inputs: string[], setup: string, accumulate: string): DirectProgram {
  const body = `
  var s1 = 0.0;
  var s2 = 0.0;
  if (inRange) {
    ${setup}
    for (var r = start + lane; r < end; r = r + L) {
      let i = r * C + c;
      ${accumulate}
    }
  }
  red1[t] = s1;
  red2[t] = s2;
  for (var s = L / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (lane < s) {
      red1[t] = red1[t] + red1[t + s * W];
      red2[t] = red2[t] + red2[t + s * W];
    }
  }
  if (lane == 0u && inRange) {
    partials[wid.y * 2u * C + c] = red1[t];
    partials[wid.y * 2u * C + C + c] = red2[t];
  }`;
  return { key: `${key}_${width}`, outputs: ['partials'], inputs, uniforms: TILED_UNIFORMS, main: tiledMain(width, body, LANE_SUMS) };
}

function elementwiseProgram(key: string, width: number, output: string, inputs: string[], setup: string, perElement: string): DirectProgram {
  const body = `
  if (!inRange) { return; }
  ${setup}
  for (var r = start + lane; r < end; r = r + L) {
    let i = r * C + c;
    ${perElement}
  }`;
  return { key: `${key}_${width}`, outputs: [output], inputs, uniforms: TILED_UNIFORMS, main: tiledMain(width, body) };
}

/** One program per channel-tile width, made on first use. */
function perWidth(make: (width: number) => DirectProgram): (width: number) => DirectProgram {
  const made = new Map<number, DirectProgram>();
  return (width) => {
    let p = made.get(width);
    if (!p) made.set(width, (p = make(width)));
    return p;
  };
}

const statsProgram = perWidth((width) =>
  reductionProgram(
    'lesionBnStats',
    width,
    ['x'],
    'let shift = x[c];',
    `let v = x[i] - shift;
      s1 = s1 + v;
      s2 = s2 + v * v;`,
  ),
);

const normaliseProgram = perWidth((width) =>
  elementwiseProgram(
    'lesionBnNormalise',
    width,
    'y',
    ['x', 'stats', 'gamma', 'beta'],
    `let mean = stats[c];
  let scale = stats[C + c] * gamma[c];
  let offset = beta[c];`,
    'y[i] = (x[i] - mean) * scale + offset;',
  ),
);

const gradPartialsProgram = perWidth((width) =>
  reductionProgram(
    'lesionBnGradPartials',
    width,
    ['x', 'dy', 'stats'],
    `let mean = stats[c];
    let invStd = stats[C + c];`,
    `let g = dy[i];
      s1 = s1 + g;
      s2 = s2 + g * ((x[i] - mean) * invStd);`,
  ),
);

const LANE_SUMS = `var<workgroup> red1 : array<f32, ${WORKGROUP}>;\nvar<workgroup> red2 : array<f32, ${WORKGROUP}>;`;

/**
 * dx, and dγ, dβ from the workgroups of the first row chunk: each workgroup first sums its channels' chunk
 * partials (lanes take chunks lane, lane + L, …, then meet in workgroup memory), so the backward pass needs no
 * separate finalize dispatch. Its row chunks are ≥ 8× the partial chunk count, which bounds that extra reading.
 */
const dxProgram = perWidth((width): DirectProgram => {
  const body = `
  var p1 = 0.0;
  var p2 = 0.0;
  if (inRange) {
    for (var s = lane; s < u.splits; s = s + L) {
      p1 = p1 + partials[s * 2u * C + c];
      p2 = p2 + partials[s * 2u * C + C + c];
    }
  }
  red1[t] = p1;
  red2[t] = p2;
  for (var s = L / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (lane < s) {
      red1[t] = red1[t] + red1[t + s * W];
      red2[t] = red2[t] + red2[t + s * W];
    }
  }
  workgroupBarrier();
  if (inRange) {
    let sumDy = red1[t % W];
    let sumDyXhat = red2[t % W];
    if (wid.y == 0u && lane == 0u) {
      dbeta[c] = sumDy;
      dgamma[c] = sumDyXhat;
    }
    let mean = stats[c];
    let invStd = stats[C + c];
    let k = gamma[c] * invStd;
    let meanDy = sumDy * u.invRows;
    let meanDyXhat = sumDyXhat * u.invRows;
    for (var r = start + lane; r < end; r = r + L) {
      let i = r * C + c;
      dx[i] = k * (dy[i] - meanDy - ((x[i] - mean) * invStd) * meanDyXhat);
    }
  }`;
  return {
    key: `lesionBnDx_${width}`,
    // 3 + 5 storage buffers: WebGPU's default limit per shader stage is 8.
    outputs: ['dx', 'dgamma', 'dbeta'],
    inputs: ['x', 'dy', 'stats', 'gamma', 'partials'],
    uniforms: [...TILED_UNIFORMS, { name: 'splits', type: 'u32' }, { name: 'invRows', type: 'f32' }],
    main: tiledMain(width, body, LANE_SUMS),
  };
});

/** Per-channel finalize programs: one invocation per channel, summing the chunks' partials. */
function channelProgram(key: string, outputs: string[], inputs: string[], uniforms: DirectProgram['uniforms'], body: string): DirectProgram {
  return {
    key,
    outputs,
    inputs,
    uniforms: [{ name: 'channels', type: 'u32' }, { name: 'splits', type: 'u32' }, ...uniforms],
    main: `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let c = gid.x;
  let C = u.channels;
  if (c >= C) { return; }
  var s1 = 0.0;
  var s2 = 0.0;
  for (var s = 0u; s < u.splits; s = s + 1u) {
    s1 = s1 + partials[s * 2u * C + c];
    s2 = s2 + partials[s * 2u * C + C + c];
  }
  ${body}
}`,
  };
}

const FINALIZE_STATS = channelProgram(
  'lesionBnFinalizeStats',
  ['stats', 'newMovingMean', 'newMovingVariance'],
  ['partials', 'x', 'movingMean', 'movingVariance'],
  [
    { name: 'invRows', type: 'f32' },
    { name: 'epsilon', type: 'f32' },
    { name: 'decay', type: 'f32' },
  ],
  `let d = s1 * u.invRows;
  let mean = x[c] + d;
  let variance = max(s2 * u.invRows - d * d, 0.0);
  stats[c] = mean;
  stats[C + c] = 1.0 / sqrt(variance + u.epsilon);
  newMovingMean[c] = movingMean[c] - (movingMean[c] - mean) * u.decay;
  newMovingVariance[c] = movingVariance[c] - (movingVariance[c] - variance) * u.decay;`,
);

function requireBackend(backend: unknown, kernel: string): WebGpuBackendInternals {
  if (!hasExpectedInternals(backend)) throw new Error(`${kernel}: this TF.js webgpu backend lacks the internals the kernel needs`);
  return backend;
}

/** x seen as [rows, channels] (channels last), with the per-channel inputs checked against it. */
export function rowsAndChannels(x: TensorInfo, perChannel: TensorInfo[], kernel: string): { rows: number; channels: number } {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const size = util.sizeFromShape(x.shape);
  if (x.shape.length < 2 || channels === 0 || size === 0) throw new Error(`${kernel}: x must be non-empty with channels last, got [${x.shape.join(', ')}]`);
  for (const t of [x, ...perChannel]) if (t.dtype !== 'float32') throw new Error(`${kernel}: float32 only`);
  for (const t of perChannel) if (util.sizeFromShape(t.shape) !== channels) throw new Error(`${kernel}: per-channel inputs must have ${channels} elements`);
  return { rows: size / channels, channels };
}

/** Inputs x, gamma, beta, movingMean, movingVariance; attrs epsilon, momentum → [y, stats (mean; 1/√(var+ε)), new moving mean, new moving variance]. */
function batchNormTrain(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = requireBackend(args.backend, BATCH_NORM_TRAIN);
  const { x, gamma, beta, movingMean, movingVariance } = args.inputs as Record<'x' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance', TensorInfo>;
  const { epsilon, momentum } = args.attrs as { epsilon: number; momentum: number };
  const { rows, channels } = rowsAndChannels(x, [gamma, beta, movingMean, movingVariance], BATCH_NORM_TRAIN);
  const reduction = reductionGrid(rows, channels);
  const partials = allocateOutput(backend, [reduction.groups[1], 2, channels]);
  const stats = allocateOutput(backend, [2, channels]);
  const newMovingMean = allocateOutput(backend, [channels]);
  const newMovingVariance = allocateOutput(backend, [channels]);
  const y = allocateOutput(backend, x.shape.slice());
  try {
    runDirect(backend, statsProgram(reduction.width), [partials], [x], [rows, channels, reduction.rowsPerGroup], reduction.groups);
    runDirect(
      backend,
      FINALIZE_STATS,
      [stats, newMovingMean, newMovingVariance],
      [partials, x, movingMean, movingVariance],
      [channels, reduction.groups[1], 1 / rows, epsilon, 1 - momentum],
      [Math.ceil(channels / 64), 1, 1],
    );
    const grid = elementwiseGrid(rows, channels);
    runDirect(backend, normaliseProgram(grid.width), [y], [x, stats, gamma, beta], [rows, channels, grid.rowsPerGroup], grid.groups);
  } finally {
    backend.disposeData(partials.dataId);
  }
  return [y, stats, newMovingMean, newMovingVariance];
}

/** Inputs x, dy, gamma, stats (from the forward kernel) → [dx, dgamma, dbeta]. */
function batchNormGrad(args: { inputs: Record<string, TensorInfo>; backend: unknown }): TensorInfo[] {
  const backend = requireBackend(args.backend, BATCH_NORM_GRAD);
  const { x, dy, gamma, stats } = args.inputs as Record<'x' | 'dy' | 'gamma' | 'stats', TensorInfo>;
  const { rows, channels } = rowsAndChannels(x, [gamma], BATCH_NORM_GRAD);
  if (!util.arraysEqual(dy.shape, x.shape) || dy.dtype !== 'float32') throw new Error(`${BATCH_NORM_GRAD}: dy must be float32 shaped like x`);
  const reduction = reductionGrid(rows, channels);
  const partials = allocateOutput(backend, [reduction.groups[1], 2, channels]);
  const dgamma = allocateOutput(backend, gamma.shape.slice());
  const dbeta = allocateOutput(backend, gamma.shape.slice());
  const dx = allocateOutput(backend, x.shape.slice());
  try {
    runDirect(backend, gradPartialsProgram(reduction.width), [partials], [x, dy, stats], [rows, channels, reduction.rowsPerGroup], reduction.groups);
    const grid = elementwiseGrid(rows, channels, 8 * reduction.groups[1]);
    runDirect(backend, dxProgram(grid.width), [dx, dgamma, dbeta], [x, dy, stats, gamma, partials], [rows, channels, grid.rowsPerGroup, reduction.groups[1], 1 / rows], grid.groups);
  } finally {
    backend.disposeData(partials.dataId);
  }
  return [dx, dgamma, dbeta];
}

export function makeBatchNormKernelConfigs(): { train: KernelConfig; grad: KernelConfig } {
  return {
    train: { kernelName: BATCH_NORM_TRAIN, backendName: 'webgpu', kernelFunc: batchNormTrain as unknown as KernelFunc },
    grad: { kernelName: BATCH_NORM_GRAD, backendName: 'webgpu', kernelFunc: batchNormGrad as unknown as KernelFunc },
  };
}
