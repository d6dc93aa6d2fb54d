/**
 * The webgpu engine's configurations the GPU benches compare, switched in one process (the registries they set are
 * global, so a variant is activated before each of its steps):
 *   stock    TF.js as shipped (stock gradients, stock kernels, stock optimizer)
 *   +grads   the project's broadcasting Mean/Sum/FusedBatchNorm gradients (every engine has them)
 *   +conv    + the matmul Conv2DBackpropFilter and the fused one-dispatch optimizer (src/backend/engines/webgpu)
 *   lesion   + the fused training-mode batch normalisation (batchNormKernels.ts): Lesion Lab as it trains
 *   mixed    lesion with --precision mixed: float16 convolution operands, float32 sums (mixedPrecision.ts)
 */
import { useGradientFixes } from '../src/backend/engines/broadcastGradients';
import { useWebGpuPrecision } from '../src/backend/engines/webgpu/mixedPrecision';
import { useWebGpuKernels } from '../src/backend/engines/webgpu/register';

export interface WebGpuVariant {
  name: string;
  /** Puts the registries in this variant's state. */
  activate(): void;
  /** The engine name createOptimizer gets: 'webgpu' → fused, anything else → stock. */
  optimizerEngine: 'webgpu' | 'cpu';
}

const float32 = (kernels?: Parameters<typeof useWebGpuKernels>[0]) => (useWebGpuPrecision('float32'), useWebGpuKernels(kernels));

export const WEBGPU_VARIANTS: readonly WebGpuVariant[] = [
  { name: 'stock', activate: () => (useGradientFixes([]), float32([])), optimizerEngine: 'cpu' },
  { name: '+grads', activate: () => (useGradientFixes(), float32([])), optimizerEngine: 'cpu' },
  { name: '+conv', activate: () => (useGradientFixes(), float32(['Conv2DBackpropFilter'])), optimizerEngine: 'webgpu' },
  { name: 'lesion', activate: () => (useGradientFixes(), float32()), optimizerEngine: 'webgpu' },
  { name: 'mixed', activate: () => (useGradientFixes(), float32(), useWebGpuPrecision('mixed')), optimizerEngine: 'webgpu' },
];

/** Back to how Lesion Lab runs (after a bench switched variants). */
export function restoreLesionLab(): void {
  useGradientFixes();
  useWebGpuKernels();
  useWebGpuPrecision('float32');
}
