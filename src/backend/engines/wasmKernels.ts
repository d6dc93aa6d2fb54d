/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks — without them the wasm engine can run
 * a model but not train it: Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and
 * DepthwiseConv2dNativeBackpropInput. NHWC only, dilations 1 (TF.js' own conv gradients refuse others).
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
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { backend_util, getKernel, registerKernel } from '@tensorflow/tfjs-core';

export const WASM_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] as const;

/** Upper bound on one im2col chunk (floats): 16 MiB keeps ResNet@224 batch 32 within a small heap. */
const IM2COL_CHUNK_FLOATS = 4 * 1024 * 1024;

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: NamedAttrMap;
}

const KERNEL_FUNCS: Record<(typeof WASM_GRADIENT_KERNELS)[number], KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter as unknown as KernelFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dBackpropFilter as unknown as KernelFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dBackpropInput as unknown as KernelFunc,
};

/** Registers the kernels the wasm backend does not have; kernels it already has are left alone. */
export function registerWasmGradientKernels(): void {
  for (const name of WASM_GRADIENT_KERNELS) {
    if (getKernel(name, 'wasm')) continue;
    const config: KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: KERNEL_FUNCS[name] };
    registerKernel(config);
  }
}

/** The wasm kernels currently served by this module (for the run's record). */
export function projectWasmKernels(): string[] {
  return WASM_GRADIENT_KERNELS.filter((name) => getKernel(name, 'wasm')?.kernelFunc === KERNEL_FUNCS[name]);
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
  const matMul = getKernel('BatchMatMul', 'wasm')!.kernelFunc as unknown as (a: KernelArgs) => TensorInfo;
  const isPointwise = filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && top === 0 && left === 0;

  // dWᵀ [outChannels, cols], summed over chunks of output pixels.
  let sum: Float32Array | undefined;
  for (let p0 = 0; p0 < pixels; p0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, pixels - p0);
    const dyT = backend.makeOutput([1, outChannels, rows], 'float32');
    const patches = backend.makeOutput([1, rows, cols], 'float32');
    // Views are taken after every allocation: growing the wasm heap detaches earlier ones.
    const xv = heapF32(backend, x);
    transposeRows(heapF32(backend, dy), p0, rows, outChannels, heapF32(backend, dyT));
    const pv = heapF32(backend, patches);
    if (isPointwise) {
      pv.set(xv.subarray(p0 * inChannels, (p0 + rows) * inChannels));
    } else {
      im2col(xv, pv, p0, rows, info, top, left);
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

  function im2col(xv: Float32Array, pv: Float32Array, p0: number, rows: number, ci: backend_util.Conv2DInfo, padTop: number, padLeft: number): void {
    const perImage = outHeight * outWidth;
    const rowStrideX = inWidth * inChannels;
    let dst = 0;
    for (let p = p0; p < p0 + rows; p++) {
      const n = Math.floor(p / perImage);
      const rem = p - n * perImage;
      const oh = Math.floor(rem / outWidth);
      const ow = rem - oh * outWidth;
      const imageBase = n * inHeight * rowStrideX;
      for (let kh = 0; kh < ci.filterHeight; kh++) {
        const ih = oh * strideHeight - padTop + kh;
        const rowInside = ih >= 0 && ih < inHeight;
        for (let kw = 0; kw < ci.filterWidth; kw++) {
          const iw = ow * strideWidth - padLeft + kw;
          if (!rowInside || iw < 0 || iw >= inWidth) {
            pv.fill(0, dst, dst + inChannels);
          } else {
            const src = imageBase + ih * rowStrideX + iw * inChannels;
            if (inChannels >= 16) pv.set(xv.subarray(src, src + inChannels), dst);
            else for (let c = 0; c < inChannels; c++) pv[dst + c] = xv[src + c]!;
          }
          dst += inChannels;
        }
      }
    }
  }
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
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  const ov = heapF32(backend, out);
  // Accumulates in float64 over batch × output pixels for each filter tap.
  const acc = new Float64Array(outChannels);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      acc.fill(0);
      for (let n = 0; n < batchSize; n++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const ih = oh * strideHeight - top + kh;
          if (ih < 0 || ih >= inHeight) continue;
          for (let ow = 0; ow < outWidth; ow++) {
            const iw = ow * strideWidth - left + kw;
            if (iw < 0 || iw >= inWidth) continue;
            const xBase = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            if (mult === 1) {
              for (let c = 0; c < inChannels; c++) acc[c]! += xv[xBase + c]! * dyv[dyBase + c]!;
            } else {
              for (let c = 0; c < inChannels; c++) {
                const xc = xv[xBase + c]!;
                const o = c * mult;
                for (let m = 0; m < mult; m++) acc[o + m]! += xc * dyv[dyBase + o + m]!;
              }
            }
          }
        }
      }
      ov.set(acc, (kh * filterWidth + kw) * outChannels);
    }
  }
  return out;
}

function depthwiseConv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  requireFloat32('DepthwiseConv2dNativeBackpropInput', dy, filter);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  checkConvInfo('DepthwiseConv2dNativeBackpropInput', info);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const mult = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;

  const out = backend.makeOutput(inputShape, 'float32');
  const dyv = heapF32(backend, dy);
  const wv = heapF32(backend, filter);
  const ov = heapF32(backend, out);
  // Gathers into each input pixel from the output pixels whose window covers it (one write per element).
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
