/**
 * Input preprocessing that matches each backbone's ImageNet weights, as Keras'
 * imagenet_utils.preprocess_input does it (channels_last):
 *   caffe (ResNet): RGB→BGR, then subtract the ImageNet BGR mean, no scaling;
 *   tf (MobileNetV2): x / 127.5 − 1, i.e. [0, 255] → [−1, 1].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelName } from '../../shared/protocol/jobs';

export type PreprocessSpec =
  | { mode: 'caffe'; channelOrder: 'BGR'; /** BGR order. */ mean: readonly [number, number, number] }
  | { mode: 'tf'; channelOrder: 'RGB'; scale: number; offset: number };

export const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68] as const;

export function preprocessFor(name: ModelName): PreprocessSpec {
  return name === 'mobilenetv2'
    ? { mode: 'tf', channelOrder: 'RGB', scale: 1 / 127.5, offset: -1 }
    : { mode: 'caffe', channelOrder: 'BGR', mean: CAFFE_BGR_MEAN };
}

/** Applies the model's preprocessing to RGB pixels in [0, 255] (shape [..., 3], any numeric dtype). */
export function preprocessImages<T extends tf.Tensor>(name: ModelName, rgb: T): T {
  const spec = preprocessFor(name);
  return tf.tidy(() => {
    const x = rgb.dtype === 'float32' ? rgb : tf.cast(rgb, 'float32');
    if (spec.mode === 'tf') return tf.sub(tf.div(x, 127.5), 1) as T;
    const bgr = tf.reverse(x, -1);
    return tf.sub(bgr, tf.tensor1d(spec.mean as unknown as number[], 'float32')) as T;
  });
}

/**
 * The same on a raw interleaved RGB buffer (what sharp's `.raw()` gives), writing into `out` at
 * `outOffset` — lets a data pipeline fill a batch buffer without a tensor per image.
 */
export function preprocessPixelsInto(spec: PreprocessSpec, rgb: ArrayLike<number>, out: Float32Array, outOffset = 0): void {
  if (rgb.length % 3 !== 0) throw new Error(`preprocessPixelsInto: ${rgb.length} values is not a whole number of RGB pixels`);
  if (outOffset + rgb.length > out.length) throw new Error('preprocessPixelsInto: output buffer too small');
  if (spec.mode === 'tf') {
    for (let i = 0; i < rgb.length; i++) out[outOffset + i] = (rgb[i] as number) / 127.5 - 1;
    return;
  }
  const [mb, mg, mr] = spec.mean;
  for (let i = 0; i < rgb.length; i += 3) {
    const o = outOffset + i;
    out[o] = (rgb[i + 2] as number) - mb;
    out[o + 1] = (rgb[i + 1] as number) - mg;
    out[o + 2] = (rgb[i] as number) - mr;
  }
}
