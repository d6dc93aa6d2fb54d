/** model-card.md: what the model is, what it was trained on, how well it does on each evaluated set, and what it is not for. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EpochMetrics, Evaluation } from '../../shared/protocol/results';
import { classLabel } from '../../shared/classes';
import { formatPercent } from '../../shared/format';
import type { RunConfig } from '../../shared/runConfig';
import { describeEpochEngines, describeMonitor, runMonitor } from '../../shared/runConfig';
import { isEvaluationReport, orderEvaluationReports, withEvaluatedSet } from '../../shared/runFiles';
import { ISIC2018_LEADERBOARD, chanceWarning, formatInterval, formatWithInterval } from '../../shared/trust';

/** Layouts of HAM10000's images (and runs from before the layout was recorded). */
const HAM_LAYOUTS = new Set([undefined, 'kaggle-ham10000', 'dataverse-ham10000', 'isic2018-task3-training', 'isic2018-task3-test']);

/** Every evaluation report in a run folder: validation first, then the test split, then other sets by name. */
export async function readEvaluationReports(runDir: string): Promise<Evaluation[]> {
  const names = (await fs.readdir(runDir).catch(() => [] as string[])).filter(isEvaluationReport);
  const reports: Evaluation[] = [];
  for (const name of names) {
    try {
      reports.push(withEvaluatedSet(name, JSON.parse(await fs.readFile(path.join(runDir, name), 'utf8')) as Evaluation));
    } catch {
      // a report someone is writing right now, or a damaged one: the card lists the rest
    }
  }
  return orderEvaluationReports(reports);
}

export function renderModelCard(config: RunConfig, reports: Evaluation[], metrics: EpochMetrics[], checkpointEpoch: number): string {
  const o = config.options;
  const d = config.dataset;
  const ham = HAM_LAYOUTS.has(d.layout);
  // HAM10000's lesion split reads as it always has; another group column is named.
  const splitBy = d.split !== 'lesion' ? d.split : d.groupedBy && d.groupedBy !== 'lesion_id' ? d.groupedBy : d.groupedBy || ham ? 'lesion' : 'image (the data has no group column)';
  // By name: `unfreezeFrom` may be an index ("1" when training from scratch).
  const from = config.finetuneFrom ?? o.unfreezeFrom;
  const phases = o.phase === 'both' ? `head (${o.epochs} epochs, ${o.headOptimizer} lr ${o.lr}) then fine-tuning from \`${from}\` (${o.finetuneEpochs} epochs, ${o.finetuneOptimizer} lr ${o.finetuneLr})` : o.phase === 'head' ? `head only (${o.epochs} epochs, ${o.headOptimizer} lr ${o.lr})` : `fine-tuning from \`${from}\` (${o.finetuneEpochs} epochs, ${o.finetuneOptimizer} lr ${o.finetuneLr})`;
  const synthetic = config.dataset.synthetic === true;
  return `# Model card: ${o.model}${o.alpha ? ` (alpha ${o.alpha})` : ''} skin-lesion classifier

> **A research and education model, not a medical device.** It must not be used to diagnose, screen
> or triage patients. Dermatoscopic classifiers are known to fail on skin types, devices and lesion
> types that are rare in their training data.
${synthetic ? '\n> **Trained on synthetic demo data** (`lesion-lab demo-data`): painted shapes, not photographs of skin.\n> Its predictions on real photographs are meaningless.\n' : ''}
## Model
- Backbone: ${o.model}, weights: ${o.weights}, input ${o.size}×${o.size}
- Head: global average pooling → Dense(1000, relu) → Dropout(0.25) → Dense(${config.classes.length}, softmax)
- Training: ${phases}; batch ${o.batch}; augmentation: ${o.augment}; class weights: ${o.classWeights ? 'balanced' : 'none'}; seed ${o.seed}
- Engine: ${config.engine?.engine ?? 'unknown'} (${config.engine?.device ?? ''}), ${config.engine?.precision === 'mixed' ? 'mixed precision (float16 convolutions)' : 'float32'}${(config.sessions?.length ?? 0) > 1 ? `; by epoch: ${describeEpochEngines(config) ?? 'not recorded'}` : ''}; Lesion Lab ${config.lesionLab}${config.revision ? ` (${config.revision.slice(0, 12)}${config.revision.endsWith('-dirty') ? ', with uncommitted changes' : ''})` : ''}
${config.engine?.threads !== undefined ? `- CPU threads: ${config.engine.threads} (a seeded run repeats exactly at the same thread count)\n` : ''}- Checkpoint: ${describeMonitor(runMonitor(config))} on the validation split, epoch ${checkpointEpoch} of ${metrics.length}

## Data
- Prepared dataset: \`${config.dataset.prepared}\`${d.layout ? ` (${d.layout})` : ''}${synthetic ? ' — synthetic demo data' : ''}
- Classes, in the model's output order: ${config.classes.join(', ')}
- Split: by ${splitBy} (validation fraction ${config.dataset.valFraction}, seed ${config.dataset.seed})${config.dataset.split === 'image' ? ' — an image-level split lets images of the same lesion appear in train and validation, so these figures are optimistic' : ''}
${d.leakage ? `- ${d.leakage} These figures may be optimistic.\n` : ''}${d.nearDuplicates ? `- ${d.nearDuplicates.replace(/^near-duplicates: /, 'Near-duplicates (perceptual hash, at prepare): ')}\n` : ''}- ${config.dataset.train} training images${config.dataset.augmented ? ` (including ${config.dataset.augmented} augmented)` : ''}, ${config.dataset.val} validation images

${reports.length ? reports.map((r) => resultsSection(r, checkpointEpoch, config.classLabels)).join('\n') : '## Results\nNot evaluated yet: run `lesion-lab evaluate --run <this folder>`.\n'}
## How to read these figures
- Intervals are 95% percentile bootstrap intervals (${reports[0]?.bootstrap?.resamples ?? 1000} resamples, stratified by class, seeded) for
  balanced accuracy and accuracy, and Wilson score intervals for each class's recall (a class whose images were all right
  still gets a lower bound below 100%): the range the figure could plausibly take on another sample of the same size. With the demo's 70 validation images
  they are about ±9 points wide; with HAM10000's ~2,000, about ±2–3.
- "At chance level" means the balanced-accuracy interval includes what guessing scores (1 / number of classes).
- Validation figures are optimistic: the validation split chose the checkpoint. A held-out test set does not.

## Intended use
Teaching and research on dermatoscopic image classification: reproducing and comparing training
recipes on ${ham ? 'HAM10000 / ISIC 2018' : 'the dataset above'}. Not for clinical use.

## Limitations
- ${ham ? 'HAM10000 comes from two sites and mostly fair skin; performance elsewhere is unknown.' : 'Where the training images come from (sites, devices, skin types) bounds where this model can work; performance elsewhere is unknown.'}
- ${reports.some((r) => r.set?.kind === 'test') ? 'Lesion-grouped validation is optimistic against an external test set (Gessert et al. 2019: 74.2% cross-validated vs 63.6% on the official ISIC 2019 test set).' : 'Validation figures come from a split of the same collection, not an external test set.'}
`;
}

function resultsSection(ev: Evaluation, checkpointEpoch: number, classLabels: Record<string, string> | undefined): string {
  const set = ev.set;
  const title = set?.usedForSelection ? `validation (${ev.count} images) — optimistic: used for model selection` : `${set?.kind === 'test' ? 'test set' : 'held-out set'} ${set && set.id !== 'test' && set.id !== 'val' ? `\`${set.id}\` ` : ''}(${ev.count} images)`;
  const recall = (c: Evaluation['perClass'][number]): string => (c.recallCi ? `${formatPercent(c.recall)} (${formatInterval(c.recallCi)})` : formatPercent(c.recall));
  const auc = (k: number): string => {
    const a = ev.ranking?.perClass[k]?.auc;
    return a === undefined ? '–' : a.toFixed(3);
  };
  const rows = ev.perClass.map((c, k) => `| ${c.name} | ${classLabel(c.name, ev.classLabels ?? classLabels) ?? ''} | ${formatPercent(c.precision)} | ${recall(c)} | ${formatPercent(c.f1)} | ${auc(k)} | ${c.support} |`);
  const warning = chanceWarning(ev.chance?.verdict, ev.classes.length);
  const cal = ev.calibration;
  const lines = [
    `## Results on ${title}`,
    ...(set ? [`- Report: \`${set.report}\`${set.prepared ? `, images from \`${set.prepared}\`` : ''}${ev.checkpointEpoch !== undefined && ev.checkpointEpoch !== checkpointEpoch ? ` — made with the checkpoint of epoch ${ev.checkpointEpoch}; the best checkpoint is now epoch ${checkpointEpoch}, so evaluate again` : ''}`] : []),
    ...(warning ? [`- **${warning}**`] : []),
    ...(set?.overlapWithTraining ? [`- **${set.overlapWithTraining} of these images were in the run's training split**: the figures are optimistic.`] : []),
    `- **Balanced accuracy (mean per-class recall, the ISIC 2018 metric): ${formatWithInterval(ev.balancedAccuracy, ev.balancedAccuracyCi)}**`,
    `- Accuracy: ${formatWithInterval(ev.accuracy, ev.accuracyCi)} (dominated by the largest class)`,
    ...(ev.ranking?.macroAuc !== undefined ? [`- Macro AUC (one-vs-rest): ${ev.ranking.macroAuc.toFixed(3)}${ev.ranking.macroAveragePrecision !== undefined ? `; macro average precision ${ev.ranking.macroAveragePrecision.toFixed(3)}` : ''}`] : []),
    ...(cal ? [`- Calibration: expected calibration error ${formatPercent(cal.ece)} (15 bins), NLL ${cal.nll.toFixed(3)}${cal.temperature ? `; with temperature scaling (T = ${cal.temperature.value.toFixed(2)}, fitted on ${cal.temperature.fittedOn}): ECE ${formatPercent(cal.temperature.ece)}, NLL ${cal.temperature.nll.toFixed(3)}` : ''}`] : []),
    ...(set?.isic2018Test ? [`- For context, the ISIC 2018 Task 3 leaderboard (balanced multi-class accuracy): ${ISIC2018_LEADERBOARD.top}. ${ISIC2018_LEADERBOARD.caveat}`] : []),
    '',
    '| class | diagnosis | precision | recall (95% CI) | F1 | AUC | support |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
  return lines.join('\n');
}
