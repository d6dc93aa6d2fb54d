/**
 * Conv2DBackpropFilter on webgpu as a matrix product. TF.js 4.22's own kernel (Conv2DDerFilterProgram) gives each
 * filter element one thread that loops over the whole batch and image — 1.10 s of a 1.36 s ResNet50 step's GPU
 * time on an H200 (DESIGN.md › Engines). Here:
 *   1×1, stride 1, no padding:  dW = reshape(x, [N·H·W, Ci])ᵀ · reshape(dy, [N·H·W, Co])
 *   otherwise:                  dW = im2col(x)ᵀ · reshape(dy, [N·outH·outW, Co])
 * with the backend's own BatchMatMul (which splits the long N·H·W reduction across workgroups). The im2col
 * matrix is built in chunks of its rows (output pixels of the batch) that fit both IM2COL_MAX_ELEMENTS and what the
 * device binds as one storage buffer (deviceLimits.ts).
 */
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import type { ProgramUniform, WebGpuBackendInternals, WebGpuProgram } from './backendInternals';
import { flatDispatch, hasExpectedInternals } from './backendInternals';
import { storageElements } from './deviceLimits';

/** 64 Mi floats (256 MiB): the largest im2col matrix built at once (less where the device binds less). */
export const IM2COL_MAX_ELEMENTS = 64 * 1024 * 1024;
let im2colMaxElements = IM2COL_MAX_ELEMENTS;

/** Sets the chunking limit (tests use a small one to exercise the chunked path); returns the previous one. */
export function setIm2ColMaxElements(n: number): number {
  const previous = im2colMaxElements;
  im2colMaxElements = n;
  return previous;
}

/**
 * Rows = (image, output pixel) from rowOffset on, columns = (filter row, filter column, input channel), as the filter
 * is laid out.
 */
class BatchIm2ColProgram implements WebGpuProgram {
  variableNames = ['x'];
  uniforms = 'pads : vec2<i32>, strides : vec2<i32>, outWidth : i32, pixelsPerImage : i32, itemsPerFilterRow : i32, inChannels : i32, rowOffset : i32,';
  outputShape: number[];
  shaderKey = 'lesionBatchIm2Col';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(rows: number, cols: number) {
    this.outputShape = [rows, cols];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = flatDispatch(rows * cols);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let row = uniforms.rowOffset + coords[0];
          let col = coords[1];
          let batch = row / uniforms.pixelsPerImage;
          let pixel = row % uniforms.pixelsPerImage;
          let xRow = (pixel / uniforms.outWidth) * uniforms.strides[0] - uniforms.pads[0] + col / uniforms.itemsPerFilterRow;
          let xCol = (pixel % uniforms.outWidth) * uniforms.strides[1] - uniforms.pads[1] + (col % uniforms.itemsPerFilterRow) / uniforms.inChannels;
          let ch = col % uniforms.inChannels;
          var value = 0.0;
          if (xRow >= 0 && xRow < uniforms.xShape[1] && xCol >= 0 && xCol < uniforms.xShape[2]) {
            value = getX(batch, xRow, xCol, ch);
          }
          setOutputAtIndex(index, value);
        }
      }
    `;
  }
}

type Kernel = (args: { inputs: Record<string, TensorInfo>; backend: WebGpuBackendInternals; attrs?: Record<string, unknown> }) => TensorInfo;

function backendKernel(name: string): Kernel {
  const config = getKernel(name, 'webgpu');
  if (!config) throw new Error(`webgpu has no ${name} kernel`);
  return config.kernelFunc as unknown as Kernel;
}

/** Columns of the im2col matrix: one row of it must fit a storage binding (it always does but for huge filters). */
function filterDepth(attrs: Conv2DBackpropFilterAttrs): number {
  return attrs.filterShape[0] * attrs.filterShape[1] * attrs.filterShape[2];
}

/** Whether the matrix formulation applies (NHWC float32 — what tfjs-layers trains with); otherwise the stock kernel runs. */
function supported(x: TensorInfo, dy: TensorInfo, attrs: Conv2DBackpropFilterAttrs): boolean {
  return (attrs.dataFormat ?? 'NHWC') === 'NHWC' && x.dtype === 'float32' && dy.dtype === 'float32' && x.shape.length === 4;
}

export function makeConv2DBackpropFilterConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { x?: TensorInfo; dy?: TensorInfo }; backend: unknown; attrs: unknown }): TensorInfo => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as Conv2DBackpropFilterAttrs;
    const backend = args.backend;
    if (!supported(x, dy, attrs) || !hasExpectedInternals(backend) || filterDepth(attrs) > storageElements(backend, 4)) {
      if (!stock) throw new Error('Conv2DBackpropFilter: unsupported input and no stock kernel to fall back to');
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    return conv2DBackpropFilterByMatMul(x, dy, attrs, backend);
  };
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function conv2DBackpropFilterByMatMul(x: TensorInfo, dy: TensorInfo, attrs: Conv2DBackpropFilterAttrs, backend: WebGpuBackendInternals): TensorInfo {
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const reshape = backendKernel('Reshape');
  const batchMatMul = backendKernel('BatchMatMul');
  const temps: TensorInfo[] = [];
  const keep = <T extends TensorInfo>(t: T): T => (temps.push(t), t);
  const { batchSize, outHeight, outWidth, filterHeight, filterWidth, inChannels, outChannels } = info;
  const pixels = outHeight * outWidth;
  const depth = filterHeight * filterWidth * inChannels;
  try {
    const dy2d = keep(reshape({ inputs: { x: dy }, backend, attrs: { shape: [batchSize * pixels, outChannels] } }));
    const pointwise =
      filterHeight === 1 && filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0 && outHeight === info.inHeight && outWidth === info.inWidth;
    let dw: TensorInfo;
    if (pointwise) {
      const x2d = keep(reshape({ inputs: { x }, backend, attrs: { shape: [batchSize * pixels, inChannels] } }));
      dw = keep(batchMatMul({ inputs: { a: x2d, b: dy2d }, backend, attrs: { transposeA: true, transposeB: false } }));
    } else {
      const rows = batchSize * pixels;
      const chunk = Math.max(1, Math.min(rows, Math.floor(Math.min(im2colMaxElements, storageElements(backend, 4)) / depth)));
      let sum: TensorInfo | undefined;
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        const n = Math.min(chunk, rows - r0);
        const program = new BatchIm2ColProgram(n, depth);
        const uniforms: ProgramUniform[] = [
          { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
          { type: 'int32', data: [info.strideHeight, info.strideWidth] },
          { type: 'int32', data: [outWidth] },
          { type: 'int32', data: [pixels] },
          { type: 'int32', data: [filterWidth * inChannels] },
          { type: 'int32', data: [inChannels] },
          { type: 'int32', data: [r0] },
        ];
        const cols = keep(backend.runWebGPUProgram(program, [x], 'float32', uniforms));
        const dyRows = n === rows ? dy2d : keep(backendKernel('Slice')({ inputs: { x: dy2d }, backend, attrs: { begin: [r0, 0], size: [n, outChannels] } }));
        const part = keep(batchMatMul({ inputs: { a: cols, b: dyRows }, backend, attrs: { transposeA: true, transposeB: false } }));
        sum = sum ? keep(backendKernel('Add')({ inputs: { a: sum, b: part }, backend })) : part;
      }
      dw = sum!;
    }
    return reshape({ inputs: { x: dw }, backend, attrs: { shape: [filterHeight, filterWidth, inChannels, outChannels] } });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
