/**
 * `lesion-lab evaluate --ensemble RUN,RUN… | SWEEP`: the members' best checkpoints each predict the same images (at
 * their own input size and preprocessing, optionally with TTA) and their class probabilities are averaged — the
 * fold-model ensembles of the ISIC leaderboards. Reported like any evaluation, with stratified bootstrap intervals.
 *
 * Where it is evaluated: with --data, that prepared dataset's test split (else its validation split); without, the
 * members' own validation split when they share one. Cross-validation fold runs have no shared unseen split (each
 * trained on the others' validation folds), so they need --data or a test split in their prepared dataset.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EvaluateOptions } from '../../shared/protocol/jobs';
import type { EvaluatedSet } from '../../shared/protocol/results';
import type { RunConfig } from '../../shared/runConfig';
import { ENSEMBLE_REPORT } from '../../shared/runFiles';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { readManifest } from '../dataset/manifest';
import { splitImages } from '../training/datasetImages';
import type { LabeledImage } from '../training/imagePipeline';
import { readPlan, SweepFolder } from '../sweep/sweepFolder';
import { readRunProgress } from '../sweep/runProgress';
import { bootstrapIntervals } from './bootstrap';
import { argmaxRows } from './metrics';
import { evaluationOf } from './evaluationOf';
import { summariseEvaluation } from './evaluationReport';
import { imageProbabilities } from './imageProbabilities';
import { loadTrainedModel } from './trainedModel';

export const ENSEMBLE_EVALUATION_FILE = ENSEMBLE_REPORT;

/** The element-wise mean of the members' probabilities (each row-major [images × classes], all the same length). */
export function averageProbabilities(members: readonly Float32Array[]): Float32Array {
  if (members.length === 0) throw new Error('an ensemble needs at least one member');
  const n = members[0]!.length;
  if (members.some((m) => m.length !== n)) throw new Error(`ensemble members disagree on the number of outputs: ${members.map((m) => m.length).join(', ')}`);
  const out = new Float32Array(n);
  for (const m of members) for (let i = 0; i < n; i++) out[i]! += m[i]!;
  for (let i = 0; i < n; i++) out[i]! /= members.length;
  return out;
}

export const readMemberConfig = async (run: string): Promise<RunConfig> => {
  try {
    return JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as RunConfig;
  } catch {
    throw new UserError(`${run} is not a Lesion Lab run folder (no readable config.json), nor a sweep folder. Give run folders or a sweep/cross-validation folder to --ensemble.`);
  }
};

/** Run folders from the arguments: a sweep or cross-validation folder stands for its finished runs. */
export async function ensembleMembers(paths: readonly string[]): Promise<{ runs: string[]; sweep?: string }> {
  const runs: string[] = [];
  let sweep: string | undefined;
  for (const p of paths.map((x) => path.resolve(x))) {
    const plan = await readPlan(p).catch(() => undefined);
    if (!plan) {
      runs.push(p);
      continue;
    }
    sweep ??= p;
    const folder = new SweepFolder(p);
    for (const task of plan.tasks) {
      const run = folder.runDir(task);
      if ((await readRunProgress(run)).status === 'finished') runs.push(run);
    }
  }
  if (runs.length === 0) throw new UserError(`${paths.join(', ')} holds no finished run yet. Let the sweep finish (lesion-lab sweep-status shows it), or name run folders.`);
  return { runs: [...new Set(runs)], ...(sweep ? { sweep } : {}) };
}

export async function evaluateEnsemble(options: EvaluateOptions & { ensemble: string[] }, ctx: JobContext): Promise<void> {
  const { runs, sweep } = await ensembleMembers(options.ensemble);
  const configs = await Promise.all(runs.map(readMemberConfig));
  const classes = configs[0]!.classes;
  configs.forEach((c, i) => {
    if (JSON.stringify(c.classes) !== JSON.stringify(classes)) throw new UserError(`${runs[i]} predicts ${c.classes.join(', ')}, and ${runs[0]} ${classes.join(', ')}: an ensemble's members must share their classes, in order.`);
  });
  const { images, split, kind, prepared } = await ensembleImages(options.data, runs, configs);
  const out = path.resolve(options.out ?? sweep ?? '');
  if (!options.out && !sweep) throw new UserError('Say where to write the ensemble evaluation with --out DIR (a sweep folder given to --ensemble is used by default).');

  const k = classes.length;
  const members: Float32Array[] = [];
  const progress = new ProgressReporter(ctx.emit, `ensemble of ${runs.length}`, runs.length * images.length, 'image');
  for (const [m, run] of runs.entries()) {
    const trained = await loadTrainedModel(run, options.engine, options.threads, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
    try {
      const pipeline = { size: trained.config.options.size, preprocess: trained.preprocess, batchSize: trained.config.options.batch, tta: options.tta === true };
      members.push(await imageProbabilities((x) => trained.model.predict(x) as never, images, k, pipeline, ctx.signal, (done) => progress.update(m * images.length + done)));
    } finally {
      trained.model.dispose();
    }
  }
  const probs = averageProbabilities(members);
  const labels = Int32Array.from(images, (i) => i.label);
  // Reported like any evaluation: the same bootstrap intervals (balanced accuracy, accuracy, each class's recall),
  // ROC, calibration and chance verdict as a single run's report, so the Evaluation panel shows it as one.
  const set: EvaluatedSet = { id: 'ensemble', kind, report: ENSEMBLE_EVALUATION_FILE, prepared, usedForSelection: !options.data && kind === 'validation', members: runs };
  const evaluation = summariseEvaluation({
    split: `${split}, ensemble of ${runs.length} model${runs.length === 1 ? '' : 's'}${options.tta ? ' with TTA' : ''}`,
    set,
    classes,
    ...(configs[0]!.classLabels ? { classLabels: configs[0]!.classLabels } : {}),
    files: images.map((i) => i.file),
    labels,
    probs,
  });
  const memberFigures = members.map((p, i) => {
    const e = evaluationOf(p, images, configs[0]!, split);
    const ci = bootstrapIntervals(labels, argmaxRows(p, k), k);
    return { run: runs[i]!, balancedAccuracy: e.balancedAccuracy, balancedAccuracyCi: ci.balancedAccuracy, accuracy: e.accuracy };
  });
  // `intervals` repeats balancedAccuracyCi/accuracyCi under the name reports written before this one used.
  const intervals = { balancedAccuracy: evaluation.balancedAccuracyCi!, accuracy: evaluation.accuracyCi! };
  const file = path.join(out, ENSEMBLE_EVALUATION_FILE);
  await writeJsonAtomic(file, { ...evaluation, intervals, members: memberFigures, tta: options.tta === true, data: prepared });
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  ctx.emit({
    type: 'log',
    level: 'info',
    message: `ensemble balanced accuracy ${pct(evaluation.balancedAccuracy)} (95% CI ${pct(intervals.balancedAccuracy.low)}–${pct(intervals.balancedAccuracy.high)}); members ${memberFigures.map((f) => pct(f.balancedAccuracy)).join(', ')}; report: ${file} (Lesion Lab: Open Run Folder… on ${out} shows it in the Evaluation panel)`,
  });
  ctx.emit({ type: 'evaluate/didFinish', run: out, evaluation, path: file });
}

/** The images the ensemble is evaluated on, and what to call them. */
async function ensembleImages(data: string | undefined, runs: readonly string[], configs: readonly RunConfig[]): Promise<{ images: LabeledImage[]; split: string; kind: EvaluatedSet['kind']; prepared: string }> {
  const classes = configs[0]!.classes;
  if (data) {
    const prepared = path.resolve(data);
    const splits = splitImages(await readManifest(prepared), prepared, classes);
    const split = splits.test.length ? 'test' : 'val';
    const images = splits[split].filter((i) => i.label >= 0);
    if (images.length === 0) throw new UserError(`${prepared} has no labelled test or validation images to evaluate the ensemble on.`);
    return { images, split: split === 'test' ? 'test' : `validation of ${prepared}`, kind: split === 'test' ? 'test' : 'validation', prepared };
  }
  const prepared = configs[0]!.options.prepared!;
  if (configs.some((c) => c.options.prepared !== prepared)) throw new UserError(`The members were trained on different prepared datasets (${[...new Set(configs.map((c) => c.options.prepared))].join(', ')}); say which to evaluate on with --data.`);
  const splits = splitImages(await readManifest(prepared), prepared, classes);
  const test = splits.test.filter((i) => i.label >= 0);
  if (test.length) return { images: test, split: 'test', kind: 'test', prepared };
  if (configs.some((c) => c.options.folds !== undefined)) {
    throw new UserError(
      `${runs.length} cross-validation fold runs have no images none of them trained on: each trained on the others' validation folds, and ${prepared} has no test split. ` +
        'Evaluate the ensemble on a held-out prepared dataset with --data DIR.',
    );
  }
  // The members chose their checkpoints on this split: the figure is optimistic, as every validation figure is.
  return { images: splits.val.filter((i) => i.label >= 0), split: 'validation (used for checkpoint selection: optimistic)', kind: 'validation', prepared };
}
