/**
 * Grad-CAM (Selvaraju et al., 2017): the gradient of a class score with respect to the last
 * convolutional feature map, averaged over space, weights that map's channels; the ReLU of the
 * weighted sum shows where the evidence for the class lies. The score is the class's pre-softmax
 * logit, as the paper has it: the softmax probability's gradient vanishes once the model is confident
 * (p(1 − p) → 0), which draws the input image where a map should be.
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
  /** Feature map → the classes' pre-softmax scores (the head with the last Dense layer's softmax left out). */
  logits(featureMap: tf.Tensor): tf.Tensor;
}

export function gradCamModel(model: tfl.LayersModel): GradCamModel {
  const index = model.layers.findIndex((l) => l.name === HEAD_LAYERS.pooling);
  if (index < 0) throw new Error(`gradCamModel: the model has no ${HEAD_LAYERS.pooling} layer`);
  const split = splitModelAt(model, index);
  const pooling = model.getLayer(HEAD_LAYERS.pooling);
  const dense = model.getLayer(HEAD_LAYERS.dense);
  const predictions = model.getLayer(HEAD_LAYERS.predictions);
  const logits = (featureMap: tf.Tensor): tf.Tensor => {
    // Dropout is the identity at inference, so the head is pooling → dense → the last Dense's affine part.
    const hidden = dense.apply(pooling.apply(featureMap)) as tf.Tensor;
    const [kernel, bias] = predictions.getWeights();
    return tf.add(tf.matMul(hidden, kernel!), bias!);
  };
  return { features: split.frozen!, head: split.trainable, logits };
}

/**
 * Why there is no map to draw: every gradient is zero; no region raises the class's score; or every cell of
 * the map is the same (a 1×1 feature map — MobileNetV2 and ResNet at 32 px — can only ever be), which would
 * paint the whole image as "evidence".
 */
export type FlatMap = 'zero-gradients' | 'no-positive-evidence' | 'uniform';

export interface ClassActivationMap {
  /** Values in [0, 1] (all 0 when `flat`), height × width of the feature map. */
  cam: Float32Array;
  height: number;
  width: number;
  flat?: FlatMap;
}

/** What a person is told instead of a drawing. */
export function describeFlatMap(flat: FlatMap, className: string, map?: { height: number; width: number }): string {
  if (flat === 'zero-gradients') return 'no evidence map: the gradients are zero (the class score does not change with the image)';
  // A 1×1 map can never localise, whatever its one value: that is the reason worth giving.
  if (map && map.height * map.width === 1) return 'no evidence map: the last feature map is 1×1 at this input size, so Grad-CAM cannot tell where the evidence lies (train with a larger --size)';
  if (flat === 'no-positive-evidence') return `no evidence map: no region of the image raises the score of ${className}`;
  return 'no evidence map: the evidence is spread evenly over the whole image';
}

/**
 * The class-activation map for one preprocessed image [1, s, s, 3].
 * Read back asynchronously: the webgpu backend has no synchronous GPU read in Node.
 */
export async function gradCam(m: GradCamModel, x: tf.Tensor4D, classIndex: number): Promise<ClassActivationMap> {
  const [raw, gradMax] = tf.tidy(() => {
    const fm = m.features.predict(x) as tf.Tensor4D;
    // A one-hot mask instead of gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks.
    const classes = (m.head.outputs[0]!.shape as number[]).at(-1)!;
    const mask = tf.oneHot(tf.tensor1d([classIndex], 'int32'), classes);
    const score = (f: tf.Tensor): tf.Tensor => tf.sum(tf.mul(m.logits(f), mask));
    const grads = tf.grad(score)(fm) as tf.Tensor4D;
    const weights = tf.mean(grads, [1, 2], true); // [1,1,1,c]
    const cam = tf.squeeze(tf.relu(tf.sum(tf.mul(fm, weights), -1)), [0]) as tf.Tensor2D; // [h,w]
    return [cam, tf.max(tf.abs(grads))] as [tf.Tensor2D, tf.Tensor];
  });
  try {
    const [height, width] = raw.shape;
    const cam = (await raw.data()) as Float32Array;
    const peak = cam.reduce((a, b) => Math.max(a, b), 0);
    const low = cam.reduce((a, b) => Math.min(a, b), Infinity);
    // Within 5% everywhere: drawn, it would tint the whole image alike.
    const flat: FlatMap | undefined = (await gradMax.data())[0]! === 0 ? 'zero-gradients' : !(peak > 0) ? 'no-positive-evidence' : peak - low < 0.05 * peak ? 'uniform' : undefined;
    if (flat) return { cam: new Float32Array(cam.length), height, width, flat };
    return { cam: cam.map((v) => v / peak), height, width };
  } finally {
    raw.dispose();
    gradMax.dispose();
  }
}

/** Jet-like colour map: blue (no evidence) → green → red (strong evidence). */
function heatColour(v: number): [number, number, number] {
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 1)));
  return [r * 255, g * 255, b * 255];
}

/** The map upsampled to the image's size (one byte per pixel, 0–255). */
async function upsampledMap(cam: Float32Array, height: number, width: number, W: number, H: number): Promise<Uint8Array> {
  const camBytes = Buffer.from(Uint8Array.from(cam, (v) => Math.round(v * 255)));
  // sharp writes a one-channel raw input back out as 3-channel sRGB: step by the channels it reports.
  const { data: up, info } = await sharp(camBytes, { raw: { width, height, channels: 1 } }).resize(W, H, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) out[i] = up[i * info.channels]!;
  return out;
}

/** How strongly a pixel is tinted: none where there is no evidence, fully from 2/3 of the maximum up. */
const tint = (v: number): number => Math.min(1, v * 1.5);

/** Writes the image with the map upsampled over it (PNG), for people reading files. */
export async function writeGradCamOverlay(imageFile: string, cam: Float32Array, height: number, width: number, outFile: string, alpha = 0.45): Promise<void> {
  const { data: img, info } = await sharp(imageFile).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const W = info.width;
  const H = info.height;
  const up = await upsampledMap(cam, height, width, W, H);
  const out = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const v = up[i]! / 255;
    const [r, g, b] = heatColour(v);
    const a = alpha * tint(v);
    out[i * 3] = img[i * 3]! * (1 - a) + r * a;
    out[i * 3 + 1] = img[i * 3 + 1]! * (1 - a) + g * a;
    out[i * 3 + 2] = img[i * 3 + 2]! * (1 - a) + b * a;
  }
  await sharp(out, { raw: { width: W, height: H, channels: 3 } }).png().toFile(outFile);
}

/**
 * Writes the heat map alone as an RGBA PNG of the image's size (transparent where there is no evidence), for a
 * viewer that lays it over the image with an opacity of its own.
 */
export async function writeGradCamHeat(imageFile: string, cam: Float32Array, height: number, width: number, outFile: string): Promise<void> {
  const meta = await sharp(imageFile).metadata();
  // Stored orientation, as the model saw the image (decodeResizedRgb does not rotate).
  const W = meta.width ?? width;
  const H = meta.height ?? height;
  const up = await upsampledMap(cam, height, width, W, H);
  const out = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    const v = up[i]! / 255;
    const [r, g, b] = heatColour(v);
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = Math.round(255 * tint(v));
  }
  await sharp(out, { raw: { width: W, height: H, channels: 4 } }).png().toFile(outFile);
}
