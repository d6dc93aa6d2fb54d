/**
 * `lesion-lab evaluate`: the best checkpoint on one set, written to that set's own report in the run folder:
 *   the run's validation split                     → evaluation.json (chose the checkpoint: optimistic)
 *   the run's test split (`--split test`)          → evaluation-test.json
 *   another prepared folder (`--data DIR`)         → evaluation-<folder name>.json (its test split, else val)
 * A report is only ever written over by an evaluation of the same set. model-card.md gets a section per report.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { EvaluateOptions, EvaluationSplit } from '../../shared/protocol/jobs';
import type { DatasetSummary, EvaluatedSet } from '../../shared/protocol/results';
import { evaluationReportFile, externalSetId } from '../../shared/runFiles';
import type { RunConfig } from '../../shared/runConfig';
import { runMonitor } from '../../shared/runConfig';
import { UserError } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { writeFileAtomic, writeJsonAtomic } from '../fsAtomic';
import type { PreparedManifest } from '../dataset/manifest';
import { readManifest } from '../dataset/manifest';
import type { LabeledImage } from '../training/imagePipeline';
import { imageBatches } from '../training/imagePipeline';
import { foldBatchNorm } from '../models/foldedInference';
import { runSplitImages, splitImages } from '../training/datasetImages';
import { RunFolder } from '../training/runFolder';
import type { EvaluationInput } from './evaluationReport';
import { summariseEvaluation } from './evaluationReport';
import { readEvaluationReports, renderModelCard } from './modelCard';
import { loadTrainedModel } from './trainedModel';

/** What the validation split kept apart: lesions (HAM10000), patients (ISIC 2020) … or only images. */
function splitLevel(s: DatasetSummary): string {
  if (s.split === 'image') return 'image';
  if (s.grouping) return s.grouping.noun;
  return s.leakage ? 'image' : 'lesion'; // a summary from before groupings were recorded was split by lesion_id
}

interface EvaluationTarget {
  prepared: string;
  /** The run's own prepared folder. */
  isOwn: boolean;
  manifest: PreparedManifest;
  split: EvaluationSplit;
  set: EvaluatedSet;
}

/** Which set `options` asks for, and the report it gets. */
async function evaluationTarget(config: RunConfig, options: EvaluateOptions): Promise<EvaluationTarget> {
  const own = path.resolve(config.options.prepared);
  const prepared = path.resolve(options.data ?? own);
  const isOwn = (await sameFolder(prepared, own)) || !options.data;
  const manifest = await readManifest(prepared);
  const count = (split: EvaluationSplit): number => manifest.images.filter((i) => i.split === split).length;
  const split: EvaluationSplit = options.split ?? (isOwn ? 'val' : count('test') > 0 ? 'test' : 'val');
  if (count(split) === 0) {
    throw new UserError(
      split === 'test'
        ? `${prepared} has no test split. Prepare a dataset folder that holds the ISIC 2018 Task 3 test set beside the training set (\`lesion-lab download --include-test\`), or evaluate another prepared folder with --data.`
        : `${prepared} has no validation images to evaluate on. Prepare it with a --val-fraction above 0, or pass --data with a prepared test set.`,
    );
  }
  const id = isOwn ? split : externalSetId(path.basename(prepared), split);
  const isic2018Test = split === 'test' && (manifest.summary.layout.startsWith('isic2018-task3') || manifest.testSet !== undefined);
  const set: EvaluatedSet = {
    id,
    kind: split === 'val' ? 'validation' : 'test',
    report: evaluationReportFile(id),
    prepared,
    usedForSelection: isOwn && split === 'val',
    ...(isic2018Test ? { isic2018Test } : {}),
  };
  if (!isOwn) {
    const overlap = await imagesTrainedOn(own, manifest, split);
    if (overlap !== undefined) set.overlapWithTraining = overlap;
  }
  return { prepared, isOwn, manifest, split, set };
}


export async function evaluateRun(options: EvaluateOptions, ctx: JobContext): Promise<void> {
  if (options.ensemble) return (await import('./ensemble')).evaluateEnsemble({ ...options, ensemble: options.ensemble }, ctx);
  if (!options.run) throw new UserError('Give the run to evaluate with --run DIR, or an ensemble with --ensemble RUN,RUN… (or a sweep folder).');
  if (options.tta || options.out) throw new UserError('--tta and --out go with --ensemble; evaluate a single run without them.');
  const runDir = path.resolve(options.run);
  const trained = await loadTrainedModel(runDir, options.engine, options.threads, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
  const { config, model } = trained;
  try {
    const target = await evaluationTarget(config, options);
    const { set } = target;
    // The run's own folder is split as the run was (a cross-validation run validates on its own fold).
    const splits = target.isOwn ? runSplitImages(target.manifest, target.prepared, config) : splitImages(target.manifest, target.prepared, config.classes);
    const images: LabeledImage[] = splits[target.split].filter((i) => i.label >= 0);
    if (images.length === 0) throw new UserError(`None of the ${target.split} images in ${target.prepared} belong to the run's classes (${config.classes.join(', ')}).`);
    if (set.overlapWithTraining) {
      ctx.emit({ type: 'log', level: 'warn', message: `${set.overlapWithTraining} of these ${images.length} images were in the run's training split: the figures are optimistic.` });
    }
    const probs = await predictAll(trained, images, target.split, ctx);
    const run = new RunFolder(runDir);
    const evaluation = summariseEvaluation({
      split: set.kind === 'validation' ? `validation (${splitLevel(target.manifest.summary)}-level split)` : 'test',
      set,
      classes: config.classes,
      ...(config.classLabels ? { classLabels: config.classLabels } : {}),
      files: images.map((i) => i.file),
      labels: Int32Array.from(images, (i) => i.label),
      probs,
      checkpointEpoch: trained.epoch,
      monitor: runMonitor(config),
      temperature: set.usedForSelection ? { fit: true } : await validationTemperature(run, trained.epoch, ctx),
    });
    await writeJsonAtomic(path.join(runDir, set.report), { ...evaluation, data: target.prepared });
    const reports = await readEvaluationReports(runDir);
    await writeFileAtomic(run.modelCard, renderModelCard(config, reports, await run.readMetrics(), trained.epoch));
    ctx.emit({ type: 'evaluate/didFinish', run: runDir, evaluation, path: path.join(runDir, set.report) });
  } finally {
    model.dispose();
  }
}

/** Softmax rows of every image, in order. */
async function predictAll(trained: Awaited<ReturnType<typeof loadTrainedModel>>, images: LabeledImage[], split: EvaluationSplit, ctx: JobContext): Promise<Float32Array> {
  const { config, model } = trained;
  const numClasses = config.classes.length;
  const probs = new Float32Array(images.length * numClasses);
  const progress = new ProgressReporter(ctx.emit, `evaluate ${split}`, images.length, 'image');
  let done = 0;
  const pipeline = { size: config.options.size, preprocess: trained.preprocess, batchSize: config.options.batch };
  const forward = foldBatchNorm(model);
  try {
    for await (const b of imageBatches(images, images.map((_, i) => i), pipeline, ctx.signal)) {
      const x = tf.tensor4d(b.x, [b.count, pipeline.size, pipeline.size, 3]);
      const out = forward.run(x);
      x.dispose();
      probs.set((await out.data()) as Float32Array, done * numClasses);
      out.dispose();
      done += b.count;
      progress.update(done);
    }
  } finally {
    forward.dispose();
  }
  return probs;
}

/** The temperature fitted on validation for this checkpoint, to show what it does on a held-out set. */
async function validationTemperature(run: RunFolder, epoch: number, ctx: JobContext): Promise<EvaluationInput['temperature']> {
  const validation = await run.readValidationReport();
  const t = validation?.calibration?.temperature;
  if (t && validation.checkpointEpoch === epoch) return { value: t.value, fittedOn: 'validation' };
  ctx.emit({ type: 'log', level: 'info', message: 'no temperature fitted on validation for this checkpoint yet: evaluate the validation split first to see temperature scaling on this set too.' });
  return undefined;
}

/** How many of a set's images (by original file) the run's training split held; undefined if that cannot be read. */
async function imagesTrainedOn(ownPrepared: string, evaluated: PreparedManifest, split: EvaluationSplit): Promise<number | undefined> {
  const own = await readManifest(ownPrepared).catch(() => undefined);
  if (!own) return undefined;
  const trained = new Set(own.images.filter((i) => i.split === 'train').map((i) => i.source));
  return evaluated.images.filter((i) => i.split === split && trained.has(i.source)).length;
}

async function sameFolder(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  const [ra, rb] = await Promise.all([fs.realpath(a).catch(() => a), fs.realpath(b).catch(() => b)]);
  return ra === rb;
}
