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
 * Each pass reads the tensor once, row by row, so the per-channel accumulators stay in cache, split over every
 * thread (heapKernels.ts); the sums add fixed chunks of rows in a fixed order, so a seeded run repeats exactly at
 * any --threads.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { REDUCTION_CHUNKS } from './heapKernels';
import { runHeapKernel } from './heapWorkers';
import { heapBuffer, heapOffset, partsFor } from './wasmHeap';
import { BATCH_NORM_GRAD, BATCH_NORM_TRAIN, rowsAndChannels } from './webgpu/batchNormKernels';

interface Args {
  inputs: Record<string, TensorInfo>;
  backend: BackendWasm;
  attrs?: NamedAttrMap;
}

const f = Math.fround;

/** Adds the per-chunk partial sums [chunk][2][C] (float64) in chunk order: sums that do not depend on the thread count. */
function chunkSums(scratch: ArrayBufferLike, C: number): [Float64Array, Float64Array] {
  const partials = new Float64Array(scratch, 0, REDUCTION_CHUNKS * 2 * C);
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  for (let k = 0; k < REDUCTION_CHUNKS; k++) {
    for (let c = 0; c < C; c++) {
      s1[c]! += partials[k * 2 * C + c]!;
      s2[c]! += partials[k * 2 * C + C + c]!;
    }
  }
  return [s1, s2];
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
  const scaleTensor = backend.makeOutput([C], 'float32');
  const parts = partsFor(rows * C);
  const at = (t: TensorInfo) => heapOffset(backend, t);
  const scratch = runHeapKernel(heapBuffer(backend), 'batchNormStatsPartials', [at(x), rows, C, REDUCTION_CHUNKS], parts, REDUCTION_CHUNKS * 2 * C * 8);
  const [s1, s2] = chunkSums(scratch, C);
  // Views after every allocation: growing the heap detaches earlier ones.
  const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [xv, sv, gv, mm, mv, nm, nv, scale] = [x, stats, gamma, movingMean, movingVariance, newMean, newVariance, scaleTensor].map(heap) as Float32Array[];
  const decay = f(1 - momentum);
  for (let c = 0; c < C; c++) {
    const d = s1[c]! / rows;
    const mean = f(xv![c]! + d);
    const variance = f(Math.max(s2[c]! / rows - d * d, 0));
    const invStd = f(1 / Math.sqrt(variance + f(epsilon)));
    sv![c] = mean;
    sv![C + c] = invStd;
    nm![c] = f(mm![c]! - f(f(mm![c]! - mean) * decay));
    nv![c] = f(mv![c]! - f(f(mv![c]! - variance) * decay));
    scale![c] = f(invStd * gv![c]!);
  }
  runHeapKernel(heapBuffer(backend), 'batchNormNormalise', [at(x), at(y), rows, C, at(stats), at(scaleTensor), at(beta)], parts);
  backend.disposeData(scaleTensor.dataId);
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
  const coefficients = backend.makeOutput([3, C], 'float32');
  const parts = partsFor(rows * C);
  const at = (t: TensorInfo) => heapOffset(backend, t);
  const scratch = runHeapKernel(heapBuffer(backend), 'batchNormGradPartials', [at(x), at(dy), rows, C, at(stats), REDUCTION_CHUNKS], parts, REDUCTION_CHUNKS * 2 * C * 8);
  const [sumDy, sumDyXhat] = chunkSums(scratch, C);
  const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [gv, sv, dgv, dbv, co] = [gamma, stats, dgamma, dbeta, coefficients].map(heap) as Float32Array[];
  for (let c = 0; c < C; c++) {
    dbv![c] = sumDy[c]!;
    dgv![c] = sumDyXhat[c]!;
    co![c] = gv![c]! * sv![C + c]!; // γ/√(var + ε)
    co![C + c] = sumDy[c]! / rows;
    co![2 * C + c] = sumDyXhat[c]! / rows;
  }
  runHeapKernel(heapBuffer(backend), 'batchNormGradDx', [at(x), at(dy), at(dx), rows, C, at(stats), at(coefficients)], parts);
  backend.disposeData(coefficients.dataId);
  return [dx, dgamma, dbeta];
}

export function makeWasmBatchNormKernelConfigs(): KernelConfig[] {
  return [
    { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: batchNormTrain as unknown as KernelFunc },
    { kernelName: BATCH_NORM_GRAD, backendName: 'wasm', kernelFunc: batchNormGrad as unknown as KernelFunc },
  ];
}
