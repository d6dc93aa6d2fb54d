import * as tf from '@tensorflow/tfjs-core';
import { createRng, gaussian } from '../../src/shared/random';

/** A float32 tensor of seeded normal values (× scale + offset): the same numbers on every engine. */
export function seededTensor(shape: number[], seed: number, scale = 1, offset = 0): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => gaussian(rng) * scale + offset), shape, 'float32');
}
