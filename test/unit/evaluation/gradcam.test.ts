import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { HEAD_LAYERS } from '../../../src/backend/models/backbone';
import { KNOWN_EVIDENCE, brightSquareClassifier, writeSquareImage } from '../../helpers/knownEvidenceModel';
import { preprocessFor, preprocessPixelsInto } from '../../../src/backend/models/preprocess';
import { describeFlatMap, gradCam, gradCamModel, writeGradCamHeat, writeGradCamOverlay } from '../../../src/backend/evaluation/gradcam';
import { decodeResizedRgb } from '../../../src/backend/training/imagePipeline';

const { SIZE, STRIDE } = KNOWN_EVIDENCE;

async function preprocessed(file: string): Promise<tf.Tensor4D> {
  const rgb = await decodeResizedRgb(file, SIZE);
  const x = new Float32Array(SIZE * SIZE * 3);
  preprocessPixelsInto(preprocessFor('mobilenetv2'), rgb, x);
  return tf.tensor4d(x, [1, SIZE, SIZE, 3]);
}

/** Share of the map's mass in each quadrant: top-left, top-right, bottom-left, bottom-right. */
function quadrantShares(cam: Float32Array, height: number, width: number): { tl: number; tr: number; bl: number; br: number } {
  const q = { tl: 0, tr: 0, bl: 0, br: 0 };
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = cam[y * width + x]!;
      total += v;
      const key = y < height / 2 ? (x < width / 2 ? 'tl' : 'tr') : x < width / 2 ? 'bl' : 'br';
      q[key] += v;
    }
  }
  assert.ok(total > 0, 'the map is empty');
  return { tl: q.tl / total, tr: q.tr / total, bl: q.bl / total, br: q.br / total };
}

describe('Grad-CAM on a model whose evidence is known', function () {
  this.timeout(30_000);
  let dir: string;
  let model: tfl.LayersModel;

  before(async () => {
    await tf.setBackend('cpu');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-gradcam-'));
    model = brightSquareClassifier();
    await writeSquareImage(path.join(dir, 'top-left.png'), SIZE, SIZE, 4, 4, 8);
    await writeSquareImage(path.join(dir, 'bottom-right.png'), SIZE, SIZE, 20, 20, 8);
  });

  after(async () => {
    model.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('splits at head_gap: the map is the last conv output (8×8)', async () => {
    const m = gradCamModel(model);
    assert.deepEqual(m.features.outputs[0]!.shape, [null, SIZE / STRIDE, SIZE / STRIDE, 2]);
    const x = await preprocessed(path.join(dir, 'top-left.png'));
    const { height, width, cam } = await gradCam(m, x, 1);
    assert.equal(height, SIZE / STRIDE);
    assert.equal(width, SIZE / STRIDE);
    assert.equal(cam.length, height * width);
    assert.ok(Math.max(...cam) <= 1 + 1e-6 && Math.min(...cam) >= 0, 'values are normalised to [0, 1]');
    assert.ok(Math.abs(Math.max(...cam) - 1) < 1e-6, 'the strongest cell is 1');
    x.dispose();
  });

  it('puts the evidence for "bright square" on the square, and follows it when it moves', async () => {
    const m = gradCamModel(model);
    const before = tf.memory().numTensors;
    const tl = await preprocessed(path.join(dir, 'top-left.png'));
    const br = await preprocessed(path.join(dir, 'bottom-right.png'));
    // The model decides as built: the square raises P(class 1) above an all-black image's.
    const black = tf.fill([1, SIZE, SIZE, 3], -1) as tf.Tensor4D;
    const p = tf.tidy(() => (model.predict(tf.concat([tl, black])) as tf.Tensor).arraySync() as number[][]);
    assert.ok(p[0]![1]! > p[1]![1]!, `P(bright | square) ${p[0]![1]} should exceed P(bright | black) ${p[1]![1]}`);

    const atTl = await gradCam(m, tl, 1);
    const sharesTl = quadrantShares(atTl.cam, atTl.height, atTl.width);
    assert.ok(sharesTl.tl > 0.7, `top-left share ${sharesTl.tl.toFixed(3)} (${JSON.stringify(sharesTl)})`);
    // The square covers feature cells rows/cols 1–2 exactly: the peak is there.
    const peak = atTl.cam.indexOf(Math.max(...atTl.cam));
    assert.ok([1, 2].includes(Math.floor(peak / atTl.width)) && [1, 2].includes(peak % atTl.width), `peak at cell ${peak}`);

    const atBr = await gradCam(m, br, 1);
    const sharesBr = quadrantShares(atBr.cam, atBr.height, atBr.width);
    assert.ok(sharesBr.br > 0.7, `bottom-right share ${sharesBr.br.toFixed(3)} (${JSON.stringify(sharesBr)})`);
    assert.ok(sharesBr.tl < 0.1, `top-left share after the move ${sharesBr.tl.toFixed(3)}`);

    // Class 0's evidence is darkness: everywhere except the square.
    const dark = await gradCam(m, tl, 0);
    const squareCells = [9, 10, 17, 18]; // rows/cols 1–2 of the 8×8 map
    const onSquare = squareCells.reduce((s, i) => s + dark.cam[i]!, 0);
    const total = dark.cam.reduce((s, v) => s + v, 0);
    assert.ok(onSquare / total < 0.02, `class 0 should find no evidence on the bright square (share ${(onSquare / total).toFixed(3)})`);

    tf.dispose([tl, br, black]);
    assert.equal(tf.memory().numTensors, before, 'gradCam leaks no tensors');
  });

  it('differentiates the pre-softmax score: a saturated model (P = 1.0000) still shows its evidence', async () => {
    // Logits 1,000× larger: the softmax says class 0 with probability exactly 1 in float32, so the
    // probability of class 1 has a zero gradient everywhere; its logit does not.
    const saturated = brightSquareClassifier(1000);
    const tl = await preprocessed(path.join(dir, 'top-left.png'));
    const p = tf.tidy(() => (saturated.predict(tl) as tf.Tensor).arraySync() as number[][]);
    assert.equal(p[0]![0], 1, `saturated: ${JSON.stringify(p)}`);
    const probabilityGrad = tf.tidy(() => {
      const m = gradCamModel(saturated);
      const fm = m.features.predict(tl) as tf.Tensor;
      const g = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(m.head.apply(f) as tf.Tensor, tf.tensor2d([[0, 1]]))))(fm);
      return tf.max(tf.abs(g)).arraySync() as number;
    });
    assert.equal(probabilityGrad, 0, 'the softmax probability’s gradient has vanished');
    const map = await gradCam(gradCamModel(saturated), tl, 1);
    assert.equal(map.flat, undefined);
    const shares = quadrantShares(map.cam, map.height, map.width);
    assert.ok(shares.tl > 0.7, `top-left share ${shares.tl.toFixed(3)}`);
    tl.dispose();
    saturated.dispose();
  });

  it('reports a flat map instead of drawing one: zero gradients, no region raising the score, or the same everywhere', async () => {
    const dead = brightSquareClassifier();
    dead.getLayer(HEAD_LAYERS.predictions).setWeights([tf.zeros([2, 2]), tf.tensor1d([0.3, -0.3])]);
    const tl = await preprocessed(path.join(dir, 'top-left.png'));
    const zero = await gradCam(gradCamModel(dead), tl, 1);
    assert.equal(zero.flat, 'zero-gradients');
    assert.ok(zero.cam.every((v) => v === 0));
    assert.match(describeFlatMap('zero-gradients', 'mel'), /^no evidence map: the gradients are zero/);
    // Class 0 reads darkness with a negative weight: every region lowers its score, none raises it.
    const negative = brightSquareClassifier();
    negative.getLayer(HEAD_LAYERS.predictions).setWeights([tf.tensor2d([0, 2, -2, 0], [2, 2]), tf.zeros([2])]);
    const none = await gradCam(gradCamModel(negative), tl, 0);
    assert.equal(none.flat, 'no-positive-evidence');
    assert.match(describeFlatMap('no-positive-evidence', 'bcc'), /no region of the image raises the score of bcc/);
    // A map whose cells are all the same says nothing about where: a uniform grey image gives one.
    const grey = tf.fill([1, SIZE, SIZE, 3], 0.5) as tf.Tensor4D;
    const even = await gradCam(gradCamModel(model), grey, 1);
    assert.equal(even.flat, 'uniform');
    assert.match(describeFlatMap('uniform', 'nv', { height: 1, width: 1 }), /last feature map is 1×1 at this input size/);
    assert.match(describeFlatMap('uniform', 'nv', { height: 8, width: 8 }), /spread evenly over the whole image/);
    tf.dispose([tl, grey]);
    dead.dispose();
    negative.dispose();
  });

  it('writes the heat map alone as RGBA: transparent where there is no evidence, for the panel’s opacity control', async () => {
    const source = path.join(dir, 'wide-heat.png');
    await writeSquareImage(source, 60, 40, 6, 4, 14);
    const x = await preprocessed(source);
    const { cam, height, width } = await gradCam(gradCamModel(model), x, 1);
    x.dispose();
    const out = path.join(dir, 'heat.png');
    await writeGradCamHeat(source, cam, height, width, out);
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [60, 40, 4]);
    const alpha = (px: number, py: number): number => data[(py * 60 + px) * 4 + 3]!;
    assert.ok(alpha(12, 10) > 200, `opaque on the evidence (alpha ${alpha(12, 10)})`);
    assert.equal(alpha(55, 36), 0, 'transparent in the cold corner');
  });

  it('writes an overlay PNG of the source image’s size, hot where the map is', async () => {
    // A non-square source, so swapped width/height would show.
    const source = path.join(dir, 'wide.png');
    await writeSquareImage(source, 60, 40, 6, 4, 14);
    const x = await preprocessed(source);
    const { cam, height, width } = await gradCam(gradCamModel(model), x, 1);
    x.dispose();
    const out = path.join(dir, 'overlay.png');
    await writeGradCamOverlay(source, cam, height, width, out);
    const meta = await sharp(out).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 60);
    assert.equal(meta.height, 40);
    // The overlay tints the hot region and leaves the far corner as it was.
    const [src, ovl] = await Promise.all([sharp(source).removeAlpha().raw().toBuffer(), sharp(out).removeAlpha().raw().toBuffer()]);
    const change = (px: number, py: number): number => {
      const i = (py * 60 + px) * 3;
      return Math.abs(ovl[i]! - src[i]!) + Math.abs(ovl[i + 1]! - src[i + 1]!) + Math.abs(ovl[i + 2]! - src[i + 2]!);
    };
    assert.ok(change(12, 10) > 30, `the hot region is tinted (change ${change(12, 10)})`);
    assert.equal(change(55, 36), 0, 'the cold corner is unchanged');
    assert.equal(change(12, 30), 0, 'below the square (same column, cold rows) is unchanged');
  });
});
