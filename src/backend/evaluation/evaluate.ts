/**
 * `lesion-lab evaluate`: the best checkpoint on the validation split (or another prepared dataset's
 * test/val split): accuracy, balanced accuracy, per-class precision/recall/F1, confusion matrix and
 * the highest-loss images; written to evaluation.json and summarised in model-card.md.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { EvaluateOptions } from '../../shared/protocol/jobs';
import type { DatasetSummary } from '../../shared/protocol/results';
import { UserError } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { writeFileAtomic, writeJsonAtomic } from '../fsAtomic';
import { readManifest } from '../dataset/manifest';
import type { LabeledImage } from '../training/imagePipeline';
import { imageBatches } from '../training/imagePipeline';
import { evaluationOf } from './evaluationOf';
import { loadTrainedModel } from './trainedModel';
import { runSplitImages, splitImages } from '../training/datasetImages';
import { renderModelCard } from './modelCard';
import { RunFolder } from '../training/runFolder';
import { foldBatchNorm } from '../models/foldedInference';

/** What the validation split kept apart: lesions (HAM10000), patients (ISIC 2020) … or only images. */
function splitLevel(s: DatasetSummary): string {
  if (s.split === 'image') return 'image';
  if (s.grouping) return s.grouping.noun;
  return s.leakage ? 'image' : 'lesion'; // a summary from before groupings were recorded was split by lesion_id
}

export async function evaluateRun(options: EvaluateOptions, ctx: JobContext): Promise<void> {
  if (options.ensemble) return (await import('./ensemble')).evaluateEnsemble({ ...options, ensemble: options.ensemble }, ctx);
  if (!options.run) throw new UserError('Give the run to evaluate with --run DIR, or an ensemble with --ensemble RUN,RUN… (or a sweep folder).');
  if (options.tta || options.out) throw new UserError('--tta and --out go with --ensemble; evaluate a single run without them.');
  const runDir = path.resolve(options.run);
  const trained = await loadTrainedModel(runDir, options.engine, options.threads, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
  const { config, model } = trained;
  try {
    const prepared = path.resolve(options.data ?? config.options.prepared);
    const manifest = await readManifest(prepared);
    const splits = options.data ? splitImages(manifest, prepared, config.classes) : runSplitImages(manifest, prepared, config);
    const splitName = options.data && splits.test.length ? 'test' : 'val';
    const images: LabeledImage[] = splits[splitName].filter((i) => i.label >= 0);
    if (images.length === 0) throw new UserError(`${prepared} has no ${splitName} images to evaluate on. Prepare it with a validation split, or pass --data with a prepared test set.`);
    const numClasses = config.classes.length;
    const probs = new Float32Array(images.length * numClasses);
    const progress = new ProgressReporter(ctx.emit, `evaluate ${splitName}`, images.length, 'image');
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
    const evaluation = evaluationOf(probs, images, config, splitName === 'val' ? `validation (${splitLevel(manifest.summary)}-level split)` : 'test');
    const run = new RunFolder(runDir);
    await writeJsonAtomic(run.evaluation, { ...evaluation, checkpointEpoch: trained.epoch, evaluatedAt: new Date().toISOString(), data: prepared });
    const metrics = await run.readMetrics();
    await writeFileAtomic(run.modelCard, renderModelCard(config, evaluation, metrics, trained.epoch));
    ctx.emit({ type: 'evaluate/didFinish', run: runDir, evaluation, path: run.evaluation });
  } finally {
    model.dispose();
  }
}

