/**
 * A trained Keras-style model run for inference with every batch normalisation folded into the convolution before it:
 *   conv(x, W) + b → BN(γ, β, mean, var, ε) → relu/relu6   becomes   fusedConv(x, W·s, (b − mean)·s + β, relu/relu6)
 * with s = γ/√(var + ε) per output channel — one kernel (XNNPACK's convolution with bias and clamp on wasm, one
 * program on webgpu) where model.predict runs three or four: on wasm, batch norm alone was 17% of a ResNet50
 * forward pass. Inference-mode batch norm is affine, so this is the same function; only float32 rounding differs
 * (checked against predict in test/unit/models/foldedInference.test.ts). The rest of the graph runs layer by layer
 * as predict would, walked from the model's outputs (so a sub-model sharing layers with another works too).
 * The folded weights are computed once, on the engine (no GPU read-back); dispose() frees them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;
type Symbolic = tfl.SymbolicTensor;
type FusedActivation = 'linear' | 'relu' | 'relu6';

export interface FoldedInference {
  run(x: Tensor): Tensor;
  /** Convolutions that absorbed a batch normalisation. */
  readonly folded: number;
  dispose(): void;
}

interface Fold {
  conv: Layer;
  depthwise: boolean;
  filter: Tensor;
  bias: Tensor;
  activation: FusedActivation;
  strides: [number, number];
  pad: 'same' | 'valid';
  dilations: [number, number];
}

const className = (layer: Layer) => layer.getClassName();
const config = (layer: Layer) => layer.getConfig() as Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v ?? 1), Number(v ?? 1)]);

function variable(layer: Layer, suffix: string): Tensor | undefined {
  return layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`) || w.name.endsWith(`/${suffix}`))?.read();
}

/** The activation a layer applies that a fused convolution can take, or undefined. */
function fusableActivation(layer: Layer): FusedActivation | undefined {
  if (className(layer) === 'Activation') {
    const name = config(layer).activation;
    return name === 'relu' ? 'relu' : name === 'linear' ? 'linear' : undefined;
  }
  if (className(layer) === 'ReLU') {
    const max = config(layer).maxValue;
    return max === 6 ? 'relu6' : max === undefined || max === null ? 'relu' : undefined;
  }
  return undefined;
}

/** A convolution (channels last, linear activation) followed by batch normalisation over its channels. */
function foldable(conv: Layer, bn: Layer): boolean {
  const kind = className(conv);
  if ((kind !== 'Conv2D' && kind !== 'DepthwiseConv2D') || className(bn) !== 'BatchNormalization') return false;
  const c = config(conv);
  const axis = config(bn).axis;
  return (c.activation === 'linear' || c.activation === undefined) && (c.dataFormat ?? 'channelsLast') === 'channelsLast' && (axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)));
}

function makeFold(conv: Layer, bn: Layer, activation: FusedActivation): Fold {
  const c = config(conv);
  const depthwise = className(conv) === 'DepthwiseConv2D';
  const epsilon = Number(config(bn).epsilon ?? 1e-3);
  const [filter, bias] = tf.tidy(() => {
    const kernel = variable(conv, depthwise ? 'depthwise_kernel' : 'kernel')!;
    const mean = variable(bn, 'moving_mean')!;
    const gamma = variable(bn, 'gamma') ?? tf.onesLike(mean);
    const beta = variable(bn, 'beta') ?? tf.zerosLike(mean);
    const s = tf.div(gamma, tf.sqrt(tf.add(variable(bn, 'moving_variance')!, epsilon)));
    const scaled = depthwise ? tf.mul(kernel, tf.reshape(s, [1, 1, kernel.shape[2]!, kernel.shape[3]!])) : tf.mul(kernel, s);
    const b = variable(conv, 'bias') ?? tf.zerosLike(mean);
    return [tf.keep(scaled), tf.keep(tf.add(tf.mul(tf.sub(b, mean), s), beta))];
  });
  return { conv, depthwise, filter, bias, activation, strides: pair(c.strides), pad: c.padding === 'same' ? 'same' : 'valid', dilations: pair(c.dilationRate) };
}

function runFold(f: Fold, x: Tensor): Tensor {
  const args = { x: x as tf.Tensor4D, filter: f.filter as tf.Tensor4D, strides: f.strides, pad: f.pad, dilations: f.dilations, bias: f.bias, activation: f.activation };
  return f.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
}

export function foldBatchNorm(model: tfl.LayersModel): FoldedInference {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('foldBatchNorm: one input and one output only');
  const input = model.inputs[0]!;
  // Every symbolic tensor between the input and the output, and how many of them read each.
  const readers = new Map<Symbolic, number>();
  const seen = new Set<Symbolic>();
  const visit = (t: Symbolic): void => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const i of t.inputs) {
      readers.set(i, (readers.get(i) ?? 0) + 1);
      visit(i);
    }
  };
  visit(model.outputs[0]!);
  const single = (t: Symbolic) => readers.get(t) === 1 && t !== model.outputs[0];

  // t → the fold that produces t (t is a BN's output, or the activation after it), and the convolution's input.
  const folds = new Map<Symbolic, { fold: Fold; from: Symbolic }>();
  const made: Fold[] = [];
  for (const t of seen) {
    const layer = t.sourceLayer;
    const act = fusableActivation(layer);
    const bnOut = act !== undefined ? t.inputs[0] : t;
    if (!bnOut || bnOut.inputs.length !== 1) continue;
    const convOut = bnOut.inputs[0]!;
    if (convOut.inputs.length !== 1 || !foldable(convOut.sourceLayer, bnOut.sourceLayer) || !single(convOut)) continue;
    if (act !== undefined && (!single(bnOut) || folds.has(bnOut))) continue;
    if (act === undefined && [...seen].some((u) => u.inputs.includes(t) && fusableActivation(u.sourceLayer) !== undefined && single(t))) continue; // the activation after it folds instead
    const fold = makeFold(convOut.sourceLayer, bnOut.sourceLayer, act ?? 'linear');
    made.push(fold);
    folds.set(t, { fold, from: convOut.inputs[0]! });
  }

  // The steps in an order where every input comes first, each with what it reads.
  const steps: { out: Symbolic; reads: Symbolic[] }[] = [];
  const placed = new Set<Symbolic>([input]);
  const place = (t: Symbolic): void => {
    if (placed.has(t)) return;
    placed.add(t);
    const f = folds.get(t);
    const reads = f ? [f.from] : t.inputs;
    for (const r of reads) place(r);
    steps.push({ out: t, reads });
  };
  place(model.outputs[0]!);
  const uses = new Map<Symbolic, number>();
  for (const step of steps) for (const r of step.reads) uses.set(r, (uses.get(r) ?? 0) + 1);

  return {
    folded: made.length,
    run(x: Tensor): Tensor {
      // Each intermediate is freed after its last reader, as model.predict does (a deep net's activations together
      // would not fit a GPU at a large batch). A layer may hand back its input (Dropout at inference): by identity.
      const values = new Map<Symbolic, Tensor>([[input, x]]);
      const left = new Map(uses);
      let out: Tensor | undefined;
      try {
        for (const step of steps) {
          const inputs = step.reads.map((r) => values.get(r)!);
          const f = folds.get(step.out);
          out = tf.tidy(() => (f ? runFold(f.fold, inputs[0]!) : (step.out.sourceLayer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }) as Tensor)));
          values.set(step.out, out);
          for (const r of step.reads) {
            const n = (left.get(r) ?? 1) - 1;
            left.set(r, n);
            if (n > 0) continue;
            const t = values.get(r)!;
            values.delete(r);
            if (t !== x && ![...values.values()].includes(t)) t.dispose();
          }
        }
        return out!;
      } catch (err) {
        for (const t of new Set(values.values())) if (t !== x) t.dispose();
        throw err;
      }
    },
    dispose(): void {
      for (const f of made) tf.dispose([f.filter, f.bias]);
    },
  };
}
