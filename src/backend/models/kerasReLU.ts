/**
 * Keras' ReLU(max_value=m) as one clamp: stock tf.layers ReLU runs relu then clipByValue — two kernels forward and
 * six backward per layer (a third of a MobileNetV2 step's kernel calls on wasm). min(max(x, 0), m) is the same
 * value, and for m = 6 TF.js has the op (relu6) and its gradient passes dy where 0 < x ≤ 6, exactly where the two
 * stock gradients together pass it. Registered under the class name "ReLU", so models loaded from model.json get
 * it too; the serialised config is the stock one.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type ReLUArgs = NonNullable<Parameters<typeof tfl.layers.reLU>[0]>;
type ReLULayer = ReturnType<typeof tfl.layers.reLU>;
type CallArgs = Parameters<ReLULayer['call']>;

// tfjs-layers does not export the class itself; its factory's instances carry the constructor.
const StockReLU = tfl.layers.reLU({}).constructor as new (args?: ReLUArgs) => ReLULayer;

export class KerasReLU extends StockReLU {
  static readonly className = 'ReLU';

  override call(inputs: CallArgs[0], kwargs: CallArgs[1]): ReturnType<ReLULayer['call']> {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x && (!Array.isArray(inputs) || inputs.length === 1) && (this as unknown as { maxValue?: number }).maxValue === 6) return tf.relu6(x);
    return super.call(inputs, kwargs);
  }
}

tf.serialization.registerClass(KerasReLU as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function kerasReLU(args: ReLUArgs): ReLULayer {
  return new KerasReLU(args);
}
