/**
 * DepthwiseConv2dNativeBackpropFilter on webgpu (every MobileNetV2 depthwise layer's filter gradient). TF.js 4.22's
 * own kernel (DepthwiseConv2DDerFilterProgram) gives each filter element one thread that loops over the whole
 * batch and output image: a 3×3 layer with C channels runs 9·C threads, each summing N·outH·outW products in
 * series — the pathology of its Conv2DBackpropFilter (conv2dBackpropFilter.ts). Here, with rows r = (n, oy, ox):
 *   dW[fh, fw, c, 0] = Σ_r x[n, oy·sh + fh − padTop, ox·sw + fw − padLeft, c] · dy[n, oy, ox, c]
 * in two dispatches:
 *   1. partials[chunk, lane, tap, c]: workgroups of 64 = W channels × 64/W row lanes, one per (channel tile, row
 *      chunk); each invocation keeps all fh·fw taps of its channel in registers, so one dy read serves every tap,
 *      and neighbouring invocations read neighbouring channels of one pixel (coalesced). The chunk count grows with
 *      N·outH·outW, up to ~TARGET_WORKGROUPS workgroups in all. No workgroup memory, no barriers.
 *   2. dW: the partial rows summed (several lanes per output when there are many, met in workgroup memory).
 * With a single partial row (one chunk, W = 64), pass 1 writes dW directly. Any stride and padding ('same', 'valid',
 * explicit); anything else (channel multiplier ≠ 1, dilation, non-float32, more than MAX_TAPS taps) goes to the stock
 * kernel.
 */
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { WebGpuBackendInternals } from './backendInternals';
import { flatDispatch, hasExpectedInternals } from './backendInternals';
import type { DirectProgram } from './directProgram';
import { allocateOutput, runDirect } from './directProgram';

/** Taps (fh·fw) accumulated in registers per invocation: 7×7 at most; larger filters use the stock kernel. */
export const MAX_TAPS = 49;
const WORKGROUP = 64;
/** Enough row-chunk workgroups to fill a large GPU (≈ 8 per SM on an H100/H200)… */
const TARGET_WORKGROUPS = 1024;
/** …but each lane sums at least this many rows, */
const MIN_ROWS_PER_LANE = 32;
/** …and pass 2 has at most this many partial rows to sum. */
const MAX_PARTIAL_ROWS = 2048;
const MAX_GROUPS = 65535;
const SUM_WORKGROUP = 256;

/** The channel-tile width W (a power of two, 8 to 64) that wastes the fewest invocations; the wider on a tie. */
export function channelTileWidth(channels: number): number {
  let best = 64;
  for (const w of [64, 32, 16, 8]) {
    if (Math.ceil(channels / w) * w < Math.ceil(channels / best) * best) best = w;
  }
  return best;
}

export interface DepthwiseFilterGrid {
  /** Channels per workgroup (W) and row lanes (64 / W). */
  width: number;
  lanes: number;
  /** Workgroups along x (channel tiles) and y (row chunks). */
  tiles: number;
  splits: number;
  rowsPerSplit: number;
  /** Rows of partials, splits × lanes; 1: pass 1 writes dW itself. */
  parts: number;
  /** Pass 2's lanes per output (a power of two ≤ 16; 256 / sumLanes outputs per workgroup). */
  sumLanes: number;
}

/** How the N·outH·outW rows are cut: chunks from the reduction length, bounded so a big layer fills a GPU. */
export function depthwiseFilterGrid(rows: number, channels: number): DepthwiseFilterGrid {
  const width = channelTileWidth(channels);
  const lanes = WORKGROUP / width;
  const tiles = Math.ceil(channels / width);
  const wanted = Math.min(Math.ceil(rows / (lanes * MIN_ROWS_PER_LANE)), Math.floor(TARGET_WORKGROUPS / tiles), Math.floor(MAX_PARTIAL_ROWS / lanes), MAX_GROUPS);
  const rowsPerSplit = Math.ceil(rows / Math.max(1, wanted));
  const splits = Math.ceil(rows / rowsPerSplit);
  const parts = splits * lanes;
  // Each pass-2 lane sums ≥ 64 partial rows before the lanes meet (no lanes, no barriers, for a few rows).
  const sumLanes = Math.min(16, 2 ** Math.max(0, Math.ceil(Math.log2(parts / 64))));
  return { width, lanes, tiles, splits, rowsPerSplit, parts, sumLanes };
}

const PARTIALS_UNIFORMS: DirectProgram['uniforms'] = [
  { name: 'channels', type: 'u32' },
  { name: 'inHeight', type: 'u32' },
  { name: 'inWidth', type: 'u32' },
  { name: 'outWidth', type: 'u32' },
  { name: 'pixels', type: 'u32' },
  { name: 'strideHeight', type: 'u32' },
  { name: 'strideWidth', type: 'u32' },
  { name: 'padTop', type: 'u32' },
  { name: 'padLeft', type: 'u32' },
  { name: 'rows', type: 'u32' },
  { name: 'rowsPerSplit', type: 'u32' },
];

const programs = new Map<string, DirectProgram>();

function cached(key: string, make: () => Omit<DirectProgram, 'key'>): DirectProgram {
  let p = programs.get(key);
  if (!p) programs.set(key, (p = { key, ...make() }));
  return p;
}

/**
 * Pass 1. The taps are unrolled into scalar accumulators a0…a{taps−1}: an indexed private array is spilled to
 * memory by some compilers (lavapipe's LLVM among them).
 */
function partialsProgram(width: number, filterHeight: number, filterWidth: number): DirectProgram {
  return cached(`lesionDwFilterPartials_${width}_${filterHeight}x${filterWidth}`, () => {
    const taps = filterHeight * filterWidth;
    const tapIds = Array.from({ length: taps }, (_, k) => k);
    const columns = Array.from({ length: filterWidth }, (_, fw) => `    let ix${fw} = ixBase + ${fw}i;\n    let okx${fw} = ix${fw} >= 0i && ix${fw} < inW;`).join('\n');
    const rows = Array.from({ length: filterHeight }, (_, fh) => {
      const adds = Array.from({ length: filterWidth }, (_, fw) => {
        const k = fh * filterWidth + fw;
        return `      if (okx${fw}) { a${k} = a${k} + x[(rowBase + u32(ix${fw})) * C + c] * g; }`;
      }).join('\n');
      return `    let iy${fh} = iyBase + ${fh}i;\n    if (iy${fh} >= 0i && iy${fh} < inH) {\n      let rowBase = (n * u.inHeight + u32(iy${fh})) * u.inWidth;\n${adds}\n    }`;
    }).join('\n');
    return {
      outputs: ['partials'],
      inputs: ['x', 'dy'],
      uniforms: PARTIALS_UNIFORMS,
      main: `
const W = ${width}u;
const L = ${WORKGROUP / width}u;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(local_invocation_index) t : u32) {
  let C = u.channels;
  let lane = t / W;
  let c = wid.x * W + t % W;
  if (c >= C) { return; }
  let inH = i32(u.inHeight);
  let inW = i32(u.inWidth);
  let start = wid.y * u.rowsPerSplit;
  let end = min(start + u.rowsPerSplit, u.rows);
${tapIds.map((k) => `  var a${k} = 0.0;`).join('\n')}
  for (var r = start + lane; r < end; r = r + L) {
    let n = r / u.pixels;
    let p = r - n * u.pixels;
    let oy = p / u.outWidth;
    let ox = p - oy * u.outWidth;
    let g = dy[r * C + c];
    let iyBase = i32(oy * u.strideHeight) - i32(u.padTop);
    let ixBase = i32(ox * u.strideWidth) - i32(u.padLeft);
${columns}
${rows}
  }
  let base = (wid.y * L + lane) * ${taps}u * C + c;
${tapIds.map((k) => `  partials[base + ${k}u * C] = a${k};`).join('\n')}
}`,
    };
  });
}

/** Pass 2, dW[i] = Σ_p partials[p, i]: 256 / lanes outputs per workgroup, the lanes met in workgroup memory. */
function sumProgram(lanes: number): DirectProgram {
  const width = SUM_WORKGROUP / lanes;
  return cached(`lesionDwFilterSum_${lanes}`, () => ({
    outputs: ['dw'],
    inputs: ['partials'],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'parts', type: 'u32' },
    ],
    main: `
const W = ${width}u;
const L = ${lanes}u;
var<workgroup> red : array<f32, ${SUM_WORKGROUP}>;
@compute @workgroup_size(${SUM_WORKGROUP})
fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>, @builtin(local_invocation_index) t : u32) {
  let lane = t / W;
  let i = (wid.y * groups.x + wid.x) * W + t % W;
  var s = 0.0;
  if (i < u.size) {
    for (var p = lane; p < u.parts; p = p + L) {
      s = s + partials[p * u.size + i];
    }
  }
  red[t] = s;
  for (var h = L / 2u; h > 0u; h = h / 2u) {
    workgroupBarrier();
    if (lane < h) {
      red[t] = red[t] + red[t + h * W];
    }
  }
  if (lane == 0u && i < u.size) {
    dw[i] = red[t];
  }
}`,
  }));
}

type Conv2DInfo = backend_util.Conv2DInfo;

/** The conv info when the two-pass kernel applies (NHWC float32, multiplier 1, no dilation, ≤ MAX_TAPS taps, non-empty); otherwise undefined. */
function supportedInfo(x: TensorInfo, dy: TensorInfo, attrs: DepthwiseConv2dNativeBackpropFilterAttrs): Conv2DInfo | undefined {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape.length !== 4 || dy.shape.length !== 4) return undefined;
  const [fh, fw, inChannels, multiplier] = attrs.filterShape;
  if (multiplier !== 1 || inChannels !== x.shape[3] || fh * fw > MAX_TAPS) return undefined;
  if (!backend_util.tupleValuesAreOne(attrs.dilations ?? 1)) return undefined;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true);
  if (!util.arraysEqual(dy.shape, info.outShape) || util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return undefined;
  return info;
}

export function depthwiseBackpropFilter(x: TensorInfo, dy: TensorInfo, info: Conv2DInfo, backend: WebGpuBackendInternals): TensorInfo {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, inChannels } = info;
  const rows = batchSize * outHeight * outWidth;
  const size = filterHeight * filterWidth * inChannels;
  const grid = depthwiseFilterGrid(rows, inChannels);
  const dw = allocateOutput(backend, [filterHeight, filterWidth, inChannels, 1]);
  const uniforms = [inChannels, inHeight, inWidth, outWidth, outHeight * outWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, rows, grid.rowsPerSplit];
  const program = partialsProgram(grid.width, filterHeight, filterWidth);
  if (grid.parts === 1) {
    runDirect(backend, program, [dw], [x, dy], uniforms, [grid.tiles, grid.splits, 1]);
    return dw;
  }
  const partials = allocateOutput(backend, [grid.parts, size]);
  try {
    runDirect(backend, program, [partials], [x, dy], uniforms, [grid.tiles, grid.splits, 1]);
    runDirect(backend, sumProgram(grid.sumLanes), [dw], [partials], [size, grid.parts], flatDispatch(size, SUM_WORKGROUP / grid.sumLanes));
  } finally {
    backend.disposeData(partials.dataId);
  }
  return dw;
}

export function makeDepthwiseBackpropFilterConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { x?: TensorInfo; dy?: TensorInfo }; backend: unknown; attrs: unknown }): TensorInfo => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as DepthwiseConv2dNativeBackpropFilterAttrs;
    const backend = args.backend;
    const info = supportedInfo(x, dy, attrs);
    if (!info || !hasExpectedInternals(backend)) {
      if (!stock) throw new Error('DepthwiseConv2dNativeBackpropFilter: unsupported input and no stock kernel to fall back to');
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    return depthwiseBackpropFilter(x, dy, info, backend);
  };
  return { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc };
}
