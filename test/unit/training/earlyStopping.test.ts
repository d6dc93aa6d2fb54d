import assert from 'node:assert/strict';
import type { Monitor } from '../../../src/shared/protocol/jobs';
import type { EpochMetrics } from '../../../src/shared/protocol/results';
import type { TrainState } from '../../../src/backend/training/checkpoint';
import { PATIENCE_VAL_ACCURACY, PATIENCE_VAL_LOSS, decideAfterEpoch } from '../../../src/backend/training/earlyStopping';

const start: TrainState = {
  epoch: 0,
  phase: 'head',
  phaseEpoch: 0,
  phaseDone: false,
  best: { valAccuracy: -1, valBalancedAccuracy: -1, epoch: 0, score: -Infinity },
  earlyValLoss: { best: Infinity, wait: 0 },
  earlyValAccuracy: { best: -Infinity, wait: 0 },
};

const epoch = (n: number, valLoss: number, valAccuracy: number, valBalancedAccuracy = valAccuracy / 2): EpochMetrics => ({
  phase: 'head',
  epoch: n,
  loss: 1,
  accuracy: 0.5,
  valLoss,
  valAccuracy,
  valBalancedAccuracy,
  lr: 1e-3,
  seconds: 1,
  finishedAt: '',
});

/** Runs a sequence of (valLoss, valAccuracy) epochs through the decision, as runPhase does. */
function replay(series: [number, number, number?][], phaseEpochs = 100, monitor: Monitor = 'val_acc', from: TrainState = start, earlyStoppingStart = 0): { states: TrainState[]; improved: boolean[]; stop?: string } {
  let state = from;
  const states: TrainState[] = [];
  const improved: boolean[] = [];
  for (let i = 0; i < series.length; i++) {
    const d = decideAfterEpoch(state, epoch(i + 1, ...series[i]!), i + 1, phaseEpochs, monitor, earlyStoppingStart);
    states.push(d.next);
    improved.push(d.improved);
    state = d.next;
    if (d.stopBy) return { states, improved, stop: `${d.stopBy.monitor}@${i + 1}` };
  }
  return { states, improved };
}

describe('training/earlyStopping: the Keras callbacks after each epoch', () => {
  it('saves the best checkpoint only when val_accuracy strictly improves, remembering its balanced accuracy', () => {
    const r = replay([[1, 0.5], [0.9, 0.5], [0.8, 0.6]]);
    assert.deepEqual(r.improved, [true, false, true]);
    assert.deepEqual(r.states.at(-1)!.best, { valAccuracy: 0.6, valBalancedAccuracy: 0.3, epoch: 3, score: 0.6 });
    assert.equal(r.stop, undefined);
  });

  it('--monitor val_bal_acc (the default) picks the epoch of the best balanced accuracy, not of the best accuracy', () => {
    // Epoch 2 has the higher accuracy (more nv right), epoch 3 the higher balanced accuracy.
    const r = replay([[1, 0.5, 0.3], [0.9, 0.8, 0.35], [0.95, 0.7, 0.5]], 100, 'val_bal_acc');
    assert.deepEqual(r.improved, [true, true, true]);
    const byAcc = replay([[1, 0.5, 0.3], [0.9, 0.8, 0.35], [0.95, 0.7, 0.5]], 100, 'val_acc');
    assert.deepEqual(byAcc.improved, [true, true, false]);
    assert.equal(r.states.at(-1)!.best.epoch, 3);
    assert.equal(byAcc.states.at(-1)!.best.epoch, 2);
    const tie = replay([[1, 0.5, 0.4], [0.9, 0.6, 0.4]], 100, 'val_bal_acc');
    assert.deepEqual(tie.improved, [true, false], 'strictly better, as Keras compares');
  });

  it('--monitor val_loss picks the lowest validation loss', () => {
    const r = replay([[1, 0.5], [0.7, 0.4], [0.8, 0.9]], 100, 'val_loss');
    assert.deepEqual(r.improved, [true, true, false]);
    assert.equal(r.states.at(-1)!.best.epoch, 2);
    assert.equal(r.states.at(-1)!.best.score, -0.7);
  });

  it('a checkpoint from before --monitor (no score) goes on comparing by val_accuracy', () => {
    const legacy: TrainState = { ...start, epoch: 1, best: { valAccuracy: 0.6, valBalancedAccuracy: 0.3, epoch: 1 } };
    assert.deepEqual(replay([[1, 0.55], [1, 0.65]], 100, 'val_acc', legacy).improved, [false, true]);
  });

  it(`stops after ${PATIENCE_VAL_LOSS} epochs without a lower val_loss`, () => {
    const r = replay([[1, 0.5], [1.1, 0.6], [1.2, 0.7], [1.0, 0.8]]);
    assert.equal(r.stop, 'val_loss@4');
    assert.equal(r.states.at(-1)!.phaseDone, true);
    assert.equal(r.states.at(-1)!.earlyValLoss.wait, PATIENCE_VAL_LOSS);
  });

  it(`stops after ${PATIENCE_VAL_ACCURACY} epochs without a higher val_accuracy, even while val_loss improves`, () => {
    const series: [number, number][] = [[1, 0.9]];
    for (let i = 1; i <= PATIENCE_VAL_ACCURACY; i++) series.push([1 - i / 100, 0.8]);
    const r = replay(series);
    assert.equal(r.stop, `val_accuracy@${PATIENCE_VAL_ACCURACY + 1}`);
  });

  it('ignores the first earlyStoppingStart epochs (Keras start_from_epoch), not for the best checkpoint', () => {
    // A from-scratch run as measured on the demo data: val_loss climbs for three epochs, then falls.
    const series: [number, number][] = [[2.3, 0.14], [2.7, 0.15], [3.5, 0.16], [3.6, 0.3], [1.4, 0.57], [1.6, 0.51], [1.1, 0.69]];
    assert.equal(replay(series).stop, 'val_loss@4', 'without a start, patience 3 ends it at epoch 4');
    const r = replay(series, 100, 'val_acc', start, 3);
    assert.equal(r.stop, undefined);
    assert.deepEqual(r.improved, [true, true, true, true, true, false, true], 'the best checkpoint follows every epoch');
    assert.deepEqual(r.states.map((s) => s.earlyValLoss), [
      { best: Infinity, wait: 0 }, { best: Infinity, wait: 0 }, { best: Infinity, wait: 0 },
      { best: 3.6, wait: 0 }, { best: 1.4, wait: 0 }, { best: 1.4, wait: 1 }, { best: 1.1, wait: 0 },
    ]);
    assert.equal(replay([[1, 0.5], [1.1, 0.5], [1.2, 0.5], [1.3, 0.5], [1.4, 0.5]], 100, 'val_acc', start, 1).stop, 'val_loss@5', 'counting starts after the ignored epochs');
  });

  it('ends the phase on its last epoch, and counts epochs over the run', () => {
    const r = replay([[1, 0.5], [0.9, 0.6]], 2);
    assert.deepEqual(r.states.map((s) => [s.epoch, s.phaseEpoch, s.phaseDone]), [[1, 1, false], [2, 2, true]]);
  });

  it('does not change the state it is given (a resumed run decides from the checkpoint as it was)', () => {
    const before = JSON.stringify(start);
    decideAfterEpoch(start, epoch(1, 2, 0.1), 1, 5, 'val_bal_acc');
    assert.equal(JSON.stringify(start), before);
  });
});
