/**
 * What happens after an epoch, as Keras' callbacks in the reference workflow decide it:
 * ModelCheckpoint(monitor, save_best_only) — the monitor is --monitor: val_bal_acc by default, val_acc as
 * the reference, or val_loss — EarlyStopping(val_loss, patience 3) and EarlyStopping(val_accuracy,
 * patience 10), each counting epochs without improvement (strictly better, as Keras compares). Pure: the
 * same state and metrics give the same decision, so a resumed run decides exactly as an uninterrupted one.
 */
import type { Monitor } from '../../shared/protocol/jobs';
import type { EpochMetrics } from '../../shared/protocol/results';
import { monitoredScore } from '../../shared/modelEvidence';
import type { TrainState } from './checkpoint';

export const PATIENCE_VAL_LOSS = 3;
export const PATIENCE_VAL_ACCURACY = 10;

export interface EpochDecision {
  /** The training state after this epoch (what the checkpoints store). */
  next: TrainState;
  /** The monitored figure beat the best so far: save the best checkpoint. */
  improved: boolean;
  /** Set when an EarlyStopping callback ends the phase now. */
  stopBy?: { monitor: 'val_loss' | 'val_accuracy'; patience: number };
}

/**
 * `phaseEpoch` of `phaseEpochs` in the phase just finished; `metrics.epoch` counts over the whole run. `monitor`
 * picks the best checkpoint. The early-stopping callbacks ignore the phase's first `earlyStoppingStart` epochs
 * (Keras' start_from_epoch); the best checkpoint does not.
 */
export function decideAfterEpoch(state: TrainState, metrics: EpochMetrics, phaseEpoch: number, phaseEpochs: number, monitor: Monitor, earlyStoppingStart = 0): EpochDecision {
  const next: TrainState = {
    ...state,
    epoch: metrics.epoch,
    phase: metrics.phase,
    phaseEpoch,
    best: { ...state.best },
    earlyValLoss: { ...state.earlyValLoss },
    earlyValAccuracy: { ...state.earlyValAccuracy },
  };
  // A checkpoint from before --monitor holds no score: its run picked by val_accuracy.
  const bestScore = state.best.score ?? state.best.valAccuracy;
  const score = monitoredScore(metrics, monitor);
  const improved = score > bestScore;
  if (improved) next.best = { valAccuracy: metrics.valAccuracy, valBalancedAccuracy: metrics.valBalancedAccuracy, epoch: metrics.epoch, score };
  if (phaseEpoch > earlyStoppingStart) {
    if (metrics.valLoss < next.earlyValLoss.best) next.earlyValLoss = { best: metrics.valLoss, wait: 0 };
    else next.earlyValLoss.wait++;
    if (metrics.valAccuracy > next.earlyValAccuracy.best) next.earlyValAccuracy = { best: metrics.valAccuracy, wait: 0 };
    else next.earlyValAccuracy.wait++;
  }
  const stopBy =
    next.earlyValLoss.wait >= PATIENCE_VAL_LOSS
      ? { monitor: 'val_loss' as const, patience: PATIENCE_VAL_LOSS }
      : next.earlyValAccuracy.wait >= PATIENCE_VAL_ACCURACY
        ? { monitor: 'val_accuracy' as const, patience: PATIENCE_VAL_ACCURACY }
        : undefined;
  next.phaseDone = phaseEpoch === phaseEpochs || stopBy !== undefined;
  return { next, improved, stopBy };
}
