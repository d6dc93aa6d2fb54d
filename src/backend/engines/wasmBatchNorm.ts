/**
 * Training-mode batch normalisation on the wasm engine as two kernels over the wasm heap — the same two the webgpu
 * engine has (webgpu/batchNormKernels.ts, same inputs, outputs and arithmetic) — instead of the ~40 TF.js ops of
 * tf.moments, batchNorm, the moving averages and their gradients (on a MobileNetV2 step: 1,900 of its kernel
 * calls, ~40% of its time). x is channels-last, seen as [rows = N·H·W, C]:
 *   LesionLabBatchNormTrain  per channel: sums of (x − K) and (x − K)², K = x[0, c] (a shift that keeps the
 *                            one-pass variance from cancelling when |mean| ≫ std), in float64; then mean,
 *                            1/√(var + ε), the new moving mean/variance, and y = (x − mean)·(γ/√(var + ε)) + β
 *   LesionLabBatchNormGrad   per channel: dβ = Σdy, dγ = Σdy·x̂; then dx = γ/√(var + ε) · (dy − dβ/M − x̂·dγ/M)
 * which is the gradient of the stock training path (batch statistics differentiated through, as tf.moments is).
 * Each pass reads the tensor once, row by row, so the per-channel accumulators stay in cache. The sums run in a
 * fixed order on one thread: a seeded run repeats exactly, at any --threads.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD, BATCH_NORM_TRAIN } from './webgpu/batchNormKernels';

interface Args {
  inputs: Record<string, TensorInfo>;
  backend: BackendWasm;
  attrs?: NamedAttrMap;
}

const f = Math.fround;

function rowsAndChannels(x: TensorInfo, perChannel: TensorInfo[], kernel: string): { rows: number; channels: number } {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const size = util.sizeFromShape(x.shape);
  if (x.shape.length < 2 || channels === 0 || size === 0) throw new Error(`${kernel}: x must be non-empty with channels last, got [${x.shape.join(', ')}]`);
  for (const t of [x, ...perChannel]) if (t.dtype !== 'float32') throw new Error(`${kernel}: float32 only`);
  for (const t of perChannel) if (util.sizeFromShape(t.shape) !== channels) throw new Error(`${kernel}: per-channel inputs must have ${channels} elements`);
  return { rows: size / channels, channels };
}

/** Inputs x, gamma, beta, movingMean, movingVariance; attrs epsilon, momentum → [y, stats (mean; 1/√(var+ε)), new moving mean, new moving variance]. */
function batchNormTrain({ inputs, backend, attrs }: Args): TensorInfo[] {
  const { x, gamma, beta, movingMean, movingVariance } = inputs as Record<'x' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance', TensorInfo>;
  const { epsilon, momentum } = attrs as { epsilon: number; momentum: number };
  const { rows, channels: C } = rowsAndChannels(x, [gamma, beta, movingMean, movingVariance], BATCH_NORM_TRAIN);
  const y = backend.makeOutput(x.shape.slice(), 'float32');
  const stats = backend.makeOutput([2, C], 'float32');
  const newMean = backend.makeOutput([C], 'float32');
  const newVariance = backend.makeOutput([C], 'float32');
  // Views after every allocation: growing the heap detaches earlier ones.
  const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [xv, yv, sv, gv, bv, mm, mv, nm, nv] = [x, y, stats, gamma, beta, movingMean, movingVariance, newMean, newVariance].map(heap) as Float32Array[];

  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  const shift = xv!.subarray(0, C);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const v = xv![i]! - shift[c]!;
      s1[c]! += v;
      s2[c]! += v * v;
    }
  }
  const decay = f(1 - momentum);
  const scale = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const d = s1[c]! / rows;
    const mean = f(shift[c]! + d);
    const variance = f(Math.max(s2[c]! / rows - d * d, 0));
    const invStd = f(1 / Math.sqrt(variance + f(epsilon)));
    sv![c] = mean;
    sv![C + c] = invStd;
    nm![c] = f(mm![c]! - f(f(mm![c]! - mean) * decay));
    nv![c] = f(mv![c]! - f(f(mv![c]! - variance) * decay));
    scale[c] = f(invStd * gv![c]!);
  }
  const mean = sv!.subarray(0, C);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) yv![i] = (xv![i]! - mean[c]!) * scale[c]! + bv![c]!;
  }
  return [y, stats, newMean, newVariance];
}

/** Inputs x, dy, gamma, stats (from the forward kernel) → [dx, dgamma, dbeta]. */
function batchNormGrad({ inputs, backend }: Args): TensorInfo[] {
  const { x, dy, gamma, stats } = inputs as Record<'x' | 'dy' | 'gamma' | 'stats', TensorInfo>;
  const { rows, channels: C } = rowsAndChannels(x, [gamma], BATCH_NORM_GRAD);
  if (!util.arraysEqual(dy.shape, x.shape) || dy.dtype !== 'float32') throw new Error(`${BATCH_NORM_GRAD}: dy must be float32 shaped like x`);
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dgamma = backend.makeOutput(gamma.shape.slice(), 'float32');
  const dbeta = backend.makeOutput(gamma.shape.slice(), 'float32');
  const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [xv, dyv, gv, sv, dxv, dgv, dbv] = [x, dy, gamma, stats, dx, dgamma, dbeta].map(heap) as Float32Array[];

  const mean = sv!.subarray(0, C);
  const invStd = sv!.subarray(C, 2 * C);
  const sumDy = new Float64Array(C);
  const sumDyXhat = new Float64Array(C);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const g = dyv![i]!;
      sumDy[c]! += g;
      sumDyXhat[c]! += g * ((xv![i]! - mean[c]!) * invStd[c]!);
    }
  }
  const k = new Float32Array(C);
  const meanDy = new Float32Array(C);
  const meanDyXhat = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    dbv![c] = sumDy[c]!;
    dgv![c] = sumDyXhat[c]!;
    k[c] = gv![c]! * invStd[c]!;
    meanDy[c] = sumDy[c]! / rows;
    meanDyXhat[c] = sumDyXhat[c]! / rows;
  }
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) dxv![i] = k[c]! * (dyv![i]! - meanDy[c]! - (xv![i]! - mean[c]!) * invStd[c]! * meanDyXhat[c]!);
  }
  return [dx, dgamma, dbeta];
}

export function makeWasmBatchNormKernelConfigs(): KernelConfig[] {
  return [
    { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: batchNormTrain as unknown as KernelFunc },
    { kernelName: BATCH_NORM_GRAD, backendName: 'wasm', kernelFunc: batchNormGrad as unknown as KernelFunc },
  ];
}
