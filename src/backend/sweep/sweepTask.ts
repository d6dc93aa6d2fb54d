/**
 * One task of a sweep, as every executor runs it (`lesion-lab sweep-task --sweep DIR --index I`): train the task's
 * run — new, or `--resume` when its folder holds a run that did not finish (pre-empted, timed out, cancelled,
 * crashed) — then keep the best checkpoint's validation predictions for the summary. A finished task is skipped,
 * so a task may be run again at any time. The last task to finish writes the sweep's summary.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseOptions } from '../args';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { readManifest } from '../dataset/manifest';
import { imageProbabilities } from '../evaluation/imageProbabilities';
import { loadTrainedModel } from '../evaluation/trainedModel';
import { runSplitImages } from '../training/datasetImages';
import { train } from '../training/train';
import { TRAIN_OPTIONS, trainOptionsFromArgs } from '../trainCommand';
import { VAL_PREDICTIONS_FILE, readRunProgress } from './runProgress';
import { SweepFolder, readPlan } from './sweepFolder';
import { writeSummaryIfComplete } from './sweepSummary';

/** `<run>/val-predictions.json`: the best checkpoint's probabilities for each of the run's validation images. */
export interface ValPredictions {
  classes: string[];
  checkpointEpoch: number;
  /** Paths relative to the prepared folder; labels index `classes`. */
  images: { file: string; label: number; probabilities: number[] }[];
}

export async function runSweepTask(options: { sweep: string; index: number }, ctx: JobContext): Promise<void> {
  const folder = new SweepFolder(path.resolve(options.sweep));
  const plan = await readPlan(folder.dir);
  const task = plan.tasks[options.index];
  if (!task) throw new UserError(`${folder.dir} has tasks 0 to ${plan.tasks.length - 1}; there is no task ${options.index}.`);
  const runDir = folder.runDir(task);
  const before = await readRunProgress(runDir);
  if (before.status !== 'finished') {
    const started = await fs.access(path.join(runDir, 'config.json')).then(
      () => true,
      () => false,
    );
    const argv = started ? ['--run', runDir, '--resume'] : [...task.args, '--prepared', plan.prepared, '--run', runDir];
    // Which GPU a local executor's slot gave the task (one run per GPU), or Slurm's allocation.
    const gpu = process.env.CUDA_VISIBLE_DEVICES !== undefined ? ` (CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES})` : '';
    ctx.emit({ type: 'log', level: 'info', message: `task ${task.index} (${task.name}): ${started ? 'resuming' : 'starting'} the run in ${runDir}${gpu}` });
    await train(trainOptionsFromArgs(parseOptions('train', argv, TRAIN_OPTIONS)), ctx);
  } else {
    ctx.emit({ type: 'log', level: 'info', message: `task ${task.index} (${task.name}): the run has finished already` });
  }
  if (before.status !== 'finished' || !before.predicted) await writeValPredictions(runDir, ctx);
  await writeSummaryIfComplete(folder, plan);
}

/** Predicts the run's validation images (its fold's, for a cross-validation run) with its best checkpoint. */
export async function writeValPredictions(runDir: string, ctx: JobContext): Promise<void> {
  const trained = await loadTrainedModel(runDir, undefined, undefined, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
  const { config, model } = trained;
  try {
    const prepared = config.options.prepared;
    const images = runSplitImages(await readManifest(prepared), prepared, config).val.filter((i) => i.label >= 0);
    const progress = new ProgressReporter(ctx.emit, 'validation predictions', images.length, 'image');
    const k = config.classes.length;
    const probs = await imageProbabilities((x) => model.predict(x) as never, images, k, { size: config.options.size, preprocess: trained.preprocess, batchSize: config.options.batch }, ctx.signal, (done) => progress.update(done));
    const out: ValPredictions = {
      classes: config.classes,
      checkpointEpoch: trained.epoch,
      images: images.map((img, i) => ({ file: path.relative(prepared, img.file).split(path.sep).join('/'), label: img.label, probabilities: Array.from(probs.subarray(i * k, (i + 1) * k), (p) => Number(p.toPrecision(6))) })),
    };
    await writeJsonAtomic(path.join(runDir, VAL_PREDICTIONS_FILE), out);
  } finally {
    model.dispose();
  }
}
