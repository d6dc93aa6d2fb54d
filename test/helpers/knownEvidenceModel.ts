/**
 * A classifier with the reference head's layer names whose class evidence is known by construction, for
 * Grad-CAM tests: feature channel 0 = ReLU(mean brightness of a 4×4 tile), channel 1 = ReLU(−mean brightness),
 * both passed through a 1×1 conv unchanged; class 1 reads channel 0 (bright), class 0 reads channel 1 (dark).
 * Inputs are MobileNetV2-preprocessed (x / 127.5 − 1), so black is −1 and white +1. The first conv has a
 * 4×4 kernel with stride 4, so a 32 px input gives an 8×8 feature map and each cell sees one tile.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { HEAD_LAYERS } from '../../src/backend/models/backbone';
import { saveCheckpoint } from '../../src/backend/training/checkpoint';

export const KNOWN_EVIDENCE = { SIZE: 32, STRIDE: 4 } as const;

/** `logitScale` multiplies the last layer: 1000 saturates the softmax. */
export function brightSquareClassifier(logitScale = 1): tfl.LayersModel {
  const { SIZE, STRIDE } = KNOWN_EVIDENCE;
  const input = tfl.input({ shape: [SIZE, SIZE, 3] });
  const tile = tfl.layers.conv2d({ name: 'tile_conv', filters: 2, kernelSize: STRIDE, strides: STRIDE, activation: 'relu' });
  const mix = tfl.layers.conv2d({ name: 'mix_conv', filters: 2, kernelSize: 1, activation: 'relu' });
  let x = tile.apply(input) as tfl.SymbolicTensor;
  x = mix.apply(x) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: HEAD_LAYERS.pooling });
  const dense = tfl.layers.dense({ name: HEAD_LAYERS.dense, units: 2, activation: 'relu' });
  const dropout = tfl.layers.dropout({ name: HEAD_LAYERS.dropout, rate: 0.25 });
  const predictions = tfl.layers.dense({ name: HEAD_LAYERS.predictions, units: 2, activation: 'softmax' });
  const out = predictions.apply(dropout.apply(dense.apply(gap.apply(x)))) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });

  const n = STRIDE * STRIDE * 3;
  const tileKernel = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    tileKernel[i * 2] = 1 / n; // channel 0: mean brightness
    tileKernel[i * 2 + 1] = -1 / n; // channel 1: mean darkness
  }
  tile.setWeights([tf.tensor4d(tileKernel, [STRIDE, STRIDE, 3, 2]), tf.zeros([2])]);
  mix.setWeights([tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]), tf.zeros([2])]);
  dense.setWeights([tf.tensor2d([1, 0, 0, 1], [2, 2]), tf.zeros([2])]);
  // logit(class 0) = 2 · darkness, logit(class 1) = 2 · brightness.
  predictions.setWeights([tf.tensor2d([0, 2 * logitScale, 2 * logitScale, 0], [2, 2]), tf.zeros([2])]);
  return model;
}

/** A black image with a white square of side `side` whose top-left corner is at (left, top). */
export async function writeSquareImage(file: string, width: number, height: number, left: number, top: number, side: number): Promise<void> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = top; y < top + side; y++) for (let x = left; x < left + side; x++) rgb.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toFile(file);
}

/**
 * A run folder (config.json, metrics.jsonl, checkpoints/best) holding the bright-square classifier, as
 * `lesion-lab train` would lay it out: for tests that run predict on a model whose evidence is known.
 * Run as a script (`npx tsx test/helpers/knownEvidenceModel.ts RUN PREPARED [SQUARE.png]`) for the e2e suite.
 */
export async function writeKnownEvidenceRun(runDir: string, prepared: string): Promise<void> {
  if (tf.getBackend() !== 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  }
  const model = brightSquareClassifier();
  const epoch = { phase: 'head', epoch: 1, loss: 0.1, accuracy: 1, valLoss: 0.1, valAccuracy: 1, valBalancedAccuracy: 1, valBalancedAccuracyCi: { low: 1, high: 1 }, lr: 0, seconds: 0, finishedAt: new Date(0).toISOString() };
  await saveCheckpoint(path.join(runDir, 'checkpoints', 'best'), model, undefined, {
    epoch: 1, phase: 'head', phaseEpoch: 1, phaseDone: true,
    best: { valAccuracy: 1, valBalancedAccuracy: 1, epoch: 1, score: 1 },
    earlyValLoss: { best: 0.1, wait: 0 }, earlyValAccuracy: { best: 1, wait: 0 },
  });
  model.dispose();
  const config = {
    version: 1,
    options: { model: 'mobilenetv2', size: KNOWN_EVIDENCE.SIZE, batch: 1, prepared, run: runDir, monitor: 'val_bal_acc', weights: 'none', phase: 'head', epochs: 1 },
    classes: ['dark', 'bright'],
    createdAt: new Date(0).toISOString(),
    lesionLab: 'test fixture',
    node: process.version,
    dataset: { prepared, split: 'lesion', valFraction: 0.2, seed: 1, train: 1, val: 1, augmented: 0, synthetic: true },
  };
  await fs.writeFile(path.join(runDir, 'config.json'), JSON.stringify(config, null, 2));
  await fs.writeFile(path.join(runDir, 'metrics.jsonl'), `${JSON.stringify(epoch)}\n`);
  await fs.writeFile(path.join(runDir, 'status.json'), JSON.stringify({ status: 'finished', epochs: 1, bestEpoch: 1 }));
}

if (require.main === module) {
  const [runDir, prepared, image] = process.argv.slice(2);
  if (!runDir || !prepared) throw new Error('usage: tsx test/helpers/knownEvidenceModel.ts RUN PREPARED [SQUARE.png]');
  void (async () => {
    await writeKnownEvidenceRun(path.resolve(runDir), path.resolve(prepared));
    // A white square over most of a black 40×40 image: "bright" wins, and its evidence is the square.
    if (image) await writeSquareImage(path.resolve(image), 40, 40, 0, 0, 32);
  })();
}
