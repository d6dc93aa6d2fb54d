/**
 * BatchNormalization with Keras 2 (TF2) semantics for frozen layers: a BN layer with
 * `trainable = false` runs in inference mode — moving statistics, no updates — even inside `fit`.
 * Stock tf.layers BN normalises with the batch statistics and updates the moving averages whenever
 * training is on, frozen or not; fine-tuning `model.layers[483:]` of a Keras model relies on the
 * frozen part staying exactly as pretrained. Registered under the class name "BatchNormalization",
 * so models loaded from model.json get this behaviour too.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type BatchNormArgs = NonNullable<Parameters<typeof tfl.layers.batchNormalization>[0]>;
type BatchNormLayer = ReturnType<typeof tfl.layers.batchNormalization>;
type CallArgs = Parameters<BatchNormLayer['call']>;

// tfjs-layers does not export the class itself; its factory's instances carry the constructor.
const StockBatchNormalization = tfl.layers.batchNormalization({}).constructor as new (args?: BatchNormArgs) => BatchNormLayer;

export class KerasBatchNormalization extends StockBatchNormalization {
  static readonly className = 'BatchNormalization';

  override call(inputs: CallArgs[0], kwargs: CallArgs[1]): ReturnType<BatchNormLayer['call']> {
    return super.call(inputs, { ...kwargs, training: kwargs['training'] === true && this.trainable });
  }
}

tf.serialization.registerClass(KerasBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function kerasBatchNormalization(args: BatchNormArgs): BatchNormLayer {
  return new KerasBatchNormalization(args);
}
