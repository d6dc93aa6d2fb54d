/**
 * A trained tf.layers classifier as an ONNX graph for inference: the whole network (backbone, head,
 * softmax), batch normalisation folded into the convolution before it, dropout dropped, explicit
 * padding (TF's asymmetric "same" included) so every runtime computes the same windows.
 *
 * Input: NHWC float32 `[batch, size, size, 3]`, already preprocessed, exactly what Lesion Lab feeds
 * the TF.js model; one Transpose inside turns it into the NCHW that ONNX convolutions take.
 * Output: `[batch, classes]` probabilities. The batch dimension is free ("batch").
 */
import os from 'node:os';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { shortWeightName } from '../models/weights';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from './onnxProto';
import { ONNX_ATTR, ONNX_DTYPE } from './onnxProto';

/** Opset 13: the first with Softmax over one axis and Clip/Pad bounds as inputs, run by every current runtime. */
export const ONNX_OPSET = 13;
/** IR version 7 goes with opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';

export interface OnnxBuildOptions {
  producerVersion: string;
  metadata: Record<string, string>;
  /** What the input holds (preprocessing), for the graph's own documentation. */
  inputDoc: string;
  docString?: string;
}

interface LayerConfig {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes: [string, number, number, unknown][][];
}

/** An ONNX value, with zero padding that is not applied yet (folded into a following convolution when possible). */
interface Value {
  name: string;
  rank: 2 | 4;
  channels: number;
  height?: number;
  width?: number;
  /** Pending zero padding [top, bottom, left, right]. */
  pad?: [number, number, number, number];
}

type Weights = Record<string, { shape: number[]; values: Float32Array }>;

export async function buildOnnxModel(model: tfl.LayersModel, options: OnnxBuildOptions): Promise<OnnxModel> {
  if (os.endianness() !== 'LE') throw new UserError('ONNX export writes little-endian tensors and this machine is big-endian; export on another machine.');
  const builder = new GraphBuilder(model);
  await builder.build(options.inputDoc);
  return {
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'Lesion Lab',
    producerVersion: options.producerVersion,
    docString: options.docString,
    metadataProps: options.metadata,
    graph: {
      name: model.name,
      node: builder.nodes,
      initializer: builder.initializers,
      input: builder.inputs,
      output: builder.outputs,
    },
  };
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxModel['graph']['input'] = [];
  readonly outputs: OnnxModel['graph']['output'] = [];
  private readonly values = new Map<string, Value>();
  private readonly consumers = new Map<string, string[]>();
  private readonly layers: LayerConfig[];
  private readonly folded = new Set<string>();
  private readonly names = new Set<string>();

  constructor(private readonly model: tfl.LayersModel) {
    this.layers = (model.getConfig() as unknown as { layers: LayerConfig[] }).layers;
    for (const layer of this.layers) {
      for (const from of this.inboundNames(layer)) this.consumers.set(from, [...(this.consumers.get(from) ?? []), layer.name]);
    }
  }

  async build(inputDoc: string): Promise<void> {
    if (this.model.inputs.length !== 1 || this.model.outputs.length !== 1) throw new UserError(`ONNX export needs a model with one input and one output; ${this.model.name} has ${this.model.inputs.length} and ${this.model.outputs.length}.`);
    for (const layer of this.layers) {
      if (this.folded.has(layer.name)) continue;
      this.values.set(layer.name, await this.convert(layer, inputDoc));
    }
    const outLayer = this.model.outputs[0]!.sourceLayer.name;
    const last = this.materialize(this.values.get(outLayer)!);
    if (last.rank !== 2) throw new UserError(`ONNX export expects the model to end in class scores; ${outLayer} gives a ${last.rank}-D tensor.`);
    this.node('Identity', [last.name], ONNX_OUTPUT, 'output');
    this.outputs.push({ name: ONNX_OUTPUT, elemType: ONNX_DTYPE.float, shape: ['batch', last.channels], docString: 'Class probabilities (softmax), in the order of the metadata "classes".' });
  }

  private inboundNames(layer: LayerConfig): string[] {
    return (layer.inboundNodes[0] ?? []).map((n) => n[0]);
  }

  private input(layer: LayerConfig, index = 0): Value {
    const from = this.inboundNames(layer)[index];
    const v = from === undefined ? undefined : this.values.get(from);
    if (!v) throw new Error(`onnx export: ${layer.name} reads ${from ?? 'nothing'}, which was not converted`);
    return v;
  }

  private async convert(layer: LayerConfig, inputDoc: string): Promise<Value> {
    const c = layer.config;
    switch (layer.className) {
      case 'InputLayer': {
        const [, h, w, ch] = c['batchInputShape'] as [null, number, number, number];
        this.inputs.push({ name: ONNX_INPUT, elemType: ONNX_DTYPE.float, shape: ['batch', h, w, ch], docString: inputDoc });
        const out = this.node('Transpose', [ONNX_INPUT], `${layer.name}_nchw`, layer.name, [ints('perm', [0, 3, 1, 2])]);
        return { name: out, rank: 4, channels: ch, height: h, width: w };
      }
      case 'ZeroPadding2D': {
        const x = this.input(layer);
        const [[top, bottom], [left, right]] = c['padding'] as [[number, number], [number, number]];
        const p = x.pad ?? [0, 0, 0, 0];
        return { ...x, pad: [p[0] + top, p[1] + bottom, p[2] + left, p[3] + right], height: x.height! + top + bottom, width: x.width! + left + right };
      }
      case 'Conv2D':
      case 'DepthwiseConv2D':
        return this.convolution(layer);
      case 'BatchNormalization': {
        const x = this.materialize(this.input(layer));
        const w = await this.weights(layer.name);
        const n = x.channels;
        const gamma = w['gamma']?.values ?? new Float32Array(n).fill(1);
        const beta = w['beta']?.values ?? new Float32Array(n);
        const out = this.node(
          'BatchNormalization',
          [x.name, this.constant(`${layer.name}_gamma`, [n], gamma), this.constant(`${layer.name}_beta`, [n], beta), this.constant(`${layer.name}_mean`, [n], w['moving_mean']!.values), this.constant(`${layer.name}_var`, [n], w['moving_variance']!.values)],
          layer.name,
          layer.name,
          [float('epsilon', c['epsilon'] as number)],
        );
        return { ...x, name: out };
      }
      case 'Activation':
        return this.activation(this.materialize(this.input(layer)), c['activation'] as string, layer.name, layer.name);
      case 'ReLU': {
        const x = this.materialize(this.input(layer));
        const max = c['maxValue'] as number | null | undefined;
        if ((c['negativeSlope'] ?? 0) !== 0 || (c['threshold'] ?? 0) !== 0) throw unsupported(layer, 'a leaky or thresholded ReLU');
        if (max === undefined || max === null) return { ...x, name: this.node('Relu', [x.name], layer.name, layer.name) };
        return { ...x, name: this.node('Clip', [x.name, this.scalar(`${layer.name}_min`, 0), this.scalar(`${layer.name}_max`, max)], layer.name, layer.name) };
      }
      case 'MaxPooling2D': {
        const x = this.materialize(this.input(layer));
        const kernel = c['poolSize'] as [number, number];
        const strides = (c['strides'] as [number, number] | null) ?? kernel;
        const pads = windowPads(c['padding'] as string, [x.height!, x.width!], kernel, strides, [1, 1]);
        const out = this.node('MaxPool', [x.name], layer.name, layer.name, [ints('kernel_shape', kernel), ints('strides', strides), ints('pads', [pads[0], pads[2], pads[1], pads[3]])]);
        return { ...x, name: out, ...outputSize(x, kernel, strides, pads, [1, 1]) };
      }
      case 'Add': {
        const inputs = this.inboundNames(layer).map((_, i) => this.materialize(this.input(layer, i)));
        let acc = inputs[0]!;
        for (let i = 1; i < inputs.length; i++) {
          const name = i === inputs.length - 1 ? layer.name : `${layer.name}_${i}`;
          acc = { ...acc, name: this.node('Add', [acc.name, inputs[i]!.name], name, name) };
        }
        return acc;
      }
      case 'GlobalAveragePooling2D': {
        const x = this.materialize(this.input(layer));
        const pooled = this.node('GlobalAveragePool', [x.name], `${layer.name}_pool`, `${layer.name}_pool`);
        return { name: this.node('Flatten', [pooled], layer.name, layer.name, [int('axis', 1)]), rank: 2, channels: x.channels };
      }
      case 'Dense': {
        const x = this.materialize(this.input(layer));
        if (x.rank !== 2) throw unsupported(layer, 'a Dense layer on a 4-D tensor');
        const w = await this.weights(layer.name);
        const kernel = w['kernel']!;
        const units = kernel.shape[1]!;
        const inputs = [x.name, this.constant(`${layer.name}_kernel`, kernel.shape, kernel.values)];
        if (w['bias']) inputs.push(this.constant(`${layer.name}_bias`, [units], w['bias'].values));
        const act = c['activation'] as string;
        const gemm = this.node('Gemm', inputs, act === 'linear' ? layer.name : `${layer.name}_gemm`, layer.name);
        return this.activation({ name: gemm, rank: 2, channels: units }, act, layer.name, `${layer.name}_${act}`);
      }
      case 'Dropout':
        // Inference: dropout is the identity.
        return this.input(layer);
      default:
        throw unsupported(layer, `the layer type ${layer.className}`);
    }
  }

  private async convolution(layer: LayerConfig): Promise<Value> {
    const c = layer.config;
    const depthwise = layer.className === 'DepthwiseConv2D';
    const x = this.input(layer);
    const w = await this.weights(layer.name);
    const kernel = depthwise ? w['depthwise_kernel']! : w['kernel']!;
    const [kh, kw, inC, outPer] = kernel.shape as [number, number, number, number];
    const outC = depthwise ? inC * outPer : outPer;
    const strides = c['strides'] as [number, number];
    const dilations = c['dilationRate'] as [number, number];
    if ((c['dataFormat'] ?? 'channelsLast') !== 'channelsLast') throw unsupported(layer, 'channels-first convolutions');
    // Zero padding before a convolution is the convolution's own padding.
    const inner = windowPads(c['padding'] as string, [x.height!, x.width!], [kh, kw], strides, dilations);
    const p = x.pad ?? [0, 0, 0, 0];
    const pads: [number, number, number, number] = [p[0] + inner[0], p[1] + inner[1], p[2] + inner[2], p[3] + inner[3]];
    const srcH = x.height! - p[0] - p[1];
    const srcW = x.width! - p[2] - p[3];

    // ONNX weights: [out, in/group, kh, kw]. TF: conv [kh, kw, in, out]; depthwise [kh, kw, in, mult], output channel c·mult + m.
    const weight = new Float32Array(outC * (depthwise ? 1 : inC) * kh * kw);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let ci = 0; ci < inC; ci++) {
          for (let o = 0; o < outPer; o++) {
            const v = kernel.values[((i * kw + j) * inC + ci) * outPer + o]!;
            if (depthwise) weight[((ci * outPer + o) * kh + i) * kw + j] = v;
            else weight[((o * inC + ci) * kh + i) * kw + j] = v;
          }
        }
      }
    }
    let bias = w['bias'] ? Float64Array.from(w['bias'].values) : undefined;
    let outName = layer.name;
    const act = (c['activation'] as string | undefined) ?? 'linear';

    // Fold a batch norm that only this convolution feeds: W' = W·s, b' = (b − mean)·s + beta, s = gamma/√(var+ε).
    const next = this.consumers.get(layer.name) ?? [];
    const bn = next.length === 1 ? this.layers.find((l) => l.name === next[0] && l.className === 'BatchNormalization') : undefined;
    if (bn && act === 'linear' && [3, -1].includes(bn.config['axis'] as number)) {
      const bw = await this.weights(bn.name);
      const eps = bn.config['epsilon'] as number;
      const folded = new Float64Array(outC);
      const perOut = weight.length / outC;
      for (let o = 0; o < outC; o++) {
        const s = (bw['gamma']?.values[o] ?? 1) / Math.sqrt(bw['moving_variance']!.values[o]! + eps);
        for (let k = 0; k < perOut; k++) weight[o * perOut + k] = weight[o * perOut + k]! * s;
        folded[o] = ((bias?.[o] ?? 0) - bw['moving_mean']!.values[o]!) * s + (bw['beta']?.values[o] ?? 0);
      }
      bias = folded;
      outName = bn.name;
      this.folded.add(bn.name);
    }

    const source = this.materialize({ ...x, pad: undefined, height: srcH, width: srcW });
    const inputs = [source.name, this.constant(`${layer.name}_W`, [outC, depthwise ? 1 : inC, kh, kw], weight)];
    if (bias) inputs.push(this.constant(`${layer.name}_B`, [outC], Float32Array.from(bias)));
    const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dilations), ints('pads', [pads[0], pads[2], pads[1], pads[3]]), int('group', depthwise ? inC : 1)];
    const size = outputSize({ height: srcH, width: srcW }, [kh, kw], strides, pads, dilations);
    const conv = this.node('Conv', inputs, act === 'linear' ? outName : `${outName}_conv`, outName, attrs);
    const out = this.activation({ name: conv, rank: 4, channels: outC, ...size }, act, outName, `${outName}_${act}`);
    if (outName !== layer.name) this.values.set(outName, out);
    return out;
  }

  private activation(x: Value, activation: string, layerName: string, outName: string): Value {
    switch (activation) {
      case 'linear':
        return x;
      case 'relu':
        return { ...x, name: this.node('Relu', [x.name], outName, outName) };
      case 'relu6':
        return { ...x, name: this.node('Clip', [x.name, this.scalar(`${outName}_min`, 0), this.scalar(`${outName}_max`, 6)], outName, outName) };
      case 'sigmoid':
        return { ...x, name: this.node('Sigmoid', [x.name], outName, outName) };
      case 'tanh':
        return { ...x, name: this.node('Tanh', [x.name], outName, outName) };
      case 'softmax':
        // Keras' softmax is over the last (channel) axis: axis 1 in NCHW, −1 for [batch, classes].
        return { ...x, name: this.node('Softmax', [x.name], outName, outName, [int('axis', x.rank === 4 ? 1 : -1)]) };
      default:
        throw new UserError(`ONNX export does not support the activation "${activation}" (layer ${layerName}). Lesion Lab's own models use relu, relu6 and softmax.`);
    }
  }

  /** Applies pending zero padding as a Pad node (where it could not be folded into a convolution). */
  private materialize(x: Value): Value {
    if (!x.pad || x.pad.every((p) => p === 0)) return { ...x, pad: undefined };
    const [t, b, l, r] = x.pad;
    const pads = this.int64Constant(`${x.name}_pads`, [8], [0, 0, t, l, 0, 0, b, r]);
    return { ...x, pad: undefined, name: this.node('Pad', [x.name, pads], `${x.name}_padded`, `${x.name}_pad`, [string('mode', 'constant')]) };
  }

  private async weights(layerName: string): Promise<Weights> {
    const layer = this.model.getLayer(layerName);
    const out: Weights = {};
    for (const v of layer.weights) {
      const data = await v.read().data();
      out[shortWeightName(v.originalName)] = { shape: [...v.shape] as number[], values: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) };
    }
    return out;
  }

  private node(opType: string, input: string[], output: string, name: string, attribute: OnnxAttribute[] = []): string {
    let unique = name;
    for (let i = 2; this.names.has(unique); i++) unique = `${name}_${i}`;
    this.names.add(unique);
    this.nodes.push({ name: unique, opType, input, output: [output], attribute });
    return output;
  }

  private constant(name: string, dims: number[], values: Float32Array): string {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push({ name, dims, dataType: ONNX_DTYPE.float, rawData: Uint8Array.from(bytes) });
    return name;
  }

  private scalar(name: string, value: number): string {
    return this.constant(name, [], Float32Array.of(value));
  }

  private int64Constant(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: ONNX_DTYPE.int64, rawData: new Uint8Array(data.buffer) });
    return name;
  }
}

/** TF's padding for a window op, as [top, bottom, left, right]; "same" puts the odd pixel at the bottom/right. */
export function windowPads(padding: string, size: [number, number], kernel: [number, number], strides: [number, number], dilations: [number, number]): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new UserError(`ONNX export does not support the padding "${padding}".`);
  const pad = (n: number, k: number, s: number, d: number): [number, number] => {
    const effective = (k - 1) * d + 1;
    const total = Math.max((Math.ceil(n / s) - 1) * s + effective - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [...pad(size[0], kernel[0], strides[0], dilations[0]), ...pad(size[1], kernel[1], strides[1], dilations[1])];
}

function outputSize(x: { height?: number; width?: number }, kernel: [number, number], strides: [number, number], pads: [number, number, number, number], dilations: [number, number]): { height: number; width: number } {
  const out = (n: number, k: number, s: number, before: number, after: number, d: number): number => Math.floor((n + before + after - ((k - 1) * d + 1)) / s) + 1;
  return { height: out(x.height!, kernel[0], strides[0], pads[0], pads[1], dilations[0]), width: out(x.width!, kernel[1], strides[1], pads[2], pads[3], dilations[1]) };
}

function unsupported(layer: LayerConfig, what: string): UserError {
  return new UserError(`ONNX export does not support ${what} (layer ${layer.name}). Export this model as TF.js or Keras instead.`);
}

const int = (name: string, i: number): OnnxAttribute => ({ name, type: ONNX_ATTR.int, i });
const ints = (name: string, values: readonly number[]): OnnxAttribute => ({ name, type: ONNX_ATTR.ints, ints: [...values] });
const float = (name: string, f: number): OnnxAttribute => ({ name, type: ONNX_ATTR.float, f });
const string = (name: string, s: string): OnnxAttribute => ({ name, type: ONNX_ATTR.string, s: new TextEncoder().encode(s) });
