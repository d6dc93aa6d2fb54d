/**
 * The project's webgpu kernels, registered over TF.js' own when the webgpu engine starts (engines/load.ts):
 * the filter gradients of dense and depthwise convolutions (conv2dBackpropFilter.ts, depthwiseBackpropFilter.ts;
 * TF.js' own sum the whole batch in one thread per filter element) and fused batch norm. The stock configs
 * are kept as the fallback for inputs the project's kernels do not handle, and so the bench can compare both in
 * one process. The batch-norm kernels have no stock counterpart: when they are not registered,
 * BatchNormalization layers train through the stock ops (models/kerasBatchNorm.ts checks).
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD, BATCH_NORM_TRAIN, makeBatchNormKernelConfigs } from './batchNormKernels';
import { makeConv2DBackpropFilterConfig } from './conv2dBackpropFilter';
import { makeDepthwiseBackpropFilterConfig } from './depthwiseBackpropFilter';

export const WEBGPU_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', BATCH_NORM_TRAIN, BATCH_NORM_GRAD] as const;
export type WebGpuKernelName = (typeof WEBGPU_KERNELS)[number];

let stock: Partial<Record<WebGpuKernelName, KernelConfig>> | undefined;
let ours: Record<WebGpuKernelName, KernelConfig> | undefined;

/** Registers the project's kernels (`enabled`) or TF.js' stock ones (the rest) for the webgpu backend. */
export function useWebGpuKernels(enabled: readonly WebGpuKernelName[] = WEBGPU_KERNELS): void {
  if (!stock || !ours) {
    stock = Object.fromEntries(WEBGPU_KERNELS.map((k) => [k, getKernel(k, 'webgpu')]));
    const batchNorm = makeBatchNormKernelConfigs();
    ours = {
      Conv2DBackpropFilter: makeConv2DBackpropFilterConfig(stock.Conv2DBackpropFilter),
      DepthwiseConv2dNativeBackpropFilter: makeDepthwiseBackpropFilterConfig(stock.DepthwiseConv2dNativeBackpropFilter),
      [BATCH_NORM_TRAIN]: batchNorm.train,
      [BATCH_NORM_GRAD]: batchNorm.grad,
    };
  }
  for (const k of WEBGPU_KERNELS) {
    const config = enabled.includes(k) ? ours[k] : stock[k];
    if (getKernel(k, 'webgpu')) unregisterKernel(k, 'webgpu');
    if (config) registerKernel(config);
  }
}

export function activeWebGpuKernels(): WebGpuKernelName[] {
  return WEBGPU_KERNELS.filter((k) => ours && getKernel(k, 'webgpu') === ours[k]);
}
