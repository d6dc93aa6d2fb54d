/**
 * Training-mode batch normalisation as one differentiable op over the project's webgpu kernels
 * (batchNormKernels.ts): forward = statistics + normalise (+ the moving averages), backward = one reduction +
 * dx: 5 GPU dispatches per layer and step, where the stock layer's ops issue ~48. The backward pass is a
 * tf.customGrad, so it runs wherever the tape would have differentiated the stock ops (fit, trainOnBatch,
 * variableGrads).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradSaveFunc, Tensor } from '@tensorflow/tfjs-core';
import { webgpuBackend } from './backendInternals';
import { BATCH_NORM_GRAD, BATCH_NORM_TRAIN } from './batchNormKernels';

/**
 * Whether the fused op can take `x` normalised over its last axis: an engine with the kernels registered (webgpu:
 * batchNormKernels.ts; wasm: engines/wasmBatchNorm.ts).
 */
export function fusedBatchNormAvailable(x: Tensor, axis: number): boolean {
  const backend = tf.getBackend();
  return (
    x.dtype === 'float32' &&
    x.rank >= 2 &&
    x.size > 0 &&
    (axis === -1 || axis === x.rank - 1) &&
    (backend === 'wasm' || webgpuBackend() !== undefined) &&
    tf.getKernel(BATCH_NORM_TRAIN, backend) !== undefined &&
    tf.getKernel(BATCH_NORM_GRAD, backend) !== undefined
  );
}

export interface BatchNormTrainingResult {
  /** (x − batch mean)/√(batch variance + ε)·γ + β, differentiable w.r.t. x, γ and β. */
  y: Tensor;
  /** movingMean − (movingMean − batch mean)·(1 − momentum); likewise the variance (biased, as tf.moments). */
  movingMean: Tensor;
  movingVariance: Tensor;
}

/**
 * Normalises `x` (channels last) with its batch statistics. The new moving averages are returned for the caller
 * to assign; they are computed in the same pass and carry no gradient.
 */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, movingMean: Tensor, movingVariance: Tensor, epsilon: number, momentum: number): BatchNormTrainingResult {
  let moving: [Tensor, Tensor] | undefined;
  const op = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [xIn, gammaIn, betaIn, save] = args as [Tensor, Tensor, Tensor, GradSaveFunc];
    const [y, stats, newMean, newVariance] = tf.engine().runKernel(
      BATCH_NORM_TRAIN,
      { x: xIn, gamma: gammaIn, beta: betaIn, movingMean, movingVariance },
      { epsilon, momentum },
    ) as Tensor[];
    // customGrad runs this inside a tidy that would dispose everything but `value`.
    moving = [tf.keep(newMean!), tf.keep(newVariance!)];
    save([xIn, gammaIn, stats!]);
    return {
      value: y!,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [savedX, savedGamma, savedStats] = saved as [Tensor, Tensor, Tensor];
        return tf.engine().runKernel(BATCH_NORM_GRAD, { x: savedX, dy, gamma: savedGamma, stats: savedStats }, {}) as Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, movingMean: moving![0], movingVariance: moving![1] };
}
