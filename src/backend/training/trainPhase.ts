/**
 * One phase of a run (head, or fine-tune), as named steps: set the phase up (split the model, compile,
 * restore the optimizer, cache the frozen part's features), then per epoch draw the batch order, train
 * one epoch, validate, record the metrics, and let the Keras callbacks decide (checkpoint, early stop).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineName } from '../../shared/protocol/engines';
import type { BatchMetrics, EpochMetrics } from '../../shared/protocol/results';
import { runMonitor } from '../../shared/runConfig';
import type { Interval } from '../../shared/trust';
import { createRng, deriveSeed, shuffle } from '../../shared/random';
import type { ResolvedTrainOptions, RunConfig } from '../../shared/runConfig';
import { UserError, throwIfCancelled } from '../errors';
import { crashPoint } from '../crashPoints';
import { writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { checkEngineHealth, injectGpuFaultFor } from '../engines/load';
import { createOptimizer, restoreAdamPowers } from '../engines/webgpu/fusedOptimizers';
import { HEAD_LAYERS, findUnfreezeIndex } from '../models/backbone';
import { preprocessFor } from '../models/preprocess';
import { KERAS_REFERENCE_RANGES } from '../augment/kerasAffine';
import { classBalancedSampler, takeSamples } from '../augment/online';
import { accuracyOf, argmaxRows, balancedAccuracyOf, confusionMatrix, crossEntropy } from '../evaluation/metrics';
import { bootstrapIntervals } from '../evaluation/bootstrap';
import type { TrainState } from './checkpoint';
import { saveCheckpoint } from './checkpoint';
import { decideAfterEpoch } from './earlyStopping';
import { monitoredValue } from '../../shared/modelEvidence';
import type { EpochDecision } from './earlyStopping';
import { computeFeatures } from './featureCache';
import type { LabeledImage, OnlineAugmentation, PipelineOptions } from './imagePipeline';
import { imageBatches } from './imagePipeline';
import { splitModelAt } from './modelSplit';
import type { SplitModel } from './modelSplit';
import type { RunFolder } from './runFolder';
import { reseedMathRandom } from './seededRandom';
import { traceBatch } from './batchTrace';
import { warmupLr } from '../../shared/lrSchedule';

export type Phase = 'head' | 'finetune';

export interface PhaseContext {
  config: RunConfig;
  run: RunFolder;
  trainImages: LabeledImage[];
  valImages: LabeledImage[];
  ctx: JobContext;
  /** Where each training batch is recorded (batches.jsonl); absent where nothing is recorded. */
  batchLog?: { append(b: BatchMetrics): void; flush(): Promise<void> };
}

/** Everything a phase's epochs train with, set up once per phase. */
export interface PhaseSetup {
  phase: Phase;
  /** Epochs in this phase. */
  epochs: number;
  lr: number;
  /** Epochs over which the rate rises linearly to `lr` (0: none). */
  warmupEpochs: number;
  numClasses: number;
  split: SplitModel;
  optimizer: tf.Optimizer;
  pipeline: PipelineOptions;
  augment?: OnlineAugmentation;
  /** The frozen part's outputs, when they are cached (frozen part, no online augmentation). */
  features?: { train: Float32Array; val: Float32Array };
}

/** One batch for the trainable part; `x` is the caller's to dispose. */
export interface BatchInputs {
  x: tf.Tensor;
  labels: Int32Array;
  indices: number[];
}

export interface EpochFit {
  loss: number;
  accuracy: number;
  /** The learning rate of the epoch's last step. */
  lr: number;
}

export interface Validation {
  loss: number;
  accuracy: number;
  balancedAccuracy: number;
  /** Bootstrap 95% interval of balancedAccuracy: 70 validation images cannot pin it down to a point. */
  balancedAccuracyCi: Interval;
}

/** Trains `phase` from `state` to the phase's end (all epochs, or an early stop); returns the state after it. */
export async function runPhase(phase: Phase, model: tfl.LayersModel, state: TrainState, optimizerWeights: { name: string; tensor: tf.Tensor }[] | undefined, p: PhaseContext): Promise<TrainState> {
  const setup = await setUpPhase(phase, model, optimizerWeights, p);
  for (let epoch = state.phaseEpoch + 1; epoch <= setup.epochs; epoch++) {
    const started = Date.now();
    const globalEpoch = state.epoch + 1;
    const order = drawEpochOrder(p.trainImages, p.config.options.seed, phase, epoch, setup.augment !== undefined);
    // Dropout masks from the epoch's own stream, so a resumed epoch draws the same ones.
    reseedMathRandom(p.config.options.seed, phase, epoch);
    const fit = await trainEpoch(setup, order, epoch, globalEpoch, started, p);
    await p.batchLog?.flush();
    const val = await validate(setup, p.valImages, setup.features?.val, p.ctx.signal);
    await checkEngineHealth(); // nothing the GPU got wrong may reach the metrics or a checkpoint
    const metrics: EpochMetrics = {
      phase,
      epoch: globalEpoch,
      loss: fit.loss,
      accuracy: fit.accuracy,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      valBalancedAccuracy: val.balancedAccuracy,
      valBalancedAccuracyCi: val.balancedAccuracyCi,
      lr: fit.lr,
      seconds: (Date.now() - started) / 1000,
      finishedAt: new Date().toISOString(),
      step: globalEpoch * batchesPerEpoch(p.trainImages.length, setup.pipeline.batchSize),
    };
    await p.run.appendMetrics(metrics);
    await recordEpochEngine(p, globalEpoch);
    p.ctx.emit({ type: 'train/didEpoch', run: p.run.dir, metrics, tensors: tf.memory().numTensors });
    const decision = decideAfterEpoch(state, metrics, epoch, setup.epochs, runMonitor(p.config), p.config.options.earlyStoppingStart ?? 0);
    await saveEpochCheckpoints(model, setup.optimizer, decision, metrics, p);
    state = decision.next;
    if (decision.stopBy) {
      p.ctx.emit({ type: 'train/didStopEarly', epoch: globalEpoch, ...decision.stopBy });
      break;
    }
  }
  setup.split.trainable.optimizer?.dispose();
  return { ...state, phaseDone: true };
}

/** config.json › epochEngines: which engine and precision trained this epoch (the session's, from config.engine). */
async function recordEpochEngine(p: PhaseContext, epoch: number): Promise<void> {
  const { config } = p;
  const engine = config.engine!;
  const entry = { epoch, engine: engine.engine, precision: engine.precision, session: Math.max(0, (config.sessions?.length ?? 1) - 1) };
  config.epochEngines = [...(config.epochEngines ?? []).filter((e) => e.epoch !== epoch), entry];
  await writeJsonAtomic(p.run.config, config);
}

/** Where training starts in this phase: the head's first Dense, or the unfreeze point. */
function phaseStartIndex(model: tfl.LayersModel, phase: Phase, o: ResolvedTrainOptions): number {
  if (phase === 'head') return model.layers.findIndex((l) => l.name === HEAD_LAYERS.dense);
  return findUnfreezeIndex(model, o.unfreezeFrom);
}

/** Splits the model at the phase's start, compiles the trainable part, restores optimizer slots, caches features. */
export async function setUpPhase(phase: Phase, model: tfl.LayersModel, optimizerWeights: { name: string; tensor: tf.Tensor }[] | undefined, p: PhaseContext): Promise<PhaseSetup> {
  const { config, trainImages, ctx } = p;
  const o = config.options;
  const numClasses = config.classes.length;
  const epochs = phase === 'head' ? o.epochs : o.finetuneEpochs;
  const lr = phase === 'head' ? o.lr : o.finetuneLr;
  const start = phaseStartIndex(model, phase, o);
  if (phase === 'finetune') config.finetuneFrom = model.layers[start]!.name;
  const split = splitModelAt(model, start);
  const optimizer = makeOptimizer(phase === 'head' ? o.headOptimizer : o.finetuneOptimizer, lr, config.engine?.engine ?? 'cpu');
  const trainLabels = Int32Array.from(trainImages, (i) => i.label);
  const weights = o.classWeights ? balancedClassWeights(trainLabels, numClasses) : undefined;
  split.trainable.compile({ optimizer, loss: lossFunction(weights), metrics: ['accuracy'] });
  if (optimizerWeights?.length) {
    // Restores the moment/accumulator slots (matched by position, so the same model is required).
    await optimizer.setWeights(optimizerWeights);
    restoreAdamPowers(optimizer);
  }
  const trainableCount = split.trainable.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  ctx.emit({
    type: 'log',
    level: 'info',
    message: `${phase} phase: training ${split.trainable.layers.length - 1} layers (${trainableCount.toLocaleString('en')} parameters) from ${model.layers[start]!.name}, ${optimizer.getClassName()} lr ${lr}${o.warmupEpochs ? ` (linear warm-up over ${o.warmupEpochs} epochs)` : ''}, ${epochs} epochs`,
  });
  const pipeline: PipelineOptions = { size: o.size, preprocess: preprocessFor(o.model), batchSize: o.batch };
  const augment: OnlineAugmentation | undefined = o.augment === 'online' ? { seed: o.seed, ranges: { ...KERAS_REFERENCE_RANGES }, fill: 'nearest' } : undefined;
  const features = await cacheFrozenFeatures(split, pipeline, augment, p);
  return { phase, epochs, lr, warmupEpochs: o.warmupEpochs ?? 0, numClasses, split, optimizer, pipeline, augment, features };
}

/** The frozen part's output never changes, so compute it once — unless online augmentation changes the input every epoch. */
async function cacheFrozenFeatures(split: SplitModel, pipeline: PipelineOptions, augment: OnlineAugmentation | undefined, p: PhaseContext): Promise<PhaseSetup['features']> {
  const { ctx } = p;
  if (split.frozen && augment) {
    ctx.emit({ type: 'log', level: 'info', message: 'feature cache off: online augmentation changes the backbone input every epoch' });
    return undefined;
  }
  if (split.frozen === null || split.cutShape.length !== 1) return undefined;
  const cacheDir = path.join(p.config.options.prepared, '.cache', 'features');
  const t0 = Date.now();
  const engine = p.config.engine!;
  const numerics = { engine: engine.engine, precision: engine.precision };
  const tr = await computeFeatures(split.frozen, p.trainImages, pipeline, numerics, cacheDir, 'backbone features (train)', ctx);
  const va = await computeFeatures(split.frozen, p.valImages, pipeline, numerics, cacheDir, 'backbone features (val)', ctx);
  ctx.emit({ type: 'log', level: 'info', message: `feature cache: ${tr.fromCache && va.fromCache ? 'reused' : 'computed'} ${tr.count + va.count} × ${tr.dim} features in ${((Date.now() - t0) / 1000).toFixed(1)} s` });
  return { train: tr.data, val: va.data };
}

/**
 * The order of the training images in one epoch, from the run's seed, the phase and the epoch alone (so a
 * resumed epoch draws the same order). Online augmentation draws class-balanced epochs (each class equally
 * often, minority images repeated under different transforms); otherwise every image once, shuffled.
 */
export function drawEpochOrder(trainImages: readonly LabeledImage[], seed: number, phase: Phase, phaseEpoch: number, classBalanced: boolean): number[] {
  const epochRng = createRng(deriveSeed(seed, phase, phaseEpoch));
  return classBalanced
    ? takeSamples(classBalancedSampler(trainImages.map((img, i) => ({ dx: String(img.label), file: img.file, i })), epochRng), trainImages.length).map((x) => x.i)
    : shuffle(epochRng, trainImages.map((_, i) => i));
}

/** Batches of inputs for the trainable part: cached features, or images through the frozen part. */
export async function* batchInputs(split: SplitModel, images: readonly LabeledImage[], features: Float32Array | undefined, order: readonly number[], opts: PipelineOptions, signal: AbortSignal): AsyncGenerator<BatchInputs> {
  if (features) {
    const dim = split.cutShape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < order.length; i += opts.batchSize) {
      throwIfCancelled(signal);
      const idx = order.slice(i, i + opts.batchSize);
      const buf = new Float32Array(idx.length * dim);
      idx.forEach((k, j) => buf.set(features.subarray(k * dim, (k + 1) * dim), j * dim));
      yield { x: tf.tensor(buf, [idx.length, ...split.cutShape]), labels: Int32Array.from(idx, (k) => images[k]!.label), indices: idx };
      // Cached batches involve no I/O: yield to the event loop so a cancel message is seen.
      await new Promise((r) => setImmediate(r));
    }
    return;
  }
  for await (const b of imageBatches(images, order, opts, signal)) {
    const x = tf.tidy(() => {
      const img = tf.tensor4d(b.x, [b.count, opts.size, opts.size, 3]);
      return split.frozen ? (split.frozen.predict(img) as tf.Tensor) : img;
    });
    yield { x, labels: b.labels, indices: b.indices };
  }
}

/** Every epoch draws as many images as the training set has (class-balanced ones too), so every epoch has as many batches. */
export function batchesPerEpoch(images: number, batchSize: number): number {
  return Math.ceil(images / batchSize);
}

/** One pass over `order`, a step per batch, reporting progress; stops within a batch when cancelled. */
export async function trainEpoch(setup: PhaseSetup, order: readonly number[], phaseEpoch: number, globalEpoch: number, started: number, p: PhaseContext): Promise<EpochFit> {
  const { ctx } = p;
  const batchSize = setup.pipeline.batchSize;
  const batches = batchesPerEpoch(order.length, batchSize);
  const progress = new ProgressReporter(ctx.emit, `${setup.phase} epoch ${phaseEpoch}/${setup.epochs}`, batches, 'batch');
  let seen = 0;
  let lossSum = 0;
  let accSum = 0;
  let batch = 0;
  let lr = setup.lr;
  let lastBatchEvent = 0;
  // The batches since the last event: the live curves get every batch, in events at most four a second.
  let points: BatchMetrics[] = [];
  for await (const b of batchInputs(setup.split, p.trainImages, setup.features?.train, order, { ...setup.pipeline, augment: setup.augment, epoch: globalEpoch }, ctx.signal)) {
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(b.labels, 'int32'), setup.numClasses));
    let out: number | number[];
    lr = warmupLr(setup.lr, (phaseEpoch - 1) * batches + batch + 1, setup.warmupEpochs * batches);
    setLearningRate(setup.optimizer, lr);
    try {
      await traceBatch((globalEpoch - 1) * batches + batch + 1, b.indices, b.x);
      if (batch === 0) injectGpuFaultFor(globalEpoch);
      out = await setup.split.trainable.trainOnBatch(b.x, y);
      // A GPU failure does not throw; stop here, before a checkpoint could save what it left behind.
      await checkEngineHealth();
    } finally {
      b.x.dispose();
      y.dispose();
    }
    const [loss, acc] = Array.isArray(out) ? out : [out, Number.NaN];
    lossSum += loss! * b.labels.length;
    accSum += acc! * b.labels.length;
    seen += b.labels.length;
    batch++;
    const point: BatchMetrics = { phase: setup.phase, epoch: globalEpoch, batch, batches, step: (globalEpoch - 1) * batches + batch, loss: finiteOrNull(loss!), accuracy: finiteOrNull(acc!), lr, time: Date.now() };
    p.batchLog?.append(point);
    points.push(point);
    const seconds = (Date.now() - started) / 1000;
    const rate = seen / Math.max(seconds, 1e-3);
    progress.update(batch);
    if (Date.now() - lastBatchEvent > 250 || batch === batches) {
      lastBatchEvent = Date.now();
      ctx.emit({ type: 'train/didBatch', phase: setup.phase, epoch: globalEpoch, batch, batches, step: point.step, loss: lossSum / seen, accuracy: accSum / seen, rate, etaSeconds: (order.length - seen) / rate, points });
      points = [];
    }
    throwIfCancelled(ctx.signal);
    crashPoint('batch');
  }
  return { loss: lossSum / seen, accuracy: accSum / seen, lr };
}

/** The step's rate: TF.js' optimizers read `learningRate` at each step; SGD/momentum keep it as a tensor too. */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (o.setLearningRate) o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** JSON has no NaN or Infinity: a diverged batch is recorded as null. */
function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Loss, accuracy and balanced accuracy of the trainable part over `images`, in inference mode. */
export async function validate(setup: PhaseSetup, images: readonly LabeledImage[], features: Float32Array | undefined, signal: AbortSignal): Promise<Validation> {
  const { numClasses } = setup;
  const probs = new Float32Array(images.length * numClasses);
  const labels = Int32Array.from(images, (i) => i.label);
  let done = 0;
  for await (const b of batchInputs(setup.split, images, features, images.map((_, i) => i), setup.pipeline, signal)) {
    const out = tf.tidy(() => setup.split.trainable.predict(b.x) as tf.Tensor);
    b.x.dispose();
    probs.set((await out.data()) as Float32Array, done * numClasses);
    out.dispose();
    done += b.labels.length;
  }
  const predicted = argmaxRows(probs, numClasses);
  const confusion = confusionMatrix(labels, predicted, numClasses);
  return {
    loss: crossEntropy(probs, labels, numClasses).mean,
    accuracy: accuracyOf(confusion),
    balancedAccuracy: balancedAccuracyOf(confusion),
    balancedAccuracyCi: bootstrapIntervals(labels, predicted, numClasses).balancedAccuracy,
  };
}

/** The best checkpoint when the monitored figure improved, then always the last one (what --resume reads). */
async function saveEpochCheckpoints(model: tfl.LayersModel, optimizer: tf.Optimizer, decision: EpochDecision, metrics: EpochMetrics, p: PhaseContext): Promise<void> {
  const { run, ctx } = p;
  if (decision.improved) {
    await saveCheckpoint(run.bestCheckpoint, model, undefined, decision.next);
    const monitor = runMonitor(p.config);
    ctx.emit({ type: 'train/didCheckpoint', kind: 'best', epoch: metrics.epoch, path: run.bestCheckpoint, valAccuracy: metrics.valAccuracy, monitor, value: monitoredValue(metrics, monitor) });
    crashPoint('between-checkpoints');
  }
  await saveCheckpoint(run.lastCheckpoint, model, optimizer, decision.next);
  ctx.emit({ type: 'train/didCheckpoint', kind: 'last', epoch: metrics.epoch, path: run.lastCheckpoint, valAccuracy: metrics.valAccuracy });
}

/** Keras' optimizer defaults; on webgpu each variable's update is one fused GPU program. */
function makeOptimizer(name: string, lr: number, engine: EngineName): tf.Optimizer {
  if (name !== 'rmsprop' && name !== 'adam' && name !== 'sgd') throw new UserError(`Unknown optimizer "${name}"; use rmsprop, adam or sgd.`);
  return createOptimizer(name, lr, engine);
}

/** sklearn's "balanced" weights: n / (k · n_c); classes absent from train get weight 0. */
export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? labels.length / (present * c) : 0));
}

function lossFunction(weights: number[] | undefined): string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor) {
  if (!weights) return 'categoricalCrossentropy';
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const p = tf.clipByValue(yPred, 1e-7, 1 - 1e-7);
      return tf.neg(tf.sum(tf.mul(tf.mul(yTrue, tf.log(p)), tf.tensor1d(weights)), -1));
    });
}
