/** model-card.md: what the model is, what it was trained on, how well it does per class, and what it is not for. */
import type { EpochMetrics, Evaluation } from '../../shared/protocol/results';
import { classLabel } from '../../shared/classes';
import { formatPercent } from '../../shared/format';
import type { RunConfig } from '../../shared/runConfig';
import { describeEpochEngines } from '../../shared/runConfig';

/** Layouts of HAM10000's images (and runs from before the layout was recorded). */
const HAM_LAYOUTS = new Set([undefined, 'kaggle-ham10000', 'dataverse-ham10000', 'isic2018-task3-training', 'isic2018-task3-test']);

export function renderModelCard(config: RunConfig, ev: Evaluation, metrics: EpochMetrics[], checkpointEpoch: number): string {
  const o = config.options;
  const d = config.dataset;
  const ham = HAM_LAYOUTS.has(d.layout);
  // HAM10000's lesion split reads as it always has; another group column is named.
  const splitBy = d.split !== 'lesion' ? d.split : d.groupedBy && d.groupedBy !== 'lesion_id' ? d.groupedBy : d.groupedBy || ham ? 'lesion' : 'image (the data has no group column)';
  const rows = ev.perClass.map((c) => `| ${c.name} | ${classLabel(c.name, config.classLabels) ?? ''} | ${formatPercent(c.precision)} | ${formatPercent(c.recall)} | ${formatPercent(c.f1)} | ${c.support} |`);
  // By name: `unfreezeFrom` may be an index ("1" when training from scratch).
  const from = config.finetuneFrom ?? o.unfreezeFrom;
  const phases = o.phase === 'both' ? `head (${o.epochs} epochs, ${o.headOptimizer} lr ${o.lr}) then fine-tuning from \`${from}\` (${o.finetuneEpochs} epochs, ${o.finetuneOptimizer} lr ${o.finetuneLr})` : o.phase === 'head' ? `head only (${o.epochs} epochs, ${o.headOptimizer} lr ${o.lr})` : `fine-tuning from \`${from}\` (${o.finetuneEpochs} epochs, ${o.finetuneOptimizer} lr ${o.finetuneLr})`;
  return `# Model card: ${o.model}${o.alpha ? ` (alpha ${o.alpha})` : ''} skin-lesion classifier

> **A research and education model, not a medical device.** It must not be used to diagnose, screen
> or triage patients. Dermatoscopic classifiers are known to fail on skin types, devices and lesion
> types that are rare in their training data.

## Model
- Backbone: ${o.model}, weights: ${o.weights}, input ${o.size}×${o.size}
- Head: global average pooling → Dense(1000, relu) → Dropout(0.25) → Dense(${config.classes.length}, softmax)
- Training: ${phases}; batch ${o.batch}; augmentation: ${o.augment}; class weights: ${o.classWeights ? 'balanced' : 'none'}; seed ${o.seed}
- Engine: ${config.engine?.engine ?? 'unknown'} (${config.engine?.device ?? ''}), ${config.engine?.precision === 'mixed' ? 'mixed precision (float16 convolutions)' : 'float32'}${(config.sessions?.length ?? 0) > 1 ? `; by epoch: ${describeEpochEngines(config) ?? 'not recorded'}` : ''}; Lesion Lab ${config.lesionLab}${config.revision ? ` (${config.revision.slice(0, 12)}${config.revision.endsWith('-dirty') ? ', with uncommitted changes' : ''})` : ''}
${config.engine?.threads !== undefined ? `- CPU threads: ${config.engine.threads} (a seeded run repeats exactly at the same thread count)\n` : ''}- Checkpoint: best validation accuracy, epoch ${checkpointEpoch} of ${metrics.length}

## Data
- Prepared dataset: \`${config.dataset.prepared}\`${d.layout ? ` (${d.layout})` : ''}
- Classes, in the model's output order: ${config.classes.join(', ')}
- Split: by ${splitBy} (validation fraction ${config.dataset.valFraction}, seed ${config.dataset.seed})${config.dataset.split === 'image' ? ' — an image-level split lets images of the same lesion appear in train and validation, so these figures are optimistic' : ''}
${d.leakage ? `- ${d.leakage} These figures may be optimistic.\n` : ''}- ${config.dataset.train} training images${config.dataset.augmented ? ` (including ${config.dataset.augmented} augmented)` : ''}, ${config.dataset.val} validation images

## Results on ${ev.split} (${ev.count} images)
- **Balanced accuracy (mean per-class recall, the ISIC 2018 metric): ${formatPercent(ev.balancedAccuracy)}**
- Accuracy: ${formatPercent(ev.accuracy)} (dominated by the largest class)

| class | diagnosis | precision | recall | F1 | support |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

## Intended use
Teaching and research on dermatoscopic image classification: reproducing and comparing training
recipes on ${ham ? 'HAM10000 / ISIC 2018' : 'the dataset above'}. Not for clinical use.

## Limitations
- ${ham ? 'HAM10000 comes from two sites and mostly fair skin; performance elsewhere is unknown.' : 'Where the training images come from (sites, devices, skin types) bounds where this model can work; performance elsewhere is unknown.'}
- Validation figures come from a split of the same collection, not an external test set.
`;
}
