/**
 * `--precision mixed` on webgpu: the convolutions' matrix products run with float16 operands and float32
 * accumulation (halfMatMul.ts), as Keras' mixed_float16 policy computes convolutions in float16 while variables,
 * batch normalisation, the loss and the optimizer stay float32. Kernels replaced while it is on:
 *   Conv2D, FusedConv2D (bias, no fused activation)   1×1 stride 1: x·W; otherwise a float16 im2col, then ·W
 *   Conv2DBackpropFilter                              xᵀ·dy or im2col(x)ᵀ·dy, the long reduction split
 *   Conv2DBackpropInput (1×1 stride 1)                dy·Wᵀ
 * k×k and strided input gradients, depthwise convolutions and dense layers keep their float32 kernels. TF.js has no float16 dtype, so float16 lives only inside these kernels: the im2col matrix is stored as
 * halves (half the bytes of the largest temporary), operands are rounded on load.
 */
import type { Conv2DAttrs, Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, FusedConv2DAttrs, KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { WebGpuBackendInternals } from './backendInternals';
import { flatGrid, hasExpectedInternals } from './backendInternals';
import type { DirectProgram } from './directProgram';
import { storageElements } from './deviceLimits';
import { allocateHalfStorage, allocateOutput, runDirect } from './directProgram';
import type { Operand, SumTerm } from './halfMatMul';
import { halfMatMul, halfMatMulSum } from './halfMatMul';

/** The kernels `--precision mixed` replaces. */
export const MIXED_PRECISION_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const;
export type MixedPrecisionKernelName = (typeof MIXED_PRECISION_KERNELS)[number];

/**
 * Gradients are multiplied by this before rounding to float16 and divided after (static loss scaling). Gradient
 * values reaching a convolution are far below 65504 / 1024 = 64, and 1024 keeps those above ~6e-11.
 */
export const GRADIENT_SCALE = 1024;

/** Largest float16 im2col matrix built at once (128 Mi halves = 256 MiB); bigger batches go in chunks. */
export const HALF_IM2COL_MAX_ELEMENTS = 128 * 1024 * 1024;
let halfIm2ColMaxElements = HALF_IM2COL_MAX_ELEMENTS;

/** Sets the chunking limit (tests use a small one to exercise the chunked paths); returns the previous one. */
export function setHalfIm2ColMaxElements(n: number): number {
  const previous = halfIm2ColMaxElements;
  halfIm2ColMaxElements = n;
  return previous;
}

/** Whether the device can run these kernels: the `shader-f16` feature must have been requested with it. */
export function deviceHasHalf(backend: WebGpuBackendInternals): boolean {
  return backend.device.features.has('shader-f16');
}

const IM2COL: DirectProgram = {
  key: 'halfIm2Col',
  outputs: ['cols'],
  inputs: ['x'],
  halfBindings: ['cols'],
  uniforms: [
    { name: 'size', type: 'u32' },
    { name: 'rowStride', type: 'u32' },
    { name: 'depth', type: 'u32' },
    { name: 'pixels', type: 'u32' },
    { name: 'outWidth', type: 'u32' },
    { name: 'inHeight', type: 'u32' },
    { name: 'inWidth', type: 'u32' },
    { name: 'inChannels', type: 'u32' },
    { name: 'filterWidth', type: 'u32' },
    { name: 'strideH', type: 'u32' },
    { name: 'strideW', type: 'u32' },
    { name: 'padTop', type: 'u32' },
    { name: 'padLeft', type: 'u32' },
    { name: 'batchOffset', type: 'u32' },
  ],
  // Each invocation writes a pair of halves (one 32-bit word), so no two invocations share a word.
  main: `
fn element(index : u32) -> f16 {
  let row = index / u.depth;
  let col = index % u.depth;
  let image = u.batchOffset + row / u.pixels;
  let pixel = row % u.pixels;
  let perFilterRow = u.filterWidth * u.inChannels;
  let py = i32((pixel / u.outWidth) * u.strideH + col / perFilterRow) - i32(u.padTop);
  let px = i32((pixel % u.outWidth) * u.strideW + (col % perFilterRow) / u.inChannels) - i32(u.padLeft);
  if (py < 0 || px < 0 || py >= i32(u.inHeight) || px >= i32(u.inWidth)) { return 0.0h; }
  let v = x[((image * u.inHeight + u32(py)) * u.inWidth + u32(px)) * u.inChannels + col % u.inChannels];
  return f16(clamp(v, -65504.0, 65504.0));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let pair = gid.y * u.rowStride + gid.x;
  let first = pair * 2u;
  if (gid.x >= u.rowStride || first >= u.size) { return; }
  cols[first] = element(first);
  if (first + 1u < u.size) { cols[first + 1u] = element(first + 1u); }
}`,
};

/** im2col of images [b0, b0 + n) of x as float16: rows (image, output pixel), columns (filter row, column, channel). */
function halfIm2Col(backend: WebGpuBackendInternals, x: TensorInfo, info: BackendUtil.Conv2DInfo, b0: number, n: number): TensorInfo {
  const pixels = info.outHeight * info.outWidth;
  const depth = info.filterHeight * info.filterWidth * info.inChannels;
  const size = n * pixels * depth;
  const cols = allocateHalfStorage(backend, size);
  const grid = flatGrid(Math.ceil(size / 2));
  runDirect(
    backend,
    IM2COL,
    [cols],
    [x],
    [size, grid.rowStride, depth, pixels, info.outWidth, info.inHeight, info.inWidth, info.inChannels, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, b0],
    grid.groups,
  );
  return cols;
}

function isPointwise(info: BackendUtil.Conv2DInfo): boolean {
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth
  );
}

/**
 * Images per float16 im2col chunk: within HALF_IM2COL_MAX_ELEMENTS and what the device binds as one storage buffer
 * (deviceLimits.ts); 0 when one image's matrix alone does not fit (the float32 kernel, which chunks by rows, runs).
 */
function chunkSize(backend: WebGpuBackendInternals, info: BackendUtil.Conv2DInfo): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return Math.min(info.batchSize, Math.floor(Math.min(halfIm2ColMaxElements, storageElements(backend, 2)) / Math.max(1, perImage)));
}

function reshaped(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function convInfo(xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: Conv2DAttrs['pad']; dilations?: Conv2DAttrs['dilations']; dimRoundingMode?: Conv2DAttrs['dimRoundingMode'] }): BackendUtil.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function float32Nhwc(dataFormat: string | undefined, ...ts: (TensorInfo | undefined)[]): boolean {
  return (dataFormat ?? 'NHWC') === 'NHWC' && ts.every((t) => !t || t.dtype === 'float32');
}

/** y = conv(x, W) (+ bias) with float16 operands. */
function forward(backend: WebGpuBackendInternals, x: TensorInfo, filter: TensorInfo, info: BackendUtil.Conv2DInfo, bias: TensorInfo | undefined): TensorInfo | undefined {
  const pixels = info.outHeight * info.outWidth;
  const rows = info.batchSize * pixels;
  const depth = info.filterHeight * info.filterWidth * info.inChannels;
  const outShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (isPointwise(info)) {
    return reshaped(halfMatMul(backend, { m: rows, n: info.outChannels, k: depth, a: { tensor: x }, b: { tensor: filter }, bias }), outShape);
  }
  const chunk = chunkSize(backend, info);
  if (chunk < 1) return undefined;
  const y = allocateOutput(backend, [rows, info.outChannels]);
  for (let b0 = 0; b0 < info.batchSize; b0 += chunk) {
    const n = Math.min(chunk, info.batchSize - b0);
    const cols = halfIm2Col(backend, x, info, b0, n);
    try {
      halfMatMul(backend, { m: n * pixels, n: info.outChannels, k: depth, a: { tensor: cols, half: true }, b: { tensor: filter }, bias, into: { tensor: y, rowOffset: b0 * pixels } });
    } finally {
      backend.disposeData(cols.dataId);
    }
  }
  return reshaped(y, outShape);
}

/** dW = im2col(x)ᵀ · dy (xᵀ · dy for 1×1), with dy scaled into float16's range. */
function filterGradient(backend: WebGpuBackendInternals, x: TensorInfo, dy: TensorInfo, info: BackendUtil.Conv2DInfo): TensorInfo | undefined {
  const pixels = info.outHeight * info.outWidth;
  const depth = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const gradient = (offsetImages: number): Operand => ({ tensor: dy, offset: offsetImages * pixels * co, scale: GRADIENT_SCALE });
  let terms: SumTerm[];
  if (isPointwise(info)) {
    terms = [{ k: info.batchSize * pixels, build: () => ({ a: { tensor: x, transposed: true }, b: gradient(0), release: () => undefined }) }];
  } else {
    const chunk = chunkSize(backend, info);
    if (chunk < 1) return undefined;
    terms = [];
    for (let b0 = 0; b0 < info.batchSize; b0 += chunk) {
      const n = Math.min(chunk, info.batchSize - b0);
      terms.push({
        k: n * pixels,
        build: () => {
          const cols = halfIm2Col(backend, x, info, b0, n);
          return { a: { tensor: cols, half: true, transposed: true }, b: gradient(b0), release: () => void backend.disposeData(cols.dataId) };
        },
      });
    }
  }
  const dw = halfMatMulSum(backend, depth, co, terms, 1 / GRADIENT_SCALE);
  return dw && reshaped(dw, [info.filterHeight, info.filterWidth, info.inChannels, co]);
}

/** dx = dy · Wᵀ for a 1×1 stride-1 convolution. */
function pointwiseInputGradient(backend: WebGpuBackendInternals, dy: TensorInfo, filter: TensorInfo, info: BackendUtil.Conv2DInfo): TensorInfo {
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const dx = halfMatMul(backend, {
    m: rows,
    n: info.inChannels,
    k: info.outChannels,
    a: { tensor: dy, scale: GRADIENT_SCALE },
    b: { tensor: filter, transposed: true },
    outScale: 1 / GRADIENT_SCALE,
  });
  return reshaped(dx, [info.batchSize, info.inHeight, info.inWidth, info.inChannels]);
}

type KernelArgs = Parameters<KernelFunc>[0];

type MixedRun = (args: KernelArgs, backend: WebGpuBackendInternals) => TensorInfo | undefined;

/** Each kernel's float16 computation; undefined for inputs it does not handle (the float32 kernel runs them). */
const MIXED_RUNS: Record<MixedPrecisionKernelName, MixedRun> = {
  Conv2D: ({ inputs, attrs }, backend) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Conv2DAttrs;
    if (!float32Nhwc(a.dataFormat, x, filter)) return undefined;
    const info = convInfo(x.shape, filter.shape, a);
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
    return forward(backend, x, filter, info, undefined);
  },
  FusedConv2D: ({ inputs, attrs }, backend) => {
    const { x, filter, bias, preluActivationWeights } = inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const a = attrs as unknown as FusedConv2DAttrs;
    // tfjs-layers applies activations as their own layers; a fused one (or a non-vector bias) keeps the float32 kernel.
    if ((a.activation && a.activation !== 'linear') || preluActivationWeights || !float32Nhwc(a.dataFormat, x, filter, bias)) return undefined;
    const info = convInfo(x.shape, filter.shape, a);
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
    if (bias && !(bias.shape.length === 1 && bias.shape[0] === info.outChannels)) return undefined;
    return forward(backend, x, filter, info, bias);
  },
  Conv2DBackpropFilter: ({ inputs, attrs }, backend) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    if (!float32Nhwc(a.dataFormat, x, dy) || x.shape.length !== 4) return undefined;
    return filterGradient(backend, x, dy, convInfo(x.shape, a.filterShape, { ...a, dilations: 1 }));
  },
  Conv2DBackpropInput: ({ inputs, attrs }, backend) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    if (!float32Nhwc(a.dataFormat, dy, filter) || a.inputShape.length !== 4) return undefined;
    const info = convInfo(a.inputShape, filter.shape, { ...a, dilations: 1 });
    // k×k and strided input gradients keep the float32 kernel: as a product they would go through a col2im
    // matrix 9× the size of dy (measured 4× slower than the float32 kernel on lavapipe, and more memory, not less).
    return isPointwise(info) ? pointwiseInputGradient(backend, dy, filter, info) : undefined;
  },
};

/** `name` in mixed precision, falling back to `fallback` (the float32 kernel it replaces) for inputs it does not handle and on a device without float16. */
function mixedConfig(name: MixedPrecisionKernelName, fallback: KernelConfig | undefined): KernelConfig {
  const run = MIXED_RUNS[name];
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const backend = args.backend;
    const result = hasExpectedInternals(backend) && deviceHasHalf(backend) ? run(args, backend) : undefined;
    if (result) return result;
    if (!fallback) throw new Error(`${name}: this input is not supported in mixed precision and there is no float32 kernel to fall back to`);
    return fallback.kernelFunc(args) as TensorInfo;
  };
  return { kernelName: name, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The mixed-precision configs registered now, by kernel; each wraps the float32 kernel it replaced. */
const registeredMixed = new Map<MixedPrecisionKernelName, { mixed: KernelConfig; float32: KernelConfig | undefined }>();

function register(name: MixedPrecisionKernelName, config: KernelConfig | undefined): void {
  if (getKernel(name, 'webgpu')) unregisterKernel(name, 'webgpu');
  if (config) registerKernel(config);
}

/**
 * Puts the mixed-precision kernels in, over whatever float32 kernels are registered (they become the fallbacks),
 * or puts those float32 kernels back. Kernel by kernel, so it stays right when register.ts swaps a float32
 * kernel (Conv2DBackpropFilter) in between.
 */
export function useWebGpuPrecision(precision: 'float32' | 'mixed'): void {
  for (const name of MIXED_PRECISION_KERNELS) {
    const current = getKernel(name, 'webgpu');
    const entry = registeredMixed.get(name);
    const isMixed = !!entry && current === entry.mixed;
    if (precision === 'mixed' && !isMixed) {
      const mixed = mixedConfig(name, current);
      registeredMixed.set(name, { mixed, float32: current });
      register(name, mixed);
    } else if (precision === 'float32' && isMixed) {
      register(name, entry.float32);
      registeredMixed.delete(name);
    }
  }
}

/** The kernels running in float16 now. */
export function activeMixedPrecisionKernels(): MixedPrecisionKernelName[] {
  return MIXED_PRECISION_KERNELS.filter((k) => getKernel(k, 'webgpu') === registeredMixed.get(k)?.mixed);
}
