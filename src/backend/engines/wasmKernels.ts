/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks — without them the wasm engine can run
 * a model but not train it: Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and
 * DepthwiseConv2dNativeBackpropInput — and one it has but runs as a scalar loop on one thread,
 * Conv2DBackpropInput (the largest kernel of a MobileNetV2 step) — and BatchMatMul with a transposed operand,
 * which the backend computes with a naive triple loop (a Dense layer's two gradient products: 40× slower than
 * XNNPACK's). NHWC only, dilations 1 (TF.js' own conv gradients refuse others).
 *
 * Input gradients are transposed convolutions, run by the wasm backend's own XNNPACK kernels (which use every
 * thread of the threaded build): a 1×1 convolution's is the matrix product dy · Wᵀ (scattered to the strided
 * pixels), a stride-1 convolution's is the forward convolution of dy with the filter turned 180° and its
 * channels swapped, padded by (k − 1 − pad) on each side; a depthwise one's is a depthwise convolution of dy,
 * spread out by the stride (zeros between its pixels), with the turned filter. Anything else (strided k×k
 * Conv2D input gradients, depthwise channel multipliers > 1) takes the previous path.
 *
 * Conv2DBackpropFilter is one matrix product per chunk of output pixels, dWᵀ = dyᵀ · im2col(x), run by the
 * wasm backend's own (XNNPACK) BatchMatMul. Both operands are laid out in JS so that neither needs
 * `transposeA/B`: the wasm BatchMatMul takes a naive path for transposed operands (measured 2.2 vs
 * 30 GFLOP/s single-thread), and its Transpose kernel is slower than a tiled JS copy.
 * The depthwise kernels are plain typed-array loops (their work is ~1/C of a dense conv's).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { backend_util, getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import { runHeapKernel } from './heapWorkers';
import { makeWasmBatchNormKernelConfigs } from './wasmBatchNorm';
import { heapBuffer, heapOffset, partsFor } from './wasmHeap';
import { useRelu6Gradient, wasmRelu6GradConfig } from './wasmRelu6';

export const WASM_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] as const;
/** Kernels tfjs-backend-wasm has, replaced by faster ones (the stock kernel stays the fallback). */
export const WASM_REPLACED_KERNELS = ['Conv2DBackpropInput', 'BatchMatMul'] as const;
type ProjectKernel = (typeof WASM_GRADIENT_KERNELS)[number] | (typeof WASM_REPLACED_KERNELS)[number];
/**
 * Kernels with no stock counterpart, used where registered: the fused training-mode batch norm (wasmBatchNorm.ts,
 * through KerasBatchNormalization) and the one-kernel ReLU6 gradient (wasmRelu6.ts).
 */
const FUSED_CONFIGS = [...makeWasmBatchNormKernelConfigs(), wasmRelu6GradConfig];

/** Upper bound on one im2col chunk (floats): 16 MiB keeps ResNet@224 batch 32 within a small heap. */
const IM2COL_CHUNK_FLOATS = 4 * 1024 * 1024;

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: NamedAttrMap;
}

const KERNEL_FUNCS: Record<ProjectKernel, KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter as unknown as KernelFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dBackpropFilter as unknown as KernelFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dBackpropInput as unknown as KernelFunc,
  Conv2DBackpropInput: conv2DBackpropInput as unknown as KernelFunc,
  BatchMatMul: batchMatMul as unknown as KernelFunc,
};

/** tfjs-backend-wasm's own configs of the replaced kernels, kept as their fallback (and for the bench). */
const stockKernels: Partial<Record<ProjectKernel, KernelConfig>> = {};

type WasmKernelFunc = (a: KernelArgs) => TensorInfo;
const wasmKernel = (name: string): WasmKernelFunc => getKernel(name, 'wasm')!.kernelFunc as unknown as WasmKernelFunc;
const stockKernel = (name: ProjectKernel): WasmKernelFunc => stockKernels[name]!.kernelFunc as unknown as WasmKernelFunc;

// ───────────────────────── BatchMatMul ─────────────────────────

/** A transposed operand is transposed in memory first, so the product takes XNNPACK's path (stock otherwise). */
function batchMatMul(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const a = inputs.a!;
  const b = inputs.b!;
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return stockKernel('BatchMatMul')(args);
  const a2 = transposeA ? transposedLastTwo(backend, a) : a;
  const b2 = transposeB ? transposedLastTwo(backend, b) : b;
  const out = stockKernel('BatchMatMul')({ inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } });
  if (a2 !== a) backend.disposeData(a2.dataId);
  if (b2 !== b) backend.disposeData(b2.dataId);
  return out;
}

/** [..., r, c] → a new [..., c, r]. */
function transposedLastTwo(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2]!;
  const cols = t.shape[rank - 1]!;
  const out = backend.makeOutput([...t.shape.slice(0, -2), cols, rows], 'float32');
  const size = util.sizeFromShape(t.shape);
  runHeapKernel(heapBuffer(backend), 'transposeBlocks', [heapOffset(backend, t), heapOffset(backend, out), rows, cols, size / (rows * cols)], partsFor(size));
  return out;
}

/**
 * Registers the kernels the wasm backend does not have and replaces the slow ones (`replace`: those of
 * WASM_REPLACED_KERNELS to serve, default all; the others get the stock kernel back).
 */
export function registerWasmGradientKernels(replace: readonly string[] = [...WASM_REPLACED_KERNELS, ...FUSED_CONFIGS.map((c) => c.kernelName)]): void {
  for (const name of WASM_GRADIENT_KERNELS) {
    if (getKernel(name, 'wasm')) continue;
    registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: KERNEL_FUNCS[name] });
  }
  for (const config of FUSED_CONFIGS) {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    if (replace.includes(config.kernelName)) registerKernel(config);
  }
  useRelu6Gradient();
  for (const name of WASM_REPLACED_KERNELS) {
    const current = getKernel(name, 'wasm');
    if (current && current.kernelFunc !== KERNEL_FUNCS[name]) stockKernels[name] = current;
    if (!stockKernels[name]) throw new Error(`tfjs-backend-wasm has no ${name} kernel to fall back to`);
    if (current) unregisterKernel(name, 'wasm');
    registerKernel(replace.includes(name) ? { ...stockKernels[name]!, kernelFunc: KERNEL_FUNCS[name] } : stockKernels[name]!);
  }
}

/** The wasm kernels currently served by this module (for the run's record). */
export function projectWasmKernels(): string[] {
  const ours = [...WASM_GRADIENT_KERNELS, ...WASM_REPLACED_KERNELS].filter((name) => getKernel(name, 'wasm')?.kernelFunc === KERNEL_FUNCS[name]);
  return [...ours, ...FUSED_CONFIGS.filter((c) => getKernel(c.kernelName, 'wasm')?.kernelFunc === c.kernelFunc).map((c) => c.kernelName)];
}

function checkConvInfo(kernel: string, info: backend_util.Conv2DInfo): void {
  if (info.dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on the wasm engine supports NHWC (channelsLast) only, got ${info.dataFormat}.`);
  }
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(`${kernel} on the wasm engine supports dilation 1 only, got ${info.dilationHeight}×${info.dilationWidth}.`);
  }
}

function requireFloat32(kernel: string, ...tensors: TensorInfo[]): void {
  for (const t of tensors) if (t.dtype !== 'float32') throw new Error(`${kernel} on the wasm engine needs float32 tensors, got ${t.dtype}.`);
}

function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

// ───────────────────────── Conv2DBackpropFilter ─────────────────────────

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const x = inputs.x!;
  const dy = inputs.dy!;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  requireFloat32('Conv2DBackpropFilter', x, dy);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  checkConvInfo('Conv2DBackpropFilter', info);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const cols = filterHeight * filterWidth * inChannels;
  const pixels = batchSize * outHeight * outWidth;
  const rowsPerChunk = Math.max(1, Math.floor(IM2COL_CHUNK_FLOATS / Math.max(cols, outChannels)));
  const matMul = wasmKernel('BatchMatMul');
  const isPointwise = filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && top === 0 && left === 0;

  // dWᵀ [outChannels, cols], summed over chunks of output pixels.
  let sum: Float32Array | undefined;
  for (let p0 = 0; p0 < pixels; p0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, pixels - p0);
    const dyT = backend.makeOutput([1, outChannels, rows], 'float32');
    const patches = backend.makeOutput([1, rows, cols], 'float32');
    // Offsets and views are taken after every allocation: growing the wasm heap replaces its buffer.
    const heap = heapBuffer(backend);
    runHeapKernel(heap, 'transposeBlocks', [heapOffset(backend, dy) + 4 * p0 * outChannels, heapOffset(backend, dyT), rows, outChannels, 1], partsFor(rows * outChannels));
    if (isPointwise) {
      heapF32(backend, patches).set(heapF32(backend, x).subarray(p0 * inChannels, (p0 + rows) * inChannels));
    } else {
      runHeapKernel(
        heap,
        'im2col',
        [heapOffset(backend, x), heapOffset(backend, patches), p0, rows, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, top, left],
        partsFor(rows * cols),
      );
    }
    const product = matMul({ inputs: { a: dyT, b: patches }, backend, attrs: { transposeA: false, transposeB: false } });
    backend.disposeData(dyT.dataId);
    backend.disposeData(patches.dataId);
    const prod = heapF32(backend, product);
    if (!sum) sum = prod.slice();
    else for (let i = 0; i < sum.length; i++) sum[i]! += prod[i]!;
    backend.disposeData(product.dataId);
  }
  const out = backend.makeOutput(filterShape, 'float32');
  const ov = heapF32(backend, out);
  if (!sum) ov.fill(0);
  else transposeRows(sum, 0, outChannels, cols, ov);
  return out;
}

/** out[c, r] = src[(r0 + r), c] for r < rows: a [rows, width] block transposed, in cache-sized tiles. */
function transposeRows(src: Float32Array, r0: number, rows: number, width: number, out: Float32Array): void {
  const T = 32;
  for (let rb = 0; rb < rows; rb += T) {
    const rEnd = Math.min(rb + T, rows);
    for (let cb = 0; cb < width; cb += T) {
      const cEnd = Math.min(cb + T, width);
      for (let r = rb; r < rEnd; r++) {
        const s = (r0 + r) * width;
        for (let c = cb; c < cEnd; c++) out[c * rows + r] = src[s + c]!;
      }
    }
  }
}

// ───────────────────────── Conv2DBackpropInput ─────────────────────────

/** A tensor's data seen with another shape (the wasm kernels take shapes from the TensorInfo they are given). */
const viewAs = (t: TensorInfo, shape: number[]): TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype });

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || info.dataFormat !== 'channelsLast') return stockKernel('Conv2DBackpropInput')(args);
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  if (filterHeight === 1 && filterWidth === 1 && padInfo.top === 0 && padInfo.left === 0) return pointwiseInputGradient(backend, dy, filter, info);
  const top = filterHeight - 1 - padInfo.top;
  const bottom = filterHeight - 1 - padInfo.bottom;
  const left = filterWidth - 1 - padInfo.left;
  const right = filterWidth - 1 - padInfo.right;
  if (strideHeight !== 1 || strideWidth !== 1 || Math.min(top, bottom, left, right) < 0) return stockKernel('Conv2DBackpropInput')(args);
  // W'[i, j, co, ci] = W[k−1−i, l−1−j, ci, co]
  const { inChannels, outChannels } = info;
  const turned = backend.makeOutput([filterHeight, filterWidth, outChannels, inChannels], 'float32');
  const wv = heapF32(backend, filter);
  const tv = heapF32(backend, turned);
  const block = inChannels * outChannels;
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      const from = ((filterHeight - 1 - i) * filterWidth + (filterWidth - 1 - j)) * block;
      transposeRows(wv.subarray(from, from + block), 0, inChannels, outChannels, tv.subarray((i * filterWidth + j) * block, (i * filterWidth + j + 1) * block));
    }
  }
  const out = wasmKernel('Conv2D')({
    inputs: { x: dy, filter: turned },
    backend,
    attrs: { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] } as unknown as NamedAttrMap,
  });
  backend.disposeData(turned.dataId);
  if (!util.arraysEqual(out.shape, inputShape)) throw new Error(`Conv2DBackpropInput: transposed convolution gave ${out.shape}, expected ${inputShape}`);
  return out;
}

/** dx = dy · Wᵀ for a 1×1 filter, on the strided pixels (the others get no gradient). */
function pointwiseInputGradient(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  const wT = backend.makeOutput([1, outChannels, inChannels], 'float32');
  transposeRows(heapF32(backend, filter), 0, inChannels, outChannels, heapF32(backend, wT));
  const pixels = batchSize * outHeight * outWidth;
  const product = wasmKernel('BatchMatMul')({
    inputs: { a: viewAs(dy, [1, pixels, outChannels]), b: wT },
    backend,
    attrs: { transposeA: false, transposeB: false },
  });
  backend.disposeData(wT.dataId);
  const inputShape = [batchSize, inHeight, inWidth, inChannels];
  if (strideHeight === 1 && strideWidth === 1 && outHeight === inHeight && outWidth === inWidth) return viewAs(product, inputShape);
  const out = backend.makeOutput(inputShape, 'float32');
  const pv = heapF32(backend, product);
  const ov = heapF32(backend, out);
  ov.fill(0);
  let p = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, p++) {
        const at = ((n * inHeight + oh * strideHeight) * inWidth + ow * strideWidth) * inChannels;
        ov.set(pv.subarray(p * inChannels, (p + 1) * inChannels), at);
      }
    }
  }
  backend.disposeData(product.dataId);
  return out;
}

// ───────────────────────── depthwise ─────────────────────────

function depthwiseConv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const x = inputs.x!;
  const dy = inputs.dy!;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  requireFloat32('DepthwiseConv2dNativeBackpropFilter', x, dy);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  checkConvInfo('DepthwiseConv2dNativeBackpropFilter', info);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const mult = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;

  const out = backend.makeOutput(filterShape, 'float32');
  runHeapKernel(
    heapBuffer(backend),
    'depthwiseFilterGrad',
    [heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, top, left, mult],
    Math.min(inChannels, partsFor(batchSize * outHeight * outWidth * outChannels * filterHeight * filterWidth)),
  );
  return out;
}

function depthwiseConv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  requireFloat32('DepthwiseConv2dNativeBackpropInput', dy, filter);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  checkConvInfo('DepthwiseConv2dNativeBackpropInput', info);
  const viaConvolution = info.outChannels === info.inChannels ? depthwiseInputGradientByConvolution(backend, dy, filter, info) : undefined;
  return viaConvolution ?? depthwiseInputGradientLoops(backend, dy, filter, info);
}

/**
 * Channel multiplier 1: dx is the depthwise convolution of dy — spread out by the stride, zeros between its
 * pixels — with the filter turned 180°, padded by (k − 1 − pad) before and whatever completes the input size
 * after. Undefined when that padding would be negative (a pad larger than the filter).
 */
function depthwiseInputGradientByConvolution(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | undefined {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const spreadHeight = (outHeight - 1) * strideHeight + 1;
  const spreadWidth = (outWidth - 1) * strideWidth + 1;
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  const bottom = inHeight + filterHeight - 1 - top - spreadHeight;
  const right = inWidth + filterWidth - 1 - left - spreadWidth;
  if (Math.min(top, left, bottom, right) < 0) return undefined;
  const turned = backend.makeOutput([filterHeight, filterWidth, channels, 1], 'float32');
  const wv = heapF32(backend, filter);
  const tv = heapF32(backend, turned);
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      const from = ((filterHeight - 1 - i) * filterWidth + (filterWidth - 1 - j)) * channels;
      tv.set(wv.subarray(from, from + channels), (i * filterWidth + j) * channels);
    }
  }
  let spread = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    spread = backend.makeOutput([batchSize, spreadHeight, spreadWidth, channels], 'float32');
    const sv = heapF32(backend, spread);
    const dv = heapF32(backend, dy);
    sv.fill(0);
    let p = 0;
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        for (let ow = 0; ow < outWidth; ow++, p++) {
          sv.set(dv.subarray(p * channels, (p + 1) * channels), ((n * spreadHeight + oh * strideHeight) * spreadWidth + ow * strideWidth) * channels);
        }
      }
    }
  }
  const out = wasmKernel('DepthwiseConv2dNative')({
    inputs: { x: spread, filter: turned },
    backend,
    attrs: { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dilations: [1, 1] } as unknown as NamedAttrMap,
  });
  backend.disposeData(turned.dataId);
  if (spread !== dy) backend.disposeData(spread.dataId);
  return out;
}

/** Any channel multiplier: gathers into each input pixel from the output pixels whose window covers it. */
function depthwiseInputGradientLoops(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const mult = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;

  const out = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  const dyv = heapF32(backend, dy);
  const wv = heapF32(backend, filter);
  const ov = heapF32(backend, out);
  // One write per element.
  const acc = new Float64Array(inChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let ih = 0; ih < inHeight; ih++) {
      for (let iw = 0; iw < inWidth; iw++) {
        acc.fill(0);
        for (let kh = 0; kh < filterHeight; kh++) {
          const th = ih + top - kh;
          if (th < 0 || th % strideHeight !== 0) continue;
          const oh = th / strideHeight;
          if (oh >= outHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const tw = iw + left - kw;
            if (tw < 0 || tw % strideWidth !== 0) continue;
            const ow = tw / strideWidth;
            if (ow >= outWidth) continue;
            const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            const wBase = (kh * filterWidth + kw) * outChannels;
            if (mult === 1) {
              for (let c = 0; c < inChannels; c++) acc[c]! += dyv[dyBase + c]! * wv[wBase + c]!;
            } else {
              for (let c = 0; c < inChannels; c++) {
                const o = c * mult;
                let s = 0;
                for (let m = 0; m < mult; m++) s += dyv[dyBase + o + m]! * wv[wBase + o + m]!;
                acc[c]! += s;
              }
            }
          }
        }
        ov.set(acc, ((n * inHeight + ih) * inWidth + iw) * inChannels);
      }
    }
  }
  return out;
}
