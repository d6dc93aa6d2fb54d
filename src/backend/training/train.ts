/**
 * `lesion-lab train`: the reference transfer-learning workflow (frozen ImageNet backbone + head,
 * then fine-tuning the last block), reproducible, resumable, and with the head phase trained from
 * cached backbone features.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineName, EngineSelection } from '../../shared/protocol/engines';
import type { TrainOptions } from '../../shared/protocol/jobs';
import type { EpochMetrics } from '../../shared/protocol/results';
import { LESION_CLASSES } from '../../shared/classes';
import type { ResolvedTrainOptions, RunConfig } from '../../shared/runConfig';
import { createRng, deriveSeed, shuffle } from '../../shared/random';
import { CancelledError, UserError, isCancellation, throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { writeJsonAtomic } from '../fsAtomic';
import { detectEngines } from '../engines/detect';
import { checkEngineHealth, engineInfoForRun, initEngine, injectGpuFaultFor, usePrecision } from '../engines/load';
import { GpuFailure } from '../engines/webgpu/deviceHealth';
import { withSeededMathRandom } from './seededRandom';
import { selectEngine } from '../engines/select';
import { createOptimizer } from '../engines/webgpu/fusedOptimizers';
import { readManifest } from '../dataset/manifest';
import { HEAD_LAYERS, buildBackbone, buildClassifier, defaultUnfreezeLayer, findUnfreezeIndex } from '../models/backbone';
import { defaultWeightsCacheDir, resolveImagenetWeights } from '../models/imagenetWeights';
import { preprocessFor } from '../models/preprocess';
import { loadWeightsFile } from '../models/weights';
import { KERAS_REFERENCE_RANGES } from '../augment/kerasAffine';
import { classBalancedSampler, takeSamples } from '../augment/online';
import { BACKEND_VERSION } from '../version';
import type { TrainState } from './checkpoint';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { computeFeatures } from './featureCache';
import type { LabeledImage, OnlineAugmentation, PipelineOptions } from './imagePipeline';
import { imageBatches } from './imagePipeline';
import { accuracyOf, argmaxRows, balancedAccuracyOf, confusionMatrix, crossEntropy } from '../evaluation/metrics';
import { splitModelAt } from './modelSplit';
import type { SplitModel } from './modelSplit';
import { RunFolder } from './runFolder';
import { listAugmentedImages, splitImages } from './datasetImages';

type Phase = 'head' | 'finetune';

/** Keras' callbacks in the reference workflow. */
const PATIENCE_VAL_LOSS = 3;
const PATIENCE_VAL_ACCURACY = 10;

export function resolveTrainOptions(o: TrainOptions): ResolvedTrainOptions {
  const fromScratch = o.weights === 'none';
  return {
    ...o,
    prepared: path.resolve(o.prepared),
    run: path.resolve(o.run),
    lr: o.lr ?? 1e-3,
    // Fine-tuning pretrained weights wants a small step (the reference's 0.01 destroys them);
    // without pretrained weights there is nothing to protect.
    finetuneLr: o.finetuneLr ?? (fromScratch ? 1e-3 : 1e-4),
    finetuneEpochs: o.finetuneEpochs ?? o.epochs,
    // Random backbone weights are not worth freezing: fine-tune everything.
    unfreezeFrom: o.unfreezeFrom ?? (fromScratch ? '1' : defaultUnfreezeLayer(o.model)),
    headOptimizer: o.optimizer ?? 'rmsprop',
    finetuneOptimizer: o.optimizer ?? 'adam',
  };
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

function engineFailure(err: unknown, engine: string, batch: number): UserError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof GpuFailure || /out of memory|OOM|allocat|device (was )?lost|GPUDevice/i.test(message)) {
    return new UserError(
      `The ${engine} engine failed: ${message.split('\n')[0]}. Try a smaller --batch (now ${batch}) or another --engine; the last checkpoint is kept and --resume continues from it.`,
      err instanceof Error ? err.stack : undefined,
    );
  }
  return err instanceof UserError ? err : new UserError(`Training failed on the ${engine} engine: ${message.split('\n')[0]}. The last checkpoint is kept; --resume continues from it.`, err instanceof Error ? err.stack : undefined);
}

/** Same data, seed and engine: the same run (initial weights, dropout masks, batch order). */
export function train(options: TrainOptions, ctx: JobContext): Promise<void> {
  return withSeededMathRandom(options.seed, () => trainRun(options, ctx));
}

async function trainRun(options: TrainOptions, ctx: JobContext): Promise<void> {
  const run = new RunFolder(path.resolve(options.run));
  let config: RunConfig;
  if (options.resume) {
    const saved = await readConfig(run);
    if (!saved) throw new UserError(`Nothing to resume in ${run.dir}: it has no config.json. Start a new run without --resume.`);
    // A resumed run keeps its own settings; only the engine may change (another machine, another GPU).
    // `--resume --phase finetune` on a head-only run goes on to fine-tune it: the second phase of the reference workflow.
    const extend = saved.options.phase === 'head' && options.phase === 'finetune';
    config = {
      ...saved,
      options: {
        ...saved.options,
        engine: options.engine,
        resume: true,
        ...(extend ? { phase: 'both' as const, finetuneEpochs: options.finetuneEpochs ?? options.epochs, ...(options.finetuneLr !== undefined ? { finetuneLr: options.finetuneLr } : {}) } : {}),
      },
    };
    if (extend) await writeJsonAtomic(run.config, config);
  } else {
    if (await run.exists()) throw new UserError(`${run.dir} already holds a run. Use --resume to continue it, or give a new --run folder.`);
    const opts = resolveTrainOptions(options);
    config = {
      version: 1,
      options: opts,
      classes: [...LESION_CLASSES],
      createdAt: new Date().toISOString(),
      lesionLab: BACKEND_VERSION,
      node: process.version,
      dataset: { prepared: opts.prepared, split: '', valFraction: 0, seed: 0, train: 0, val: 0, augmented: 0 },
    };
  }
  const o = config.options;
  const manifest = await readManifest(o.prepared);
  const { train: trainImages, val: valImages } = splitImages(manifest, o.prepared, config.classes);
  if (o.augment === 'disk') {
    const augmented = await listAugmentedImages(o.prepared, config.classes);
    if (augmented.length === 0) throw new UserError(`--augment disk needs augmented images in ${path.join(o.prepared, 'aug')}; run \`lesion-lab augment --prepared ${o.prepared}\` first, or use --augment online.`);
    trainImages.push(...augmented);
    config.dataset.augmented = augmented.length;
  }
  if (trainImages.length === 0) throw new UserError(`${o.prepared} has no training images. Prepare the dataset again.`);
  if (valImages.length === 0) throw new UserError(`${o.prepared} has no validation images, so nothing can be measured. Prepare it again with a --val-fraction above 0.`);
  config.dataset = { ...config.dataset, split: manifest.summary.split, valFraction: manifest.summary.valFraction, seed: manifest.summary.seed, train: trainImages.length, val: valImages.length };

  const engines = await detectEngines();
  const selection: EngineSelection = selectEngine(engines, o.engine);
  await initEngine(selection.engine);
  const precision = usePrecision(o.precision ?? 'float32');
  config.engine = { ...engineInfoForRun(), reason: selection.reason };
  const phases: Phase[] = o.phase === 'both' ? ['head', 'finetune'] : [o.phase];
  await writeJsonAtomic(run.config, config);
  await run.writeStatus('running', { engine: selection.engine });
  const log = run.eventLog();
  const emit: JobContext['emit'] = (e) => {
    log.append(e);
    ctx.emit(e);
  };
  const jctx: JobContext = { emit, signal: ctx.signal };
  emit({ type: 'train/didStart', run: run.dir, engine: selection, model: o.model, phases });
  if (precision.note) emit({ type: 'log', level: 'warn', message: precision.note });
  else if (precision.precision === 'mixed') emit({ type: 'log', level: 'info', message: 'mixed precision: convolutions in float16 (float32 accumulation, loss scale 1024); variables, batch norm and optimizer in float32' });

  let model: tfl.LayersModel | undefined;
  try {
    let state: TrainState;
    let optimizerWeights: { name: string; tensor: tf.Tensor }[] | undefined;
    if (o.resume) {
      const ckpt = await loadCheckpoint(run.lastCheckpoint).catch((err: unknown) => {
        if (err instanceof UserError && /model\.json is missing/.test(err.message)) return undefined;
        throw err;
      });
      if (ckpt) {
        model = ckpt.model;
        state = ckpt.state;
        optimizerWeights = ckpt.optimizer?.weights;
        await run.truncateMetrics(state.epoch);
        emit({ type: 'log', level: 'info', message: `resuming after epoch ${state.epoch} (${state.phase} phase, epoch ${state.phaseEpoch})` });
      } else {
        emit({ type: 'log', level: 'info', message: 'no checkpoint was written before the run stopped: starting from the beginning' });
        await run.truncateMetrics(0);
        model = await buildModel(o, jctx);
        state = initialState(phases[0]!);
      }
    } else {
      model = await buildModel(o, jctx);
      state = initialState(phases[0]!);
    }

    for (const phase of phases) {
      if (phases.indexOf(phase) < phases.indexOf(state.phase) || (phase === state.phase && state.phaseDone)) continue;
      if (phase !== state.phase) {
        state = { ...state, phase, phaseEpoch: 0, phaseDone: false, earlyValLoss: { best: Infinity, wait: 0 }, earlyValAccuracy: { best: -Infinity, wait: 0 } };
        optimizerWeights = undefined;
      }
      state = await runPhase(phase, model, state, optimizerWeights, { config, run, trainImages, valImages, ctx: jctx });
      optimizerWeights = undefined;
    }
    const best = state.best;
    await run.writeStatus('finished', { epochs: state.epoch, bestEpoch: best.epoch });
    emit({ type: 'train/didFinish', run: run.dir, epochs: state.epoch, bestValAccuracy: best.valAccuracy, bestValBalancedAccuracy: best.valBalancedAccuracy });
  } catch (err) {
    const cancelled = isCancellation(err) || ctx.signal.aborted;
    await run.writeStatus(cancelled ? 'cancelled' : 'failed', cancelled ? {} : { error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
    if (cancelled) throw new CancelledError();
    throw engineFailure(err, selection.engine, o.batch);
  } finally {
    await log.flush();
    model?.dispose();
  }
}

function initialState(phase: Phase): TrainState {
  return {
    epoch: 0,
    phase,
    phaseEpoch: 0,
    phaseDone: false,
    best: { valAccuracy: -1, valBalancedAccuracy: -1, epoch: 0 },
    earlyValLoss: { best: Infinity, wait: 0 },
    earlyValAccuracy: { best: -Infinity, wait: 0 },
  };
}

async function readConfig(run: RunFolder): Promise<RunConfig | undefined> {
  const { promises: fs } = await import('node:fs');
  try {
    return JSON.parse(await fs.readFile(run.config, 'utf8')) as RunConfig;
  } catch {
    return undefined;
  }
}

async function buildModel(o: ResolvedTrainOptions, ctx: JobContext): Promise<tfl.LayersModel> {
  const backbone = buildBackbone(o.model, { inputSize: o.size, alpha: o.alpha });
  if (o.weights === 'imagenet') {
    let reporter: ProgressReporter | undefined;
    const file = await resolveImagenetWeights(o.model, o.alpha, o.size, defaultWeightsCacheDir(), ctx.signal, (done, total) => {
      reporter ??= new ProgressReporter(ctx.emit, 'download weights', total ?? 0, 'byte');
      reporter.update(done);
    });
    const report = await loadWeightsFile(backbone, file);
    ctx.emit({ type: 'log', level: 'info', message: `loaded ImageNet weights: ${report.weightsLoaded} arrays in ${report.layersLoaded} layers from ${path.basename(file)}` });
  } else if (o.weights !== 'none') {
    const report = await loadWeightsFile(backbone, o.weights, { ignoreExtraLayers: true });
    ctx.emit({ type: 'log', level: 'info', message: `loaded ${report.weightsLoaded} weight arrays from ${o.weights}` });
  } else {
    ctx.emit({ type: 'log', level: 'warn', message: 'training from random weights (--weights none): expect far lower accuracy than with ImageNet weights' });
    useFastBatchNormStatistics(backbone);
  }
  return buildClassifier(backbone, LESION_CLASSES.length);
}

/**
 * Keras' BatchNormalization keeps moving statistics with momentum 0.99 (MobileNetV2: 0.999), fine
 * for ImageNet weights that already hold good statistics. From random weights, a few hundred steps
 * leave them near their initial values and inference-mode outputs collapse to a constant, so a
 * from-scratch run uses PyTorch's default instead (0.9 in Keras terms). Saved with the model config.
 */
function useFastBatchNormStatistics(model: tfl.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'BatchNormalization') (layer as unknown as { momentum: number }).momentum = 0.9;
  }
}

interface PhaseContext {
  config: RunConfig;
  run: RunFolder;
  trainImages: LabeledImage[];
  valImages: LabeledImage[];
  ctx: JobContext;
}

/** Where training starts in this phase: the head's first Dense, or the unfreeze point. */
function phaseStartIndex(model: tfl.LayersModel, phase: Phase, o: ResolvedTrainOptions): number {
  if (phase === 'head') return model.layers.findIndex((l) => l.name === HEAD_LAYERS.dense);
  return findUnfreezeIndex(model, o.unfreezeFrom);
}

async function runPhase(phase: Phase, model: tfl.LayersModel, state: TrainState, optimizerWeights: { name: string; tensor: tf.Tensor }[] | undefined, p: PhaseContext): Promise<TrainState> {
  const { config, run, trainImages, valImages, ctx } = p;
  const o = config.options;
  const numClasses = config.classes.length;
  const epochs = phase === 'head' ? o.epochs : o.finetuneEpochs;
  const lr = phase === 'head' ? o.lr : o.finetuneLr;
  const split: SplitModel = splitModelAt(model, phaseStartIndex(model, phase, o));
  const optimizer = makeOptimizer(phase === 'head' ? o.headOptimizer : o.finetuneOptimizer, lr, config.engine?.engine ?? 'cpu');
  const trainLabels = Int32Array.from(trainImages, (i) => i.label);
  const weights = o.classWeights ? balancedClassWeights(trainLabels, numClasses) : undefined;
  split.trainable.compile({ optimizer, loss: lossFunction(weights), metrics: ['accuracy'] });
  if (optimizerWeights?.length) {
    // Restores the moment/accumulator slots (matched by position, so the same model is required).
    await optimizer.setWeights(optimizerWeights);
  }
  const trainableCount = split.trainable.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  ctx.emit({
    type: 'log',
    level: 'info',
    message: `${phase} phase: training ${split.trainable.layers.length - 1} layers (${trainableCount.toLocaleString('en')} parameters) from ${model.layers[phaseStartIndex(model, phase, o)]!.name}, ${optimizer.getClassName()} lr ${lr}, ${epochs} epochs`,
  });

  const pipeline: PipelineOptions = { size: o.size, preprocess: preprocessFor(o.model), batchSize: o.batch };
  const augment: OnlineAugmentation | undefined = o.augment === 'online' ? { seed: o.seed, ranges: { ...KERAS_REFERENCE_RANGES }, fill: 'nearest' } : undefined;
  // The frozen part's output never changes, so compute it once — unless online augmentation changes the input every epoch.
  const useCache = split.frozen !== null && !augment && split.cutShape.length === 1;
  const cacheDir = path.join(o.prepared, '.cache', 'features');
  let trainFeatures: Float32Array | undefined;
  let valFeatures: Float32Array | undefined;
  if (useCache) {
    const t0 = Date.now();
    const tr = await computeFeatures(split.frozen!, trainImages, pipeline, cacheDir, 'backbone features (train)', ctx);
    const va = await computeFeatures(split.frozen!, valImages, pipeline, cacheDir, 'backbone features (val)', ctx);
    trainFeatures = tr.data;
    valFeatures = va.data;
    ctx.emit({ type: 'log', level: 'info', message: `feature cache: ${tr.fromCache && va.fromCache ? 'reused' : 'computed'} ${tr.count + va.count} × ${tr.dim} features in ${((Date.now() - t0) / 1000).toFixed(1)} s` });
  } else if (split.frozen && augment) {
    ctx.emit({ type: 'log', level: 'info', message: 'feature cache off: online augmentation changes the backbone input every epoch' });
  }
  const dim = split.cutShape.reduce((a, b) => a * b, 1);

  /** Batches of inputs for the trainable part: cached features, or images through the frozen part. */
  async function* inputs(images: LabeledImage[], features: Float32Array | undefined, order: number[], opts: PipelineOptions): AsyncGenerator<{ x: tf.Tensor; labels: Int32Array; indices: number[] }> {
    if (features) {
      for (let i = 0; i < order.length; i += o.batch) {
        throwIfCancelled(ctx.signal);
        const idx = order.slice(i, i + o.batch);
        const buf = new Float32Array(idx.length * dim);
        idx.forEach((k, j) => buf.set(features.subarray(k * dim, (k + 1) * dim), j * dim));
        yield { x: tf.tensor(buf, [idx.length, ...split.cutShape]), labels: Int32Array.from(idx, (k) => images[k]!.label), indices: idx };
        // Cached batches involve no I/O: yield to the event loop so a cancel message is seen.
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    for await (const b of imageBatches(images, order, opts, ctx.signal)) {
      const x = tf.tidy(() => {
        const img = tf.tensor4d(b.x, [b.count, o.size, o.size, 3]);
        return split.frozen ? (split.frozen.predict(img) as tf.Tensor) : img;
      });
      yield { x, labels: b.labels, indices: b.indices };
    }
  }

  for (let epoch = state.phaseEpoch + 1; epoch <= epochs; epoch++) {
    const started = Date.now();
    const epochRng = createRng(deriveSeed(o.seed, phase, epoch));
    // Online augmentation draws class-balanced epochs (each class equally often, minority images
    // repeated under different transforms); otherwise every image once, shuffled.
    const order = augment
      ? takeSamples(classBalancedSampler(trainImages.map((img, i) => ({ dx: String(img.label), file: img.file, i })), epochRng), trainImages.length).map((x) => x.i)
      : shuffle(epochRng, trainImages.map((_, i) => i));
    const batches = Math.ceil(order.length / o.batch);
    const globalEpoch = state.epoch + 1;
    const progress = new ProgressReporter(ctx.emit, `${phase} epoch ${epoch}/${epochs}`, batches, 'batch');
    let seen = 0;
    let lossSum = 0;
    let accSum = 0;
    let batch = 0;
    let lastBatchEvent = 0;
    for await (const b of inputs(trainImages, trainFeatures, order, { ...pipeline, augment, epoch: globalEpoch })) {
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(b.labels, 'int32'), numClasses));
      let out: number | number[];
      try {
        if (batch === 0) injectGpuFaultFor(globalEpoch);
        out = await split.trainable.trainOnBatch(b.x, y);
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
      const seconds = (Date.now() - started) / 1000;
      const rate = seen / Math.max(seconds, 1e-3);
      progress.update(batch);
      if (Date.now() - lastBatchEvent > 250 || batch === batches) {
        lastBatchEvent = Date.now();
        ctx.emit({ type: 'train/didBatch', phase, epoch: globalEpoch, batch, batches, loss: lossSum / seen, accuracy: accSum / seen, rate, etaSeconds: (order.length - seen) / rate });
      }
      throwIfCancelled(ctx.signal);
    }

    const val = await validate(valImages, valFeatures);
    await checkEngineHealth(); // nothing the GPU got wrong may reach the metrics or a checkpoint
    const metrics: EpochMetrics = {
      phase,
      epoch: globalEpoch,
      loss: lossSum / seen,
      accuracy: accSum / seen,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      valBalancedAccuracy: val.balancedAccuracy,
      lr,
      seconds: (Date.now() - started) / 1000,
      finishedAt: new Date().toISOString(),
    };
    await run.appendMetrics(metrics);
    ctx.emit({ type: 'train/didEpoch', run: run.dir, metrics, tensors: tf.memory().numTensors });

    // Keras semantics: ModelCheckpoint(save_best_only, monitor val_accuracy); EarlyStopping counts epochs without improvement.
    const next: TrainState = { ...state, epoch: globalEpoch, phase, phaseEpoch: epoch, best: { ...state.best }, earlyValLoss: { ...state.earlyValLoss }, earlyValAccuracy: { ...state.earlyValAccuracy } };
    const improved = metrics.valAccuracy > state.best.valAccuracy;
    if (improved) next.best = { valAccuracy: metrics.valAccuracy, valBalancedAccuracy: metrics.valBalancedAccuracy, epoch: globalEpoch };
    if (metrics.valLoss < next.earlyValLoss.best) next.earlyValLoss = { best: metrics.valLoss, wait: 0 };
    else next.earlyValLoss.wait++;
    if (metrics.valAccuracy > next.earlyValAccuracy.best) next.earlyValAccuracy = { best: metrics.valAccuracy, wait: 0 };
    else next.earlyValAccuracy.wait++;
    const stopBy = next.earlyValLoss.wait >= PATIENCE_VAL_LOSS ? { monitor: 'val_loss', patience: PATIENCE_VAL_LOSS } : next.earlyValAccuracy.wait >= PATIENCE_VAL_ACCURACY ? { monitor: 'val_accuracy', patience: PATIENCE_VAL_ACCURACY } : undefined;
    next.phaseDone = epoch === epochs || stopBy !== undefined;
    if (improved) {
      await saveCheckpoint(run.bestCheckpoint, model, undefined, next);
      ctx.emit({ type: 'train/didCheckpoint', kind: 'best', epoch: globalEpoch, path: run.bestCheckpoint, valAccuracy: metrics.valAccuracy });
    }
    await saveCheckpoint(run.lastCheckpoint, model, optimizer, next);
    ctx.emit({ type: 'train/didCheckpoint', kind: 'last', epoch: globalEpoch, path: run.lastCheckpoint, valAccuracy: metrics.valAccuracy });
    state = next;
    if (stopBy) {
      ctx.emit({ type: 'train/didStopEarly', epoch: globalEpoch, ...stopBy });
      break;
    }
  }
  split.trainable.optimizer?.dispose();
  return { ...state, phaseDone: true };

  async function validate(images: LabeledImage[], features: Float32Array | undefined): Promise<{ loss: number; accuracy: number; balancedAccuracy: number }> {
    const probs = new Float32Array(images.length * numClasses);
    const labels = Int32Array.from(images, (i) => i.label);
    let done = 0;
    for await (const b of inputs(images, features, images.map((_, i) => i), pipeline)) {
      const out = tf.tidy(() => split.trainable.predict(b.x) as tf.Tensor);
      b.x.dispose();
      probs.set((await out.data()) as Float32Array, done * numClasses);
      out.dispose();
      done += b.labels.length;
    }
    const confusion = confusionMatrix(labels, argmaxRows(probs, numClasses), numClasses);
    return { loss: crossEntropy(probs, labels, numClasses).mean, accuracy: accuracyOf(confusion), balancedAccuracy: balancedAccuracyOf(confusion) };
  }
}
