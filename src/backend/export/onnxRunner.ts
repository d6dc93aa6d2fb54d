/**
 * Runs an ONNX classifier with TF.js, on whatever engine Lesion Lab picked: exactly the operator set
 * that Lesion Lab's ONNX export writes (checked against onnxruntime in the tests), so `predict --model
 * x.onnx` needs no ONNX runtime in the package (onnxruntime-node ships ~290 MB of native binaries).
 *
 * ONNX convolutions are NCHW, TF.js' are NHWC: a 4-D value that is NCHW in the graph is kept NHWC in
 * memory (`nchw: true`), so the input's Transpose costs nothing and every op runs in TF.js' layout.
 */
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from './onnxProto';
import { ONNX_DTYPE, decodeOnnxModel } from './onnxProto';

interface RuntimeValue {
  t: tf.Tensor;
  /** A 4-D value that the graph sees as NCHW, held as NHWC. */
  nchw: boolean;
}

/** What this runner can execute; anything else is refused when the file is loaded. */
export const ONNX_RUNNER_OPS = ['Transpose', 'Conv', 'BatchNormalization', 'Relu', 'Clip', 'Sigmoid', 'Tanh', 'MaxPool', 'Add', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax', 'Pad', 'Identity', 'Mean'] as const;

export class OnnxRunner {
  private readonly constants = new Map<string, tf.Tensor>();
  /** The same constants' values on the CPU, for operands read as numbers (Clip bounds, Pad sizes): webgpu has no synchronous read. */
  private readonly constantValues = new Map<string, number[]>();
  /** Filters already in TF.js layout, by node name. */
  private readonly filters = new Map<string, tf.Tensor4D>();
  private readonly lastUse = new Map<string, number>();

  private constructor(
    readonly file: string,
    readonly model: OnnxModel,
  ) {
    const unknown = [...new Set(model.graph.node.map((n) => n.opType))].filter((op) => !(ONNX_RUNNER_OPS as readonly string[]).includes(op));
    if (unknown.length) {
      throw new UserError(`${file} uses ONNX operators Lesion Lab cannot run (${unknown.join(', ')}); it runs the models Lesion Lab exports. Use onnxruntime for other models.`);
    }
    if (model.graph.input.filter((i) => !model.graph.initializer.some((t) => t.name === i.name)).length !== 1 || model.graph.output.length !== 1) {
      throw new UserError(`${file} must have one input and one output, as Lesion Lab's exports do.`);
    }
    for (const init of model.graph.initializer) {
      const values = valuesFromProto(init, file);
      this.constants.set(init.name, tf.tensor(values, init.dims, init.dataType === ONNX_DTYPE.float ? 'float32' : 'int32'));
      if (values.length <= 16) this.constantValues.set(init.name, Array.from(values));
    }
    model.graph.node.forEach((n, i) => n.input.forEach((name) => this.lastUse.set(name, i)));
    for (const node of model.graph.node) if (node.opType === 'Conv') this.filters.set(node.name, this.convFilter(node));
  }

  static async load(file: string): Promise<OnnxRunner> {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      throw new UserError(`Cannot read ${file}: ${(err as Error).message}. Give the path of an .onnx file.`);
    }
    let model: OnnxModel;
    try {
      model = decodeOnnxModel(bytes);
    } catch (err) {
      throw new UserError(`${file} is not an ONNX model (${(err as Error).message}). Export it again with lesion-lab export --format onnx.`);
    }
    return new OnnxRunner(file, model);
  }

  get inputName(): string {
    return this.model.graph.input.find((i) => !this.constants.has(i.name))!.name;
  }

  /** Input dimensions as declared: e.g. ["batch", 224, 224, 3]. */
  get inputShape(): (number | string)[] {
    return this.model.graph.input.find((i) => i.name === this.inputName)!.shape;
  }

  /** Runs the graph on one input batch; returns the output (dispose it). */
  run(input: tf.Tensor): tf.Tensor {
    const values = new Map<string, RuntimeValue>([[this.inputName, { t: input, nchw: false }]]);
    const keep = new Set<tf.Tensor>([input]);
    try {
      this.model.graph.node.forEach((node, index) => {
        const out = tf.tidy(() => {
          const r = this.execute(node, values);
          return { t: r.t.clone(), nchw: r.nchw };
        });
        values.set(node.output[0]!, out);
        for (const name of node.input) {
          const v = values.get(name);
          if (v && this.lastUse.get(name) === index && !keep.has(v.t)) {
            v.t.dispose();
            values.delete(name);
          }
        }
      });
      const output = values.get(this.model.graph.output[0]!.name);
      if (!output) throw new UserError(`${this.file}: no node computes the output ${this.model.graph.output[0]!.name}.`);
      values.delete(this.model.graph.output[0]!.name);
      return logical(output);
    } finally {
      for (const v of values.values()) if (!keep.has(v.t)) v.t.dispose();
    }
  }

  dispose(): void {
    tf.dispose([...this.constants.values(), ...this.filters.values()]);
    this.constants.clear();
    this.filters.clear();
  }

  private value(name: string, values: Map<string, RuntimeValue>): RuntimeValue {
    const v = values.get(name);
    if (v) return v;
    const c = this.constants.get(name);
    if (c) return { t: c, nchw: false };
    throw new UserError(`${this.file}: "${name}" is used before any node computes it; the file is damaged.`);
  }

  private execute(node: OnnxNode, values: Map<string, RuntimeValue>): RuntimeValue {
    const x = (i: number): RuntimeValue => this.value(node.input[i]!, values);
    const a = attributes(node.attribute);
    switch (node.opType) {
      case 'Identity':
        return x(0);
      case 'Mean': {
        // An ensemble's averaged probabilities (rank 2); in the layout of the first operand.
        const vs = node.input.map((_, i) => x(i));
        const nchw = vs[0]!.nchw;
        const ts = vs.map((v) => (v.nchw === nchw ? v.t : nchw ? tf.transpose(v.t, [0, 2, 3, 1]) : logical(v)));
        return { t: tf.div(tf.addN(ts), vs.length), nchw };
      }
      case 'Transpose': {
        const v = x(0);
        const perm = a.ints('perm') ?? [];
        if (v.t.rank === 4 && !v.nchw && same(perm, [0, 3, 1, 2])) return { t: v.t, nchw: true };
        if (v.nchw && same(perm, [0, 2, 3, 1])) return { t: v.t, nchw: false };
        return { t: tf.transpose(logical(v), perm), nchw: false };
      }
      case 'Conv': {
        const v = nchwInput(x(0), node);
        const [top, left, bottom, right] = a.ints('pads') ?? [0, 0, 0, 0];
        const strides = (a.ints('strides') ?? [1, 1]) as [number, number];
        const dilations = (a.ints('dilations') ?? [1, 1]) as [number, number];
        const filter = this.filters.get(node.name)!;
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [top!, bottom!], [left!, right!], [0, 0]];
        const padded = top || bottom || left || right ? tf.pad(v.t as tf.Tensor4D, pad) : (v.t as tf.Tensor4D);
        let y = (a.int('group') ?? 1) === 1 ? tf.conv2d(padded, filter, strides, 'valid', 'NHWC', dilations) : tf.depthwiseConv2d(padded, filter, strides, 'valid', 'NHWC', dilations);
        if (node.input[2]) y = tf.add(y, x(2).t);
        return { t: y, nchw: true };
      }
      case 'BatchNormalization': {
        const v = x(0);
        if (v.t.rank !== 2 && !v.nchw) throw unsupported(this.file, node, 'a batch norm on a tensor that is not NCHW or [batch, features]');
        return { t: tf.batchNorm(v.t, x(3).t as tf.Tensor1D, x(4).t as tf.Tensor1D, x(2).t as tf.Tensor1D, x(1).t as tf.Tensor1D, a.float('epsilon') ?? 1e-5), nchw: v.nchw };
      }
      case 'Relu':
        return { t: tf.relu(x(0).t), nchw: x(0).nchw };
      case 'Sigmoid':
        return { t: tf.sigmoid(x(0).t), nchw: x(0).nchw };
      case 'Tanh':
        return { t: tf.tanh(x(0).t), nchw: x(0).nchw };
      case 'Clip': {
        const min = node.input[1] ? this.scalarInput(node, 1) : -Infinity;
        const max = node.input[2] ? this.scalarInput(node, 2) : Infinity;
        return { t: tf.clipByValue(x(0).t, min, max), nchw: x(0).nchw };
      }
      case 'MaxPool': {
        const v = nchwInput(x(0), node);
        const [top, left, bottom, right] = a.ints('pads') ?? [0, 0, 0, 0];
        const kernel = a.ints('kernel_shape') as [number, number];
        const strides = (a.ints('strides') ?? [1, 1]) as [number, number];
        // Padding never wins a max: pad with the lowest float.
        const padded = top || bottom || left || right ? tf.pad(v.t as tf.Tensor4D, [[0, 0], [top!, bottom!], [left!, right!], [0, 0]], -3.4e38) : (v.t as tf.Tensor4D);
        return { t: tf.maxPool(padded, kernel, strides, 'valid'), nchw: true };
      }
      case 'Add': {
        const [p, q] = [x(0), x(1)];
        if (p.nchw !== q.nchw) return { t: tf.add(logical(p), logical(q)), nchw: false };
        return { t: tf.add(p.t, q.t), nchw: p.nchw };
      }
      case 'GlobalAveragePool':
        return { t: tf.mean(nchwInput(x(0), node).t, [1, 2], true), nchw: true };
      case 'Flatten': {
        const t = logical(x(0));
        const axis = a.int('axis') ?? 1;
        const outer = t.shape.slice(0, axis).reduce((m, d) => m * d, 1);
        return { t: tf.reshape(t, [outer, -1]), nchw: false };
      }
      case 'Gemm': {
        const alpha = a.float('alpha') ?? 1;
        const beta = a.float('beta') ?? 1;
        let y = tf.matMul(logical(x(0)) as tf.Tensor2D, x(1).t as tf.Tensor2D, (a.int('transA') ?? 0) === 1, (a.int('transB') ?? 0) === 1);
        if (alpha !== 1) y = tf.mul(y, alpha);
        if (node.input[2]) y = tf.add(y, beta === 1 ? x(2).t : tf.mul(x(2).t, beta));
        return { t: y, nchw: false };
      }
      case 'Softmax': {
        const v = x(0);
        const axis = a.int('axis') ?? -1;
        const lastAxis = v.nchw ? axis === 1 : axis === -1 || axis === v.t.rank - 1;
        if (!lastAxis) throw unsupported(this.file, node, `a softmax over axis ${axis}`);
        return { t: tf.softmax(v.t), nchw: v.nchw };
      }
      case 'Pad': {
        const v = x(0);
        const mode = a.string('mode') ?? 'constant';
        if (mode !== 'constant') throw unsupported(this.file, node, `${mode} padding`);
        const pads = this.constantInput(node, 1);
        const fill = node.input[2] ? this.scalarInput(node, 2) : 0;
        const rank = v.t.rank;
        let pairs = Array.from({ length: rank }, (_, i) => [pads[i]!, pads[i + rank]!] as [number, number]);
        if (v.nchw) pairs = [pairs[0]!, pairs[2]!, pairs[3]!, pairs[1]!];
        return { t: tf.pad(v.t, pairs, fill), nchw: v.nchw };
      }
      default:
        throw unsupported(this.file, node, `the operator ${node.opType}`);
    }
  }

  private constantInput(node: OnnxNode, index: number): number[] {
    const values = this.constantValues.get(node.input[index]!);
    if (!values) throw unsupported(this.file, node, `a constant (initializer) as input ${index + 1}`);
    return values;
  }

  private scalarInput(node: OnnxNode, index: number): number {
    return this.constantInput(node, index)[0]!;
  }

  /** ONNX [out, in/group, kh, kw] → TF.js conv [kh, kw, in, out] or depthwise [kh, kw, in, multiplier]. */
  private convFilter(node: OnnxNode): tf.Tensor4D {
    const w = this.constants.get(node.input[1]!);
    if (!w || w.rank !== 4) throw unsupported(this.file, node, 'a convolution whose weights are not a constant 4-D tensor');
    const group = attributes(node.attribute).int('group') ?? 1;
    const [out, inPerGroup, kh, kw] = w.shape as [number, number, number, number];
    if (group === 1) return tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
    if (inPerGroup !== 1 || out % group !== 0) throw unsupported(this.file, node, `a grouped convolution (group ${group}) that is not depthwise`);
    return tf.tidy(() => tf.transpose(tf.reshape(w, [group, out / group, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D);
  }
}

function nchwInput(v: RuntimeValue, node: OnnxNode): RuntimeValue {
  if (!v.nchw) throw new UserError(`ONNX node ${node.name} (${node.opType}) expects an NCHW image tensor; Lesion Lab runs only graphs that transpose their NHWC input first, as its exports do.`);
  return v;
}

/** The value in the layout the graph sees. */
function logical(v: RuntimeValue): tf.Tensor {
  return v.nchw ? tf.transpose(v.t, [0, 3, 1, 2]) : v.t;
}

function valuesFromProto(t: OnnxTensor, file: string): Float32Array | Int32Array {
  if (t.dataType === ONNX_DTYPE.float) return t.rawData ? new Float32Array(Uint8Array.from(t.rawData).buffer) : Float32Array.from(t.floatData ?? []);
  if (t.dataType === ONNX_DTYPE.int64) {
    return Int32Array.from(t.rawData ? Array.from(new BigInt64Array(Uint8Array.from(t.rawData).buffer), Number) : (t.int64Data ?? []));
  }
  throw new UserError(`${file}: the constant ${t.name} has ONNX data type ${t.dataType}; Lesion Lab runs float32 models.`);
}

function attributes(list: readonly OnnxAttribute[]) {
  const get = (name: string): OnnxAttribute | undefined => list.find((x) => x.name === name);
  return {
    int: (name: string): number | undefined => (get(name)?.i === undefined ? undefined : Number(get(name)!.i)),
    ints: (name: string): number[] | undefined => get(name)?.ints?.map(Number),
    float: (name: string): number | undefined => get(name)?.f,
    string: (name: string): string | undefined => (get(name)?.s ? new TextDecoder().decode(get(name)!.s) : undefined),
  };
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function unsupported(file: string, node: OnnxNode, what: string): UserError {
  return new UserError(`${file}: node ${node.name} needs ${what}, which Lesion Lab's ONNX runner does not do. Run this model with onnxruntime.`);
}
