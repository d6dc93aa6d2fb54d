/**
 * `lesion-lab lr-find`: the learning-rate range test on the model a run would train (or a run's last
 * checkpoint), for one phase. The weights it trains are thrown away: nothing is written but the feature
 * cache the head phase shares with `train`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { LrFindOptions } from '../../shared/protocol/jobs';
import type { LrPoint } from '../../shared/lrFinder';
import { lrAt, smoothLosses, stopReason, suggestLearningRate } from '../../shared/lrFinder';
import { classLabelsOf } from '../../shared/classes';
import type { RunConfig } from '../../shared/runConfig';
import { UserError, throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { detectEngines } from '../engines/detect';
import { engineInfoForRun, initEngine } from '../engines/load';
import { selectEngine } from '../engines/select';
import { manifestClasses, readManifest } from '../dataset/manifest';
import { BACKEND_VERSION } from '../version';
import { loadCheckpoint } from './checkpoint';
import { splitImages } from './datasetImages';
import { RunFolder } from './runFolder';
import { withSeededMathRandom } from './seededRandom';
import { buildModel, resolveTrainOptions } from './train';
import { batchInputs, drawEpochOrder, setUpPhase } from './trainPhase';

type LrFindResult = Omit<Extract<BackendEvent, { type: 'lrFind/didFinish' }>, 'type'>;

export async function lrFind(options: LrFindOptions, ctx: JobContext): Promise<LrFindResult> {
  if (!(options.endLr > options.startLr)) throw new UserError(`--end-lr (${options.endLr}) must be above --start-lr (${options.startLr}).`);
  const config = await testConfig(options);
  return withSeededMathRandom(options.seed, () => rangeTest(options, config, ctx));
}

/** The run configuration the test trains under, held in memory only: a new run's, or the run's own. */
async function testConfig(o: LrFindOptions): Promise<RunConfig> {
  if (o.run) {
    const saved = JSON.parse(await fs.readFile(new RunFolder(path.resolve(o.run)).config, 'utf8').catch(() => {
      throw new UserError(`${o.run} is not a run folder (it has no config.json). Give a run written by \`lesion-lab train\`, or leave --run out to test a new model.`);
    })) as RunConfig;
    const prepared = o.prepared ? path.resolve(o.prepared) : saved.options.prepared;
    // The run's own model and sizes; the phase, batch and optimizer are the test's to choose.
    return { ...saved, options: { ...saved.options, prepared, augment: 'none', batch: o.batch, classWeights: o.classWeights, ...(o.optimizer ? { headOptimizer: o.optimizer, finetuneOptimizer: o.optimizer } : {}), ...(o.unfreezeFrom ? { unfreezeFrom: o.unfreezeFrom } : {}) } };
  }
  if (!o.prepared) throw new UserError('lr-find needs --prepared (the folder `lesion-lab prepare` wrote), or --run to start from a run’s last checkpoint.');
  const prepared = path.resolve(o.prepared);
  const classes = manifestClasses(await readManifest(prepared));
  const options = resolveTrainOptions({
    prepared,
    // Never written: the test has no run folder.
    run: path.join(prepared, '.lr-find'),
    model: o.model,
    alpha: o.alpha,
    weights: o.weights,
    phase: o.phase,
    epochs: 1,
    batch: o.batch,
    size: o.size,
    optimizer: o.optimizer,
    unfreezeFrom: o.unfreezeFrom,
    augment: 'none',
    engine: o.engine,
    threads: o.threads,
    resume: false,
    classWeights: o.classWeights,
    seed: o.seed,
  });
  return {
    version: 1,
    options,
    classes: classes.map((c) => c.name),
    classLabels: classLabelsOf(classes),
    createdAt: new Date().toISOString(),
    lesionLab: BACKEND_VERSION,
    node: process.version,
    dataset: { prepared, split: '', valFraction: 0, seed: 0, train: 0, val: 0, augmented: 0 },
  };
}

async function rangeTest(o: LrFindOptions, config: RunConfig, ctx: JobContext): Promise<LrFindResult> {
  const prepared = config.options.prepared;
  const manifest = await readManifest(prepared);
  const datasetClasses = manifestClasses(manifest).map((c) => c.name);
  if (datasetClasses.join('\n') !== config.classes.join('\n')) {
    throw new UserError(`${prepared} has the classes ${datasetClasses.join(', ')}, but the run's model was built for ${config.classes.join(', ')}. Give the prepared folder the run was trained on.`);
  }
  const { train: trainImages } = splitImages(manifest, prepared, config.classes);
  if (trainImages.length === 0) throw new UserError(`${prepared} has no training images. Prepare the dataset again.`);

  const engines = await detectEngines(undefined, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
  const selection = selectEngine(engines, o.engine);
  await initEngine(selection.engine, { threads: o.threads ?? config.options.threads });
  config.engine = { ...engineInfoForRun(), reason: selection.reason };
  ctx.emit({ type: 'log', level: 'info', message: `learning-rate range test on ${selection.engine}: ${o.phase} phase, ${o.steps} batches of ${config.options.batch}, learning rate ${o.startLr} → ${o.endLr}` });

  let model: tfl.LayersModel | undefined;
  try {
    model = o.run ? await runCheckpoint(o.run) : await buildModel(config.options, config.classes.length, ctx);
    // No checkpoint, no run folder: the phase trains this in-memory model only.
    const setup = await setUpPhase(o.phase, model, undefined, { config, run: new RunFolder(o.run ?? prepared), trainImages, valImages: [], ctx });
    const optimizer = setup.optimizer as unknown as { learningRate: number };
    const progress = new ProgressReporter(ctx.emit, 'learning-rate range test', o.steps, 'batch');
    const losses: (number | null)[] = [];
    const points: LrPoint[] = [];
    let best = Infinity;
    let stoppedBy: LrFindResult['stoppedBy'] = 'end';
    // As many epochs of shuffled batches as the steps need (a small dataset is gone through several times).
    outer: for (let pass = 1; ; pass++) {
      const order = drawEpochOrder(trainImages, o.seed, o.phase, pass, false);
      for await (const b of batchInputs(setup.split, trainImages, setup.features?.train, order, setup.pipeline, ctx.signal)) {
        const i = points.length;
        const lr = lrAt(i, o.steps, o.startLr, o.endLr);
        optimizer.learningRate = lr;
        const y = tf.tidy(() => tf.oneHot(tf.tensor1d(b.labels, 'int32'), setup.numClasses));
        let out: number | number[];
        try {
          out = await setup.split.trainable.trainOnBatch(b.x, y);
        } finally {
          b.x.dispose();
          y.dispose();
        }
        const raw = Array.isArray(out) ? out[0]! : out;
        const loss = Number.isFinite(raw) ? raw : null;
        losses.push(loss);
        const smoothed = smoothLosses(losses).at(-1) ?? null;
        points.push({ lr, loss, smoothed });
        progress.update(points.length);
        const stop = stopReason(loss, smoothed, best);
        if (smoothed !== null) best = Math.min(best, smoothed);
        throwIfCancelled(ctx.signal);
        if (stop) {
          stoppedBy = stop;
          break outer;
        }
        if (points.length >= o.steps) break outer;
      }
    }
    setup.split.trainable.optimizer?.dispose();
    const suggestion = suggestLearningRate(points);
    if (suggestion.suggested === undefined) {
      throw new UserError(
        stoppedBy === 'nan' && points.length <= 2
          ? `The loss was not a number from the first batches (at learning rate ${points[0]?.lr.toExponential(1)}): check the data and the weights, or try a lower --start-lr.`
          : `The loss never went down over ${points.length} batches from ${o.startLr} to ${points.at(-1)?.lr.toExponential(1)}: no learning rate to suggest. Try a wider range (--start-lr, --end-lr) or more --steps.`,
      );
    }
    return { phase: o.phase, optimizer: o.phase === 'head' ? config.options.headOptimizer : config.options.finetuneOptimizer, batch: config.options.batch, points, suggestion, stoppedBy };
  } finally {
    model?.dispose();
  }
}

/** The run's last checkpoint (its best where no last one was written), read only. */
async function runCheckpoint(run: string): Promise<tfl.LayersModel> {
  const folder = new RunFolder(path.resolve(run));
  for (const dir of [folder.lastCheckpoint, folder.bestCheckpoint]) {
    const loaded = await loadCheckpoint(dir).catch(() => undefined);
    if (loaded) {
      for (const w of loaded.optimizer?.weights ?? []) w.tensor.dispose();
      return loaded.model;
    }
  }
  throw new UserError(`${run} has no checkpoint yet. Train it for an epoch first, or leave --run out to test a new model.`);
}
