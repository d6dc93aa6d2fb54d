/**
 * Several exported classifiers as one ONNX model: each member's graph on the shared input (its nodes,
 * values and weights renamed `m<i>/…` so that none collide), and a Mean node that averages the members'
 * softmax outputs into the one output — exactly what `evaluate --ensemble` computes, so the file gives
 * the ensemble's probabilities in any ONNX runtime.
 */
import type { OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnxProto';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnxGraph';

export interface EnsembleGraphOptions {
  name: string;
  docString?: string;
  metadata: Record<string, string>;
}

/** The members' graphs side by side on one input, their probabilities averaged. They must agree on input and output shapes. */
export function ensembleOnnxModel(members: readonly OnnxModel[], options: EnsembleGraphOptions): OnnxModel {
  const first = members[0];
  if (!first) throw new Error('an ensemble needs at least one member');
  const shapeOf = (infos: readonly OnnxValueInfo[], name: string): string => JSON.stringify(infos.find((i) => i.name === name)?.shape);
  for (const [i, m] of members.entries()) {
    if (shapeOf(m.graph.input, ONNX_INPUT) !== shapeOf(first.graph.input, ONNX_INPUT) || shapeOf(m.graph.output, ONNX_OUTPUT) !== shapeOf(first.graph.output, ONNX_OUTPUT)) {
      throw new Error(`ensemble member ${i} takes ${shapeOf(m.graph.input, ONNX_INPUT)} → ${shapeOf(m.graph.output, ONNX_OUTPUT)}, member 0 ${shapeOf(first.graph.input, ONNX_INPUT)} → ${shapeOf(first.graph.output, ONNX_OUTPUT)}`);
    }
    if (m.opsetVersion !== first.opsetVersion || m.irVersion !== first.irVersion) throw new Error(`ensemble member ${i} is opset ${m.opsetVersion}, member 0 opset ${first.opsetVersion}`);
  }
  const node: OnnxNode[] = [];
  const initializer: OnnxTensor[] = [];
  const outputs: string[] = [];
  for (const [i, m] of members.entries()) {
    const prefix = `m${i}/`;
    // The shared input stays as it is; every other name gets the member's prefix.
    const rename = (name: string): string => (name === ONNX_INPUT ? name : `${prefix}${name}`);
    for (const n of m.graph.node) node.push({ ...n, name: `${prefix}${n.name}`, input: n.input.map(rename), output: n.output.map(rename) });
    for (const t of m.graph.initializer) initializer.push({ ...t, name: rename(t.name) });
    outputs.push(rename(ONNX_OUTPUT));
  }
  node.push({ name: 'ensemble_mean', opType: 'Mean', input: outputs, output: [ONNX_OUTPUT], attribute: [], docString: `the mean of ${members.length} members' class probabilities` });
  const output = first.graph.output.map((o) => ({ ...o, docString: `Class probabilities: the mean of the ${members.length} members' softmax outputs, in the order of the metadata "classes".` }));
  return {
    irVersion: first.irVersion,
    opsetVersion: first.opsetVersion,
    producerName: first.producerName,
    producerVersion: first.producerVersion,
    ...(options.docString ? { docString: options.docString } : {}),
    metadataProps: options.metadata,
    graph: { name: options.name, node, initializer, input: first.graph.input, output },
  };
}
