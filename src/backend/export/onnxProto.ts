/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, proto2) that Lesion Lab writes and reads:
 * a model with one graph of nodes, float32 initializers, tensor-typed inputs and outputs, and
 * metadata_props. Field numbers are those of onnx.proto; protobufjs encodes and decodes with it.
 */
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto2";
package onnx;

enum AttributeType {
  UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
  FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
}

message AttributeProto {
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType values used here. */
export const ONNX_DTYPE = { float: 1, int64: 7 } as const;
/** AttributeProto.AttributeType values used here. */
export const ONNX_ATTR = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian bytes of the values (raw_data). */
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: number[];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
  docString?: string;
}

/** A dimension is a fixed size or a named, free one (e.g. the batch). */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: OnnxDim[];
  docString?: string;
}

export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: OnnxGraph;
  metadataProps: Record<string, string>;
}

let root: protobuf.Root | undefined;

function modelType(): protobuf.Type {
  root ??= protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
  return root.lookupType('onnx.ModelProto');
}

const valueInfo = (v: OnnxValueInfo): object => ({
  name: v.name,
  doc_string: v.docString,
  type: {
    tensor_type: {
      elem_type: v.elemType,
      shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  },
});

export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const type = modelType();
  const g = model.graph;
  const message = type.fromObject({
    ir_version: model.irVersion,
    opset_import: [{ domain: '', version: model.opsetVersion }],
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    doc_string: model.docString,
    graph: {
      name: g.name,
      doc_string: g.docString,
      node: g.node.map((n) => ({
        name: n.name,
        op_type: n.opType,
        input: n.input,
        output: n.output,
        doc_string: n.docString,
        attribute: n.attribute.map((a) => ({ ...a })),
      })),
      initializer: g.initializer.map((t) => ({
        name: t.name,
        dims: t.dims,
        data_type: t.dataType,
        raw_data: t.rawData,
        float_data: t.floatData,
        int64_data: t.int64Data,
      })),
      input: g.input.map(valueInfo),
      output: g.output.map(valueInfo),
    },
    metadata_props: Object.entries(model.metadataProps).map(([key, value]) => ({ key, value })),
  });
  return type.encode(message).finish();
}

/** Reads what encodeOnnxModel writes (and any ONNX model made of the same parts). */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const type = modelType();
  const m = type.toObject(type.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false, arrays: true, oneofs: false }) as RawModel;
  const g = m.graph ?? {};
  const info = (v: RawValueInfo): OnnxValueInfo => ({
    name: v.name ?? '',
    elemType: v.type?.tensor_type?.elem_type ?? 0,
    shape: (v.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? '?'),
    docString: v.doc_string,
  });
  return {
    irVersion: m.ir_version ?? 0,
    opsetVersion: (m.opset_import ?? []).find((o) => !o.domain)?.version ?? 0,
    producerName: m.producer_name ?? '',
    producerVersion: m.producer_version ?? '',
    docString: m.doc_string,
    metadataProps: Object.fromEntries((m.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    graph: {
      name: g.name ?? '',
      docString: g.doc_string,
      node: (g.node ?? []).map((n) => ({
        name: n.name ?? '',
        opType: n.op_type ?? '',
        input: n.input ?? [],
        output: n.output ?? [],
        docString: n.doc_string,
        attribute: (n.attribute ?? []).map((a) => ({ name: a.name ?? '', type: a.type ?? 0, f: a.f, i: a.i, s: a.s, floats: a.floats, ints: a.ints })),
      })),
      initializer: (g.initializer ?? []).map((t) => ({
        name: t.name ?? '',
        dims: t.dims ?? [],
        dataType: t.data_type ?? 0,
        rawData: t.raw_data,
        floatData: t.float_data,
        int64Data: t.int64_data,
      })),
      input: (g.input ?? []).map(info),
      output: (g.output ?? []).map(info),
    },
  };
}

interface RawValueInfo {
  name?: string;
  doc_string?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

interface RawModel {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  metadata_props?: { key?: string; value?: string }[];
  graph?: {
    name?: string;
    doc_string?: string;
    node?: { name?: string; op_type?: string; input?: string[]; output?: string[]; doc_string?: string; attribute?: { name?: string; type?: number; f?: number; i?: number; s?: Uint8Array; floats?: number[]; ints?: number[] }[] }[];
    initializer?: { name?: string; dims?: number[]; data_type?: number; raw_data?: Uint8Array; float_data?: number[]; int64_data?: number[] }[];
    input?: RawValueInfo[];
    output?: RawValueInfo[];
  };
}
