/**
 * Checkpoints: the whole model, the optimizer's state and the training state, written as one
 * directory by temp-dir + rename, so a crash or cancel at any moment leaves the previous
 * checkpoint complete. `--resume` reads `last`; evaluation and prediction read `best`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { loadModelFromDir, saveModelAtomic } from '../models/fileIo';

export interface EarlyStoppingState {
  best: number;
  wait: number;
}

export interface TrainState {
  /** Epochs completed over the whole run. */
  epoch: number;
  phase: 'head' | 'finetune';
  /** Epochs completed in `phase`. */
  phaseEpoch: number;
  /** The phase ended (all epochs, or early stop). */
  phaseDone: boolean;
  /**
   * The best epoch so far. `score` is the monitored figure, higher is better (−val_loss for val_loss); absent in
   * checkpoints from before --monitor, whose runs picked by val_accuracy.
   */
  best: { valAccuracy: number; valBalancedAccuracy: number; epoch: number; score?: number };
  earlyValLoss: EarlyStoppingState;
  earlyValAccuracy: EarlyStoppingState;
}

const STATE = 'state.json';
const OPT_JSON = 'optimizer.json';
const OPT_BIN = 'optimizer.bin';

export async function saveCheckpoint(dir: string, model: tfl.LayersModel, optimizer: tf.Optimizer | undefined, state: TrainState): Promise<void> {
  const optimizerWeights = optimizer ? await optimizer.getWeights() : [];
  const encoded = optimizerWeights.length ? await tf.io.encodeWeights(optimizerWeights) : undefined;
  // getWeights() returns the optimizer's variables plus a fresh `iter` scalar: dispose what is not a variable.
  for (const w of optimizerWeights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  await saveModelAtomic(model, dir, {
    alongside: async (temp) => {
      if (encoded) {
        const data = Array.isArray(encoded.data) ? Buffer.concat(encoded.data.map((d) => Buffer.from(d))) : Buffer.from(encoded.data);
        await fs.writeFile(path.join(temp, OPT_BIN), data);
        await fs.writeFile(path.join(temp, OPT_JSON), JSON.stringify({ className: optimizer!.getClassName(), specs: encoded.specs }));
      }
      await fs.writeFile(path.join(temp, STATE), JSON.stringify(state, null, 2));
    },
  });
}

/** JSON writes ±Infinity as null: an early-stopping monitor that has seen no finite value yet comes back as it was. */
function restoreInfinities(state: TrainState): TrainState {
  const best = (v: number | null, none: number): number => (typeof v === 'number' ? v : none);
  return {
    ...state,
    best: (state.best.score as number | null | undefined) === null ? { ...state.best, score: -Infinity } : state.best,
    earlyValLoss: { ...state.earlyValLoss, best: best(state.earlyValLoss.best, Infinity) },
    earlyValAccuracy: { ...state.earlyValAccuracy, best: best(state.earlyValAccuracy.best, -Infinity) },
  };
}

export interface LoadedCheckpoint {
  model: tfl.LayersModel;
  state: TrainState;
  optimizer?: { className: string; weights: { name: string; tensor: tf.Tensor }[] };
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const { model, dir: actual } = await loadModelFromDir(dir);
  let state: TrainState;
  try {
    state = restoreInfinities(JSON.parse(await fs.readFile(path.join(actual, STATE), 'utf8')) as TrainState);
  } catch (err) {
    model.dispose();
    throw new UserError(`The checkpoint ${actual} has no readable state.json (${(err as Error).message}). It cannot be resumed; start a new run.`);
  }
  let optimizer: LoadedCheckpoint['optimizer'];
  try {
    const meta = JSON.parse(await fs.readFile(path.join(actual, OPT_JSON), 'utf8')) as { className: string; specs: tf.io.WeightsManifestEntry[] };
    const bin = await fs.readFile(path.join(actual, OPT_BIN));
    const decoded = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length), meta.specs);
    optimizer = { className: meta.className, weights: meta.specs.map((s) => ({ name: s.name, tensor: decoded[s.name]! })) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { model, state, optimizer };
}
