/**
 * What a run's files say about the model it keeps (checkpoints/best): which epoch that is, which validation
 * figure chose it, how well it did with what uncertainty, and what it was trained on. Read the same way by
 * the backend (Classify's provenance, the CLI) and the extension (the runs list, the Training panel).
 */
import type { Monitor } from './protocol/jobs';
import type { EpochMetrics, Evaluation, ModelProvenance } from './protocol/results';
import type { RunConfig } from './runConfig';
import { runMonitor } from './runConfig';
import { chanceVerdict } from './trust';

type Figures = Pick<EpochMetrics, 'valAccuracy' | 'valBalancedAccuracy' | 'valLoss'>;

/** The monitored figure, oriented so that higher is better. */
export function monitoredScore(m: Figures, monitor: Monitor): number {
  return monitor === 'val_loss' ? -m.valLoss : monitor === 'val_acc' ? m.valAccuracy : m.valBalancedAccuracy;
}

/** The monitored figure as people read it (a loss, not its negative). */
export function monitoredValue(m: Figures, monitor: Monitor): number {
  return monitor === 'val_loss' ? m.valLoss : monitoredScore(m, monitor);
}

/** The epoch ModelCheckpoint kept: the first with the best monitored figure (Keras saves on strict improvement only). */
export function bestEpochOf(metrics: readonly EpochMetrics[], monitor: Monitor): EpochMetrics | undefined {
  let best: EpochMetrics | undefined;
  for (const m of metrics) if (!best || monitoredScore(m, monitor) > monitoredScore(best, monitor)) best = m;
  return best;
}

/** The kept checkpoint's validation balanced accuracy: from the validation report when it is of that checkpoint, else from training's own validation. */
export function checkpointValidation(config: Pick<RunConfig, 'options' | 'classes' | 'dataset'>, metrics: readonly EpochMetrics[], report?: Evaluation): ModelProvenance['validation'] {
  const best = bestEpochOf(metrics, runMonitor(config));
  const numClasses = config.classes.length;
  if (report && report.checkpointEpoch !== undefined && (!best || report.checkpointEpoch === best.epoch) && report.set?.usedForSelection !== false) {
    return {
      epoch: report.checkpointEpoch,
      balancedAccuracy: report.balancedAccuracy,
      ...(report.balancedAccuracyCi ? { ci: report.balancedAccuracyCi, chance: chanceVerdict(report.balancedAccuracyCi, numClasses) } : {}),
      images: report.count,
      from: 'evaluation',
    };
  }
  if (!best) return undefined;
  const ci = best.valBalancedAccuracyCi;
  return { epoch: best.epoch, balancedAccuracy: best.valBalancedAccuracy, ...(ci ? { ci, chance: chanceVerdict(ci, numClasses) } : {}), images: config.dataset.val, from: 'training' };
}
