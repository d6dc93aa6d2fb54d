/**
 * Gradients of Mean and Sum without a full-size ones array.
 *
 * TF.js 4.22's stock gradients compute `reshape(dy, kept) * ones(x.shape)`: `ones` fills a typed array of
 * x's size on the CPU (`makeOnesTypedArray`) and uploads it, for every reduction in every step. Batch
 * normalisation reduces every activation twice in training, so on webgpu this was 60% of a ResNet50
 * step's CPU time (DESIGN.md › Engines). Broadcasting dy is the same gradient: each element of x receives
 * the dy of the reduction it belongs to (divided by the reduced count for Mean).
 */
// tfjs-core registers no gradients itself; tfjs-layers' Node bundle registers the stock set when it loads,
// so it must load before two of them are replaced (loading it later would put the stock ones back).
import '@tensorflow/tfjs-layers';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { broadcastTo, cast, div, getGradient, registerGradient, reshape, util } from '@tensorflow/tfjs-core';

function reducedShapeAndSize(x: Tensor, attrs: NamedAttrMap): { kept: number[]; count: number } {
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const kept = x.shape.slice();
  let count = 1;
  for (const a of axes) {
    count *= x.shape[a]!;
    kept[a] = 1;
  }
  return { kept, count };
}

/** Stock gradients multiply by a float32 ones array, which upcasts int/bool dy to float32; keep that. */
function asFloat(dy: Tensor): Tensor {
  return dy.dtype === 'float32' || dy.dtype === 'complex64' ? dy : cast(dy, 'float32');
}

export const broadcastMeanGradConfig: GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!;
    const { kept, count } = reducedShapeAndSize(x, attrs);
    return { x: () => broadcastTo(div(reshape(asFloat(dy as Tensor), kept), count), x.shape) };
  },
};

export const broadcastSumGradConfig: GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!;
    const { kept } = reducedShapeAndSize(x, attrs);
    return { x: () => broadcastTo(reshape(asFloat(dy as Tensor), kept), x.shape) };
  },
};

let stock: { mean: GradConfig; sum: GradConfig } | undefined;

/**
 * Switches the Mean and Sum gradients between the broadcasting ones (true) and TF.js' stock ones
 * (false). The gradient registry is global to the process; the stock configs are kept on first use.
 */
export function useBroadcastReductionGradients(enabled: boolean): void {
  if (!stock) {
    const mean = getGradient('Mean');
    const sum = getGradient('Sum');
    if (!mean || !sum) throw new Error('TF.js registered no gradient for Mean or Sum; @tensorflow/tfjs-layers did not load fully.');
    if (mean === broadcastMeanGradConfig || sum === broadcastSumGradConfig) throw new Error('stock reduction gradients already replaced');
    stock = { mean, sum };
  }
  registerGradient(enabled ? broadcastMeanGradConfig : stock.mean);
  registerGradient(enabled ? broadcastSumGradConfig : stock.sum);
}

export function broadcastReductionGradientsActive(): boolean {
  return getGradient('Mean') === broadcastMeanGradConfig && getGradient('Sum') === broadcastSumGradConfig;
}
