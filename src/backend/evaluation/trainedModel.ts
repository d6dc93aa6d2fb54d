/** A trained run, loaded for evaluation or prediction: its config, best checkpoint and preprocessing. */
import { promises as fs } from 'node:fs';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineChoice } from '../../shared/protocol/engines';
import { UserError } from '../errors';
import { detectEngines } from '../engines/detect';
import { initEngine } from '../engines/load';
import { selectEngine } from '../engines/select';
import type { PreprocessSpec } from '../models/preprocess';
import { preprocessFor } from '../models/preprocess';
import { loadCheckpoint } from '../training/checkpoint';
import { RunFolder } from '../training/runFolder';
import type { RunConfig } from '../../shared/runConfig';

export interface TrainedModel {
  run: RunFolder;
  config: RunConfig;
  model: tfl.LayersModel;
  preprocess: PreprocessSpec;
  /** Epoch of the checkpoint that was loaded. */
  epoch: number;
}

/**
 * `debug` receives the engine probe's driver messages (see detectEngines). `checkpoint`: the best one
 * (evaluation, prediction, export by default) or the last one written.
 */
export async function loadTrainedModel(runDir: string, engine: EngineChoice = 'auto', threads?: number, debug?: (message: string) => void, checkpoint: 'best' | 'last' = 'best'): Promise<TrainedModel> {
  const run = new RunFolder(runDir);
  let config: RunConfig;
  try {
    config = JSON.parse(await fs.readFile(run.config, 'utf8')) as RunConfig;
  } catch {
    throw new UserError(`${runDir} is not a Lesion Lab run folder (no readable config.json). Give the --run folder that \`lesion-lab train\` wrote.`);
  }
  await initEngine(selectEngine(await detectEngines(undefined, debug), engine).engine, { threads });
  const ckpt = await loadCheckpoint(checkpoint === 'best' ? run.bestCheckpoint : run.lastCheckpoint).catch(async (err: unknown) => {
    if (err instanceof UserError && /model\.json is missing/.test(err.message)) {
      throw new UserError(`${runDir} has no ${checkpoint} checkpoint yet: training has not finished an epoch. Train (or --resume) until at least one epoch completes.`);
    }
    throw err;
  });
  for (const w of ckpt.optimizer?.weights ?? []) w.tensor.dispose();
  return { run, config, model: ckpt.model, preprocess: preprocessFor(config.options.model), epoch: ckpt.state.epoch };
}
