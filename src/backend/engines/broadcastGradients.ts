/**
 * Gradients of Mean, Sum and FusedBatchNorm without full-size helper arrays.
 *
 * TF.js 4.22's stock Mean/Sum gradients compute `reshape(dy, kept) * ones(x.shape)`: `ones` fills a typed
 * array of x's size on the CPU (`makeOnesTypedArray`) and uploads it, for every reduction in every step.
 * Batch normalisation reduces every activation twice in training, so on webgpu this was 60% of a ResNet50
 * step's CPU time (DESIGN.md › Engines). Spreading dy over x's shape on the backend is the same gradient:
 * each element of x receives the dy of the reduction it belongs to (divided by the count for Mean).
 * The stock FusedBatchNorm gradient tiles 1/√(var+ε) to x's full size before multiplying, where a
 * broadcasting multiply gives the same numbers (on wasm those Tile calls were 30% of a MobileNetV2 step).
 */
// tfjs-core registers no gradients itself; tfjs-layers' Node bundle registers the stock set when it loads,
// so it must load before some of them are replaced (loading it later would put the stock ones back).
import '@tensorflow/tfjs-layers';
import type { FusedBatchNormAttrs, GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import {
  add,
  backend_util,
  broadcastTo,
  cast,
  div,
  getBackend,
  getGradient,
  mul,
  onesLike,
  registerGradient,
  reshape,
  rsqrt,
  scalar,
  sub,
  sum,
  util,
} from '@tensorflow/tfjs-core';

export type GradientFix = 'Mean' | 'Sum' | 'FusedBatchNorm';
export const GRADIENT_FIXES: readonly GradientFix[] = ['Mean', 'Sum', 'FusedBatchNorm'];

function reducedShapeAndCount(x: Tensor, attrs: NamedAttrMap): { kept: number[]; count: number } {
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

/**
 * dy (already reshaped to x's rank) spread over x's shape. `broadcastTo` is a Tile kernel; on wasm that
 * kernel is ~20× slower than a broadcasting multiply (bench/engine.ts: 2.4 s of a 3.3 s MobileNetV2
 * step), so there the ones are made by the backend itself (OnesLike, in wasm memory, no JS array or
 * upload) and multiplied, which is still ~2× faster than the stock gradient. Same values either way.
 */
function spread(expandedDy: Tensor, x: Tensor): Tensor {
  return getBackend() === 'wasm' ? mul(expandedDy, onesLike(x)) : broadcastTo(expandedDy, x.shape);
}

export const meanGradConfig: GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!;
    const { kept, count } = reducedShapeAndCount(x, attrs);
    return { x: () => spread(div(reshape(asFloat(dy as Tensor), kept), count), x) };
  },
};

export const sumGradConfig: GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!;
    const { kept } = reducedShapeAndCount(x, attrs);
    return { x: () => spread(reshape(asFloat(dy as Tensor), kept), x) };
  },
};

/** The stock FusedBatchNorm gradient, operation for operation, except that dx broadcasts instead of tiling. */
export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dyIn, saved, attrs) => {
    const dy = dyIn as Tensor;
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const scaleValue = scale ?? scalar(1);
    const reductionAxes = backend_util.getReductionAxes(mean.shape, x.shape);
    const perChannel = mean.rank === 1;
    const xMinusMean = sub(x, mean);
    const dyTimesScale = mul(dy, scaleValue);
    const oneOverSqrtVariance = rsqrt(add(variance, scalar(varianceEpsilon)));
    const minusHalfRCube = mul(mul(mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), scalar(-0.5));
    const reduced = (t: Tensor) => reshape(perChannel ? sum(t, reductionAxes) : t, mean.shape);
    return {
      x: () => reshape(mul(mul(dy, oneOverSqrtVariance), scaleValue), x.shape),
      mean: () => reduced(mul(mul(oneOverSqrtVariance, scalar(-1)), dyTimesScale)),
      variance: () => reduced(mul(mul(minusHalfRCube, xMinusMean), dyTimesScale)),
      scale: () => reduced(mul(dy, mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => reduced(dy),
    };
  },
};

const OURS: Record<GradientFix, GradConfig> = { Mean: meanGradConfig, Sum: sumGradConfig, FusedBatchNorm: fusedBatchNormGradConfig };
let stock: Record<GradientFix, GradConfig> | undefined;

/**
 * Registers the project's gradient for each fix in `enabled` and TF.js' stock gradient for the others.
 * The gradient registry is global to the process; the stock configs are kept on first use.
 */
export function useGradientFixes(enabled: readonly GradientFix[] = GRADIENT_FIXES): void {
  if (!stock) {
    const found = Object.fromEntries(GRADIENT_FIXES.map((k) => [k, getGradient(k)])) as Record<GradientFix, GradConfig | undefined>;
    for (const k of GRADIENT_FIXES) {
      if (!found[k]) throw new Error(`TF.js registered no gradient for ${k}; @tensorflow/tfjs-layers did not load fully.`);
      if (found[k] === OURS[k]) throw new Error(`the stock ${k} gradient was already replaced`);
    }
    stock = found as Record<GradientFix, GradConfig>;
  }
  for (const k of GRADIENT_FIXES) registerGradient(enabled.includes(k) ? OURS[k] : stock[k]);
}

export function activeGradientFixes(): GradientFix[] {
  return GRADIENT_FIXES.filter((k) => getGradient(k) === OURS[k]);
}
