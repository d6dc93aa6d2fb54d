/**
 * Splits a classifier at a layer into a frozen part (run in inference mode, its output cacheable)
 * and a trainable part that shares the same layer objects, hence the same weights.
 *
 * Why split rather than only mark layers untrainable: the frozen part then runs once per image, not
 * once per epoch (train.ts caches its output as features), and no backward pass goes through it.
 * Frozen batch norm would be right either way: models/kerasBatchNorm.ts gives it Keras' inference-mode
 * semantics.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';

export interface SplitModel {
  /** inputs → the tensor entering layer `index`; null when everything trains (index ≤ 1). */
  frozen: tfl.LayersModel | null;
  /** That tensor → predictions, built from the original layers. */
  trainable: tfl.LayersModel;
  /** Shape of one sample entering the trainable part, e.g. [2048] or [7, 7, 2048]. */
  cutShape: number[];
}

type Sym = tfl.SymbolicTensor;

interface NodeLike {
  inputTensors: Sym[];
  outputTensors: Sym[];
  callArgs?: Record<string, unknown>;
}

export function splitModelAt(model: tfl.LayersModel, index: number): SplitModel {
  const layers = model.layers;
  if (index <= 1) return { frozen: null, trainable: model, cutShape: (model.inputs[0]!.shape as number[]).slice(1) };
  const firstNode = (layers[index] as unknown as { inboundNodes: NodeLike[] }).inboundNodes[0];
  if (!firstNode || firstNode.inputTensors.length !== 1) {
    throw new UserError(`Cannot start training at layer ${layers[index]?.name}: it takes ${firstNode?.inputTensors.length ?? 0} inputs. Choose the first layer of a block (e.g. conv5_block1_1_conv).`);
  }
  const cut = firstNode.inputTensors[0]!;
  const cutShape = (cut.shape as number[]).slice(1);
  const frozen = tfl.model({ inputs: model.inputs, outputs: cut, name: `${model.name}_frozen` });
  const input = tfl.input({ shape: cutShape, name: 'features' });
  const mapped = new Map<Sym, Sym>([[cut, input]]);
  for (let i = index; i < layers.length; i++) {
    const layer = layers[i]!;
    const node = (layer as unknown as { inboundNodes: NodeLike[] }).inboundNodes[0]!;
    const inputs = node.inputTensors.map((t) => {
      const m = mapped.get(t);
      if (!m) {
        throw new UserError(
          `Cannot start training at layer ${layers[index]!.name}: layer ${layer.name} also reads ${t.name}, which comes before it (a skip connection crosses the cut). Choose the first layer of a block.`,
        );
      }
      return m;
    });
    const out = layer.apply(inputs.length === 1 ? inputs[0]! : inputs, node.callArgs ?? {}) as Sym | Sym[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, k) => mapped.set(t, outs[k]!));
  }
  const output = mapped.get(model.outputs[0]!);
  if (!output) throw new Error('splitModelAt: the model output was not reached');
  return { frozen, trainable: tfl.model({ inputs: input, outputs: output, name: `${model.name}_trainable` }), cutShape };
}
