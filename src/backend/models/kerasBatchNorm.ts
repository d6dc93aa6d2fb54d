/**
 * BatchNormalization with Keras 2 (TF2) semantics for frozen layers: a BN layer with
 * `trainable = false` runs in inference mode — moving statistics, no updates — even inside `fit`.
 * Stock tf.layers BN normalises with the batch statistics and updates the moving averages whenever
 * training is on, frozen or not; fine-tuning `model.layers[483:]` of a Keras model relies on the
 * frozen part staying exactly as pretrained. Registered under the class name "BatchNormalization",
 * so models loaded from model.json get this behaviour too.
 *
 * On webgpu, training mode runs as one fused op (engines/webgpu/fusedBatchNorm.ts: 5 GPU dispatches per layer
 * and step instead of ~48) with the same arithmetic; inference and the other engines use the stock code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormTraining, fusedBatchNormAvailable } from '../engines/webgpu/fusedBatchNorm';

type BatchNormArgs = NonNullable<Parameters<typeof tfl.layers.batchNormalization>[0]>;
type BatchNormLayer = ReturnType<typeof tfl.layers.batchNormalization>;
type CallArgs = Parameters<BatchNormLayer['call']>;

/** The stock layer's state (private in tfjs-layers' typings). */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: tfl.LayerVariable;
  beta?: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

// tfjs-layers does not export the class itself; its factory's instances carry the constructor.
const StockBatchNormalization = tfl.layers.batchNormalization({}).constructor as new (args?: BatchNormArgs) => BatchNormLayer;

export class KerasBatchNormalization extends StockBatchNormalization {
  static readonly className = 'BatchNormalization';

  override call(inputs: CallArgs[0], kwargs: CallArgs[1]): ReturnType<BatchNormLayer['call']> {
    const training = kwargs['training'] === true && this.trainable;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const s = this as unknown as BatchNormState;
    if (training && input && (!Array.isArray(inputs) || inputs.length === 1) && s.gamma && s.beta && fusedBatchNormAvailable(input, s.axis)) {
      return tf.tidy(() => this.fusedTrainingCall(input, s));
    }
    return super.call(inputs, { ...kwargs, training });
  }

  private fusedTrainingCall(input: Tensor, s: BatchNormState): Tensor {
    const r = batchNormTraining(input, s.gamma!.read(), s.beta!.read(), s.movingMean.read(), s.movingVariance.read(), s.epsilon, s.momentum);
    s.movingMean.write(r.movingMean);
    s.movingVariance.write(r.movingVariance);
    tf.dispose([r.movingMean, r.movingVariance]);
    return r.y;
  }
}

tf.serialization.registerClass(KerasBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function kerasBatchNormalization(args: BatchNormArgs): BatchNormLayer {
  return new KerasBatchNormalization(args);
}
