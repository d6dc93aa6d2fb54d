/**
 * Grad-CAM (Selvaraju et al., 2017): the gradient of a class score with respect to the last
 * convolutional feature map, averaged over space, weights that map's channels; the ReLU of the
 * weighted sum shows where the evidence for the class lies.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { HEAD_LAYERS } from '../models/backbone';
import { splitModelAt } from '../training/modelSplit';

export interface GradCamModel {
  /** Image → last conv feature map. */
  features: tfl.LayersModel;
  /** Feature map → class probabilities. */
  head: tfl.LayersModel;
}

export function gradCamModel(model: tfl.LayersModel): GradCamModel {
  const index = model.layers.findIndex((l) => l.name === HEAD_LAYERS.pooling);
  if (index < 0) throw new Error(`gradCamModel: the model has no ${HEAD_LAYERS.pooling} layer`);
  const split = splitModelAt(model, index);
  return { features: split.frozen!, head: split.trainable };
}

/**
 * The class-activation map for one preprocessed image [1, s, s, 3]: values in [0, 1], h × w of the feature map.
 * Read back asynchronously: the webgpu backend has no synchronous GPU read in Node.
 */
export async function gradCam(m: GradCamModel, x: tf.Tensor4D, classIndex: number): Promise<{ cam: Float32Array; height: number; width: number }> {
  const normalised = tf.tidy(() => {
    const fm = m.features.predict(x) as tf.Tensor4D;
    // A one-hot mask instead of gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks.
    const classes = (m.head.outputs[0]!.shape as number[]).at(-1)!;
    const mask = tf.oneHot(tf.tensor1d([classIndex], 'int32'), classes);
    const score = (f: tf.Tensor): tf.Tensor => tf.sum(tf.mul(m.head.apply(f) as tf.Tensor, mask));
    const grads = tf.grad(score)(fm) as tf.Tensor4D;
    const weights = tf.mean(grads, [1, 2], true); // [1,1,1,c]
    const cam = tf.squeeze(tf.relu(tf.sum(tf.mul(fm, weights), -1)), [0]) as tf.Tensor2D; // [h,w]
    return tf.div(cam, tf.maximum(tf.max(cam), 1e-12)) as tf.Tensor2D;
  });
  try {
    const [height, width] = normalised.shape;
    return { cam: (await normalised.data()) as Float32Array, height, width };
  } finally {
    normalised.dispose();
  }
}

/** Jet-like colour map: blue (no evidence) → green → red (strong evidence). */
function heatColour(v: number): [number, number, number] {
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 1)));
  return [r * 255, g * 255, b * 255];
}

/** Writes the image with the map upsampled over it (PNG). */
export async function writeGradCamOverlay(imageFile: string, cam: Float32Array, height: number, width: number, outFile: string, alpha = 0.45): Promise<void> {
  const base = sharp(imageFile).removeAlpha().toColourspace('srgb');
  const meta = await base.metadata();
  const W = meta.width ?? width;
  const H = meta.height ?? height;
  const camBytes = Buffer.from(Uint8Array.from(cam, (v) => Math.round(v * 255)));
  // sharp writes a one-channel raw input back out as 3-channel sRGB: step by the channels it reports.
  const { data: up, info } = await sharp(camBytes, { raw: { width, height, channels: 1 } }).resize(W, H, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const img = await sharp(imageFile).removeAlpha().toColourspace('srgb').raw().toBuffer();
  const out = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const v = up[i * info.channels]! / 255;
    const [r, g, b] = heatColour(v);
    const a = alpha * Math.min(1, v * 1.5);
    out[i * 3] = img[i * 3]! * (1 - a) + r * a;
    out[i * 3 + 1] = img[i * 3 + 1]! * (1 - a) + g * a;
    out[i * 3 + 2] = img[i * 3 + 2]! * (1 - a) + b * a;
  }
  await sharp(out, { raw: { width: W, height: H, channels: 3 } }).png().toFile(outFile);
}
