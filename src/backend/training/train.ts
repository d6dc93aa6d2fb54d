/**
 * `lesion-lab train`: the reference transfer-learning workflow (frozen ImageNet backbone + head,
 * then fine-tuning the last block), reproducible, resumable, and with the head phase trained from
 * cached backbone features.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineSelection } from '../../shared/protocol/engines';
import type { TrainOptions } from '../../shared/protocol/jobs';
import { classLabelsOf } from '../../shared/classes';
import type { ResolvedTrainOptions, RunConfig } from '../../shared/runConfig';
import { runMonitor } from '../../shared/runConfig';
import { CancelledError, UserError, isCancellation } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { assertNotBeingWritten, withFolderLock } from '../folderLock';
import { writeJsonAtomic } from '../fsAtomic';
import { detectEngines } from '../engines/detect';
import { engineInfoForRun, initEngine, usePrecision } from '../engines/load';
import { GpuFailure } from '../engines/webgpu/deviceHealth';
import { selectEngine } from '../engines/select';
import { manifestClasses, readManifest } from '../dataset/manifest';
import { buildBackbone, buildClassifier } from '../models/backbone';
import { phaseDefaults } from '../../shared/trainDefaults';
import { defaultWeightsCacheDir, resolveImagenetWeights } from '../models/imagenetWeights';
import { loadWeightsFile } from '../models/weights';
import { BACKEND_VERSION, sourceRevision } from '../version';
import type { TrainState } from './checkpoint';
import { loadCheckpoint } from './checkpoint';
import { datasetFingerprint, describeDatasetChange } from './datasetFingerprint';
import { augmentedSourceId, foldImages, listAugmentedImages, splitImages } from './datasetImages';
import { findFoldScheme } from '../dataset/foldScheme';
import type { FoldScheme, PreparedManifest } from '../dataset/manifest';
import type { LabeledImage } from './imagePipeline';
import { RunFolder } from './runFolder';
import { resumeOptions } from './resumeOptions';
import { withSeededMathRandom } from './seededRandom';
import type { Phase } from './trainPhase';
import { runPhase } from './trainPhase';
import { describeNearDuplicates } from '../../shared/nearDuplicates';

export function resolveTrainOptions(request: TrainOptions): ResolvedTrainOptions {
  const { explicit: _given, ...o } = request;
  if (!o.prepared) throw new UserError('A new run needs --prepared: the folder `lesion-lab prepare` wrote. (Only --resume takes it from the run folder.)');
  const d = phaseDefaults(o.model, o.weights);
  return {
    ...o,
    prepared: path.resolve(o.prepared),
    run: path.resolve(o.run),
    lr: o.lr ?? d.lr,
    finetuneLr: o.finetuneLr ?? d.finetuneLr,
    finetuneEpochs: o.finetuneEpochs ?? o.epochs,
    unfreezeFrom: o.unfreezeFrom ?? d.unfreezeFrom,
    monitor: o.monitor ?? 'val_bal_acc',
    headOptimizer: o.optimizer ?? d.headOptimizer,
    finetuneOptimizer: o.optimizer ?? d.finetuneOptimizer,
    earlyStoppingStart: o.earlyStoppingStart ?? d.earlyStoppingStart,
    warmupEpochs: o.warmupEpochs ?? d.warmupEpochs,
  };
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

/**
 * Same data, seed and engine: the same run (initial weights, dropout masks, batch order), and a run resumed
 * after a crash ends as the uninterrupted one would. The seed is the run's own (config.json) on --resume.
 */
export async function train(options: TrainOptions, ctx: JobContext): Promise<void> {
  const run = new RunFolder(path.resolve(options.run));
  const existed = await fs.stat(run.dir).then(() => true, () => false);
  if (!options.resume) await fs.mkdir(run.dir, { recursive: true });
  // One process per run folder: two would write each other's checkpoints.
  await withFolderLock(run.dir, `train --run ${run.dir}${options.resume ? ' --resume' : ''}`, 'The run folder', ctx, async () => {
    try {
      const config = options.resume ? await resumedRunConfig(run, options) : await newRunConfig(run, options);
      await withSeededMathRandom(config.options.seed, () => trainRun(run, config, ctx));
    } catch (err) {
      // Refused before it wrote its config.json (bad options, a dataset in use): leave no empty run folder.
      if (!existed && !(await run.exists())) await fs.rm(run.dir, { recursive: true, force: true });
      throw err;
    }
  });
}

async function trainRun(run: RunFolder, config: RunConfig, ctx: JobContext): Promise<void> {
  const o = config.options;
  const { trainImages, valImages } = await datasetImages(config);

  // The weights before anything is written: a new run that cannot get them fails without leaving a run folder behind.
  const weightsFile = o.resume ? undefined : await backboneWeightsFile(o, ctx);

  const engines = await detectEngines(undefined, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
  const selection: EngineSelection = selectEngine(engines, o.engine);
  const loaded = await initEngine(selection.engine, { threads: o.threads });
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
  const batchLog = run.batchLog();
  emit({ type: 'train/didStart', run: run.dir, engine: selection, model: o.model, phases });
  if (loaded.note) emit({ type: 'log', level: 'warn', message: loaded.note });
  if (precision.note) emit({ type: 'log', level: 'warn', message: precision.note });
  else if (precision.precision === 'mixed') emit({ type: 'log', level: 'info', message: 'mixed precision: convolutions in float16 (float32 accumulation, loss scale 1024); variables, batch norm and optimizer in float32' });

  let model: tfl.LayersModel | undefined;
  try {
    const start = await startingPoint(run, config, phases[0]!, jctx, weightsFile);
    model = start.model;
    let { state, optimizerWeights } = start;
    await recordSession(run, config, state.epoch);
    for (const phase of phases) {
      if (phases.indexOf(phase) < phases.indexOf(state.phase) || (phase === state.phase && state.phaseDone)) continue;
      if (phase !== state.phase) {
        state = { ...state, phase, phaseEpoch: 0, phaseDone: false, earlyValLoss: { best: Infinity, wait: 0 }, earlyValAccuracy: { best: -Infinity, wait: 0 } };
        optimizerWeights = undefined;
      }
      state = await runPhase(phase, model, state, optimizerWeights, { config, run, trainImages, valImages, ctx: jctx, batchLog });
      optimizerWeights = undefined;
    }
    const best = state.best;
    await run.writeStatus('finished', { epochs: state.epoch, bestEpoch: best.epoch });
    const ci = (await run.readMetrics()).find((m) => m.epoch === best.epoch)?.valBalancedAccuracyCi;
    emit({
      type: 'train/didFinish',
      run: run.dir,
      epochs: state.epoch,
      bestEpoch: best.epoch,
      monitor: runMonitor(config),
      bestValAccuracy: best.valAccuracy,
      bestValBalancedAccuracy: best.valBalancedAccuracy,
      ...(ci ? { bestValBalancedAccuracyCi: ci } : {}),
    });
  } catch (err) {
    const cancelled = isCancellation(err) || ctx.signal.aborted;
    await run.writeStatus(cancelled ? 'cancelled' : 'failed', cancelled ? {} : { error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
    if (cancelled) throw new CancelledError();
    throw engineFailure(err, selection.engine, o.batch);
  } finally {
    await batchLog.flush().catch(() => undefined);
    await log.flush();
    model?.dispose();
  }
}

/** A new run's config.json, defaults resolved; refuses a folder that already holds a run. */
async function newRunConfig(run: RunFolder, options: TrainOptions): Promise<RunConfig> {
  if (await run.exists()) throw new UserError(`${run.dir} already holds a run. Use --resume to continue it, or give a new --run folder.`);
  const opts = resolveTrainOptions(options);
  // The model's outputs are the prepared dataset's classes, in its order.
  const manifest = await readManifest(opts.prepared);
  const classes = manifestClasses(manifest);
  if (opts.folds !== undefined) opts.foldSeed = requireFoldScheme(manifest, opts).seed;
  return {
    version: 1,
    options: opts,
    classes: classes.map((c) => c.name),
    classLabels: classLabelsOf(classes),
    createdAt: new Date().toISOString(),
    lesionLab: BACKEND_VERSION,
    ...(sourceRevision() ? { revision: sourceRevision() } : {}),
    node: process.version,
    dataset: { prepared: opts.prepared, split: '', valFraction: 0, seed: 0, train: 0, val: 0, augmented: 0 },
    sessions: [],
    epochEngines: [],
  };
}

/** Appends this session (who ran it, on what) to config.json; earlier sessions stay as they were. */
async function recordSession(run: RunFolder, config: RunConfig, afterEpoch: number): Promise<void> {
  const engine = config.engine!;
  const revision = sourceRevision();
  config.sessions = [
    ...(config.sessions ?? []),
    {
      startedAt: new Date().toISOString(),
      afterEpoch,
      lesionLab: BACKEND_VERSION,
      ...(revision ? { revision } : {}),
      node: process.version,
      engine: engine.engine,
      ...(engine.device ? { device: engine.device } : {}),
      precision: engine.precision,
      ...(engine.threads !== undefined ? { threads: engine.threads } : {}),
    },
  ];
  await writeJsonAtomic(run.config, config);
}

/** A resumed run keeps its own options (resumeOptions.ts); a head-only run may go on into fine-tuning. */
async function resumedRunConfig(run: RunFolder, request: TrainOptions): Promise<RunConfig> {
  const saved = await readConfig(run);
  if (!saved) throw new UserError(`Nothing to resume in ${run.dir}: it has no config.json. Start a new run without --resume.`);
  const { options, extended, movedPrepared } = resumeOptions(saved.options, request);
  if (movedPrepared) {
    // The dataset fingerprint (checked in datasetImages) decides whether it is the same dataset.
    if (!saved.dataset.fingerprint) throw new UserError(`--prepared ${movedPrepared} is not the run's prepared folder (${saved.options.prepared}), and the run recorded no dataset fingerprint to show that it holds the same data. Leave --prepared out, or start a new run.`);
    options.prepared = movedPrepared;
  }
  const config: RunConfig = { ...saved, options, dataset: { ...saved.dataset, prepared: options.prepared } };
  if (extended) await writeJsonAtomic(run.config, config);
  return config;
}

/** The run's training and validation images from the prepared folder (plus augmented ones with --augment disk); records their counts in the config. */
async function datasetImages(config: RunConfig): Promise<{ trainImages: LabeledImage[]; valImages: LabeledImage[] }> {
  const o = config.options;
  await assertNotBeingWritten(o.prepared, 'The prepared folder');
  const manifest = await readManifest(o.prepared);
  const prepared = manifestClasses(manifest).map((c) => c.name);
  if (prepared.join('\n') !== config.classes.join('\n')) {
    throw new UserError(
      `${o.prepared} now has the classes ${prepared.join(', ')}, but this run's model was built for ${config.classes.join(', ')}. ` +
        'Start a new run (without --resume) for this dataset, or prepare the dataset the run was trained on again.',
    );
  }
  const scheme = o.folds !== undefined ? requireFoldScheme(manifest, o) : undefined;
  const { train: trainImages, val: valImages, trainIds } = scheme ? foldImages(manifest, o.prepared, config.classes, scheme, o.fold!) : { ...splitImages(manifest, o.prepared, config.classes), trainIds: undefined };
  if (o.augment === 'disk') {
    // A fold run keeps only the augmented copies of its own training images: the others' sources are in its validation fold.
    const augmented = (await listAugmentedImages(o.prepared, manifest, config.classes)).filter((a) => !trainIds || trainIds.has(augmentedSourceId(a.file) ?? ''));
    if (augmented.length === 0) throw new UserError(`--augment disk needs augmented images in ${path.join(o.prepared, 'aug')}; run \`lesion-lab augment --prepared ${o.prepared}\` first, or use --augment online.`);
    trainImages.push(...augmented);
    config.dataset.augmented = augmented.length;
  }
  if (trainImages.length === 0) throw new UserError(`${o.prepared} has no training images. Prepare the dataset again.`);
  if (valImages.length === 0) throw new UserError(`${o.prepared} has no validation images, so nothing can be measured. Prepare it again with a --val-fraction above 0.`);
  const fingerprint = await datasetFingerprint({ prepared: o.prepared, classes: config.classes, train: trainImages, val: valImages });
  const then = config.dataset.fingerprint;
  const change = o.resume && then ? describeDatasetChange(then, fingerprint) : undefined;
  if (change) {
    throw new UserError(
      `The prepared dataset in ${o.prepared} changed since this run started: ${change}. Resuming would train the rest of the run on other data than its first epochs. ` +
        'Start a new run (another --run folder), or put the prepared folder back as it was.',
    );
  }
  const s = manifest.summary;
  config.dataset = {
    ...config.dataset,
    split: scheme ? `cross-validation fold ${o.fold} of ${scheme.folds} (by ${scheme.groupedBy}, seed ${scheme.seed})` : s.split,
    valFraction: scheme ? valImages.length / (valImages.length + trainImages.length - config.dataset.augmented) : s.valFraction,
    seed: scheme ? scheme.seed : s.seed,
    train: trainImages.length,
    val: valImages.length,
    fingerprint: then ?? fingerprint,
    layout: s.layout,
    ...(s.grouping ? { groupedBy: s.grouping.column } : {}),
    ...(s.leakage ? { leakage: s.leakage } : {}),
    ...(s.nearDuplicates ? { nearDuplicates: describeNearDuplicates(s.nearDuplicates) } : {}),
    source: s.sourcePath,
    synthetic: s.synthetic === true,
  };
  return { trainImages, valImages };
}

/** The fold scheme a cross-validation run trains on; a UserError that says how to make it when the manifest lacks it. */
function requireFoldScheme(manifest: PreparedManifest, o: { prepared: string; folds?: number; foldSeed?: number }): FoldScheme {
  const scheme = findFoldScheme(manifest, o.folds!, o.foldSeed);
  if (!scheme) {
    throw new UserError(
      `${o.prepared} has no ${o.folds} cross-validation folds${o.foldSeed !== undefined ? ` with seed ${o.foldSeed}` : ''} recorded. ` +
        `Run \`lesion-lab cv --prepared ${o.prepared} --folds ${o.folds} …\` (it records them and trains every fold), or train without --folds.`,
    );
  }
  return scheme;
}

/** The model and state training starts from: the last checkpoint on --resume (when one was written), else a fresh model. */
async function startingPoint(run: RunFolder, config: RunConfig, firstPhase: Phase, ctx: JobContext, weightsFile?: string): Promise<{ model: tfl.LayersModel; state: TrainState; optimizerWeights?: { name: string; tensor: tf.Tensor }[] }> {
  const o = config.options;
  if (o.resume) {
    const ckpt = await loadCheckpoint(run.lastCheckpoint).catch((err: unknown) => {
      if (err instanceof UserError && /model\.json is missing/.test(err.message)) return undefined;
      throw err;
    });
    if (ckpt) {
      await Promise.all([run.truncateMetrics(ckpt.state.epoch), run.truncateBatches(ckpt.state.epoch)]).catch((err: unknown) => {
        ckpt.model.dispose();
        throw err;
      });
      // Epochs after the checkpoint are trained again, by this session.
      config.epochEngines = (config.epochEngines ?? []).filter((e) => e.epoch <= ckpt.state.epoch);
      ctx.emit({ type: 'log', level: 'info', message: `resuming after epoch ${ckpt.state.epoch} (${ckpt.state.phase} phase, epoch ${ckpt.state.phaseEpoch})` });
      return { model: ckpt.model, state: ckpt.state, optimizerWeights: ckpt.optimizer?.weights };
    }
    ctx.emit({ type: 'log', level: 'info', message: 'no checkpoint was written before the run stopped: starting from the beginning' });
    await Promise.all([run.truncateMetrics(0), run.truncateBatches(0)]);
    config.epochEngines = [];
  }
  return { model: await buildModel(o, config.classes.length, ctx, weightsFile), state: initialState(firstPhase) };
}

function initialState(phase: Phase): TrainState {
  return {
    epoch: 0,
    phase,
    phaseEpoch: 0,
    phaseDone: false,
    best: { valAccuracy: -1, valBalancedAccuracy: -1, epoch: 0, score: -Infinity },
    earlyValLoss: { best: Infinity, wait: 0 },
    earlyValAccuracy: { best: -Infinity, wait: 0 },
  };
}

async function readConfig(run: RunFolder): Promise<RunConfig | undefined> {
  try {
    return JSON.parse(await fs.readFile(run.config, 'utf8')) as RunConfig;
  } catch {
    return undefined;
  }
}

/** The file the backbone's weights come from (downloading ImageNet weights into the cache first), or undefined from scratch. */
async function backboneWeightsFile(o: ResolvedTrainOptions, ctx: JobContext): Promise<string | undefined> {
  if (o.weights === 'none') return undefined;
  if (o.weights === 'imagenet') {
    let reporter: ProgressReporter | undefined;
    return resolveImagenetWeights(o.model, o.alpha, o.size, defaultWeightsCacheDir(), ctx.signal, (done, total) => {
      reporter ??= new ProgressReporter(ctx.emit, 'download weights', total ?? 0, 'byte');
      reporter.update(done);
    });
  }
  const { promises: fs } = await import('node:fs');
  const stat = await fs.stat(o.weights).catch(() => undefined);
  if (!stat?.isFile()) throw new UserError(`The weights file ${o.weights} ${stat ? 'is a folder' : 'does not exist'}. Give --weights imagenet, none, or the path of a Keras .h5 or TF.js model.json file.`);
  return path.resolve(o.weights);
}

/** A new model for `o`: the backbone with its starting weights (from `weightsFile` when already resolved), and the classifier head. */
export async function buildModel(o: ResolvedTrainOptions, classCount: number, ctx: JobContext, weightsFile?: string): Promise<tfl.LayersModel> {
  weightsFile ??= await backboneWeightsFile(o, ctx);
  const backbone = buildBackbone(o.model, { inputSize: o.size, alpha: o.alpha });
  if (weightsFile && o.weights === 'imagenet') {
    const report = await loadWeightsFile(backbone, weightsFile);
    ctx.emit({ type: 'log', level: 'info', message: `loaded ImageNet weights: ${report.weightsLoaded} arrays in ${report.layersLoaded} layers from ${path.basename(weightsFile)}` });
  } else if (weightsFile) {
    const report = await loadWeightsFile(backbone, weightsFile, { ignoreExtraLayers: true });
    ctx.emit({ type: 'log', level: 'info', message: `loaded ${report.weightsLoaded} weight arrays from ${o.weights}` });
  } else {
    ctx.emit({ type: 'log', level: 'warn', message: 'training from random weights (--weights none): expect far lower accuracy than with ImageNet weights' });
    useFastBatchNormStatistics(backbone);
  }
  return buildClassifier(backbone, classCount);
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
