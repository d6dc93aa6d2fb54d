/**
 * The sweep's summary (`summary.json`, `summary.md`): every finished run with its best validation figures, and for a
 * cross-validation each configuration's folds — per fold, mean ± sd, and the out-of-fold pool (every image predicted
 * by the one model that did not train on it) with a bootstrap 95% interval. Read from the run folders alone, so any
 * process that sees them (the last task, `sweep-status`, the extension) writes the same summary.
 */
import { promises as fs } from 'node:fs';
import type { CrossValidationResult, SweepPlan, SweepRunResult, SweepSummary, SweepValue } from '../../shared/sweep';
import { writeFileAtomic, writeJsonAtomic } from '../fsAtomic';
import { accuracyOf, argmaxRows, balancedAccuracyOf, confusionMatrix } from '../evaluation/metrics';
import { bootstrapIntervals } from '../evaluation/bootstrap';
import { VAL_PREDICTIONS_FILE, bestEpoch, readRunProgress } from './runProgress';
import type { SweepFolder } from './sweepFolder';
import type { ValPredictions } from './sweepTask';
import path from 'node:path';

interface FinishedRun {
  result: SweepRunResult;
  predictions: ValPredictions;
}

const meanSd = (xs: readonly number[]): { mean: number; sd: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
};

/** Figures of one set of predictions: the confusion-matrix metrics of their arg-max. */
function figures(predictions: ValPredictions): { labels: Int32Array; predicted: Int32Array; balancedAccuracy: number; accuracy: number } {
  const k = predictions.classes.length;
  const labels = Int32Array.from(predictions.images, (i) => i.label);
  const predicted = argmaxRows(predictions.images.flatMap((i) => i.probabilities), k);
  const confusion = confusionMatrix(labels, predicted, k);
  return { labels, predicted, balancedAccuracy: balancedAccuracyOf(confusion), accuracy: accuracyOf(confusion) };
}

export async function computeSummary(folder: SweepFolder, plan: SweepPlan): Promise<SweepSummary> {
  const finished: FinishedRun[] = [];
  for (const task of plan.tasks) {
    const runDir = folder.runDir(task);
    const progress = await readRunProgress(runDir);
    if (progress.status !== 'finished' || !progress.predicted) continue;
    const predictions = JSON.parse(await fs.readFile(path.join(runDir, VAL_PREDICTIONS_FILE), 'utf8')) as ValPredictions;
    const f = figures(predictions);
    finished.push({
      predictions,
      result: {
        index: task.index,
        name: task.name,
        params: task.params,
        epochs: progress.epochs.length,
        bestEpoch: predictions.checkpointEpoch || (bestEpoch(progress.epochs)?.epoch ?? 0),
        valBalancedAccuracy: f.balancedAccuracy,
        valAccuracy: f.accuracy,
        valImages: predictions.images.length,
      },
    });
  }
  const classes = finished[0]?.predictions.classes ?? [];
  return {
    kind: plan.kind,
    name: plan.name,
    classes,
    finished: finished.length,
    total: plan.tasks.length,
    runs: finished.map((f) => f.result),
    crossValidation: plan.folds ? crossValidation(finished, plan.folds.k) : [],
    writtenAt: new Date().toISOString(),
  };
}

/** Groups the fold runs by configuration (their params without the fold), in the plan's order. */
function crossValidation(finished: readonly FinishedRun[], k: number): CrossValidationResult[] {
  const groups = new Map<string, { config: Record<string, SweepValue>; runs: FinishedRun[] }>();
  for (const run of finished) {
    const { fold: _fold, ...config } = run.result.params;
    const key = JSON.stringify(config);
    const g = groups.get(key) ?? { config, runs: [] };
    g.runs.push(run);
    groups.set(key, g);
  }
  return [...groups.values()].map(({ config, runs }) => {
    const sorted = [...runs].sort((a, b) => Number(a.result.params.fold) - Number(b.result.params.fold));
    const perFold = sorted.map((r) => ({ fold: Number(r.result.params.fold), balancedAccuracy: r.result.valBalancedAccuracy, accuracy: r.result.valAccuracy, images: r.result.valImages }));
    const result: CrossValidationResult = {
      config,
      folds: k,
      perFold,
      balancedAccuracy: meanSd(perFold.map((f) => f.balancedAccuracy)),
      accuracy: meanSd(perFold.map((f) => f.accuracy)),
    };
    if (sorted.length === k) {
      // Every fold is in: pool them. Each image appears in exactly one fold, so the pool is the whole dataset once.
      const pooled: ValPredictions = { classes: sorted[0]!.predictions.classes, checkpointEpoch: 0, images: sorted.flatMap((r) => r.predictions.images) };
      const f = figures(pooled);
      const numClasses = pooled.classes.length;
      const ci = bootstrapIntervals(f.labels, f.predicted, numClasses);
      const confusion = confusionMatrix(f.labels, f.predicted, numClasses);
      const perClassRecall = Object.fromEntries(
        pooled.classes.flatMap((c, i) => {
          const support = confusion[i]!.reduce((a, b) => a + b, 0);
          return support ? [[c, confusion[i]![i]! / support]] : [];
        }),
      );
      const perClassRecallCi = Object.fromEntries(pooled.classes.flatMap((c, i) => (ci.recall[i] ? [[c, ci.recall[i]]] : [])));
      result.outOfFold = { images: pooled.images.length, balancedAccuracy: f.balancedAccuracy, accuracy: f.accuracy, balancedAccuracyCi: ci.balancedAccuracy, accuracyCi: ci.accuracy, perClassRecall, perClassRecallCi };
    }
    return result;
  });
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const describeParams = (p: Record<string, SweepValue>): string => Object.entries(p).map(([k, v]) => `${k} ${v}`).join(', ') || '(base options)';

export function summaryMarkdown(s: SweepSummary): string {
  const lines = [`# ${s.kind === 'cv' ? 'Cross-validation' : 'Sweep'} ${s.name}`, '', `${s.finished} of ${s.total} runs finished.`, ''];
  for (const cv of s.crossValidation) {
    lines.push(`## ${describeParams(cv.config)}`, '', '| fold | images | balanced accuracy | accuracy |', '| --- | --- | --- | --- |');
    for (const f of cv.perFold) lines.push(`| ${f.fold} | ${f.images} | ${pct(f.balancedAccuracy)} | ${pct(f.accuracy)} |`);
    lines.push(`| mean ± sd | | ${pct(cv.balancedAccuracy.mean)} ± ${pct(cv.balancedAccuracy.sd)} | ${pct(cv.accuracy.mean)} ± ${pct(cv.accuracy.sd)} |`, '');
    if (cv.outOfFold) {
      const o = cv.outOfFold;
      lines.push(`Out of fold (${o.images} images, each predicted by the model that did not train on it): balanced accuracy **${pct(o.balancedAccuracy)}** (95% CI ${pct(o.balancedAccuracyCi.low)}–${pct(o.balancedAccuracyCi.high)}), accuracy ${pct(o.accuracy)} (95% CI ${pct(o.accuracyCi.low)}–${pct(o.accuracyCi.high)}).`, '');
    } else {
      lines.push(`Out of fold: when all ${cv.folds} folds have finished (${cv.perFold.length} so far).`, '');
    }
  }
  if (s.runs.length > 0) {
    lines.push('## Runs', '', '| run | options | best epoch | val balanced accuracy | val accuracy |', '| --- | --- | --- | --- | --- |');
    for (const r of [...s.runs].sort((a, b) => b.valBalancedAccuracy - a.valBalancedAccuracy)) lines.push(`| ${r.name} | ${describeParams(r.params)} | ${r.bestEpoch} | ${pct(r.valBalancedAccuracy)} | ${pct(r.valAccuracy)} |`);
    lines.push('');
  }
  lines.push('Validation figures choose the checkpoint they are measured on, so they are optimistic; report a held-out test set for a final number.', '');
  return lines.join('\n');
}

export async function writeSummary(folder: SweepFolder, plan: SweepPlan): Promise<SweepSummary> {
  const summary = await computeSummary(folder, plan);
  await writeJsonAtomic(folder.summary, summary);
  await writeFileAtomic(folder.summaryMarkdown, summaryMarkdown(summary));
  return summary;
}

/** Writes the summary when every task has finished; returns it then. */
export async function writeSummaryIfComplete(folder: SweepFolder, plan: SweepPlan): Promise<SweepSummary | undefined> {
  for (const task of plan.tasks) {
    const p = await readRunProgress(folder.runDir(task));
    if (p.status !== 'finished' || !p.predicted) return undefined;
  }
  return writeSummary(folder, plan);
}
