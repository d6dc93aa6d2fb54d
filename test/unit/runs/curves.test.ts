import assert from 'node:assert/strict';
import { emaSmooth } from '../../../src/shared/smoothing';
import { batchesCsv, epochsCsv } from '../../../src/shared/metricsCsv';

describe('EMA smoothing (TensorBoard’s)', () => {
  it('weight 0 leaves the values as they are', () => {
    assert.deepEqual(emaSmooth([3, 1, 4, 1, 5], 0), [3, 1, 4, 1, 5]);
  });

  it('is a debiased exponential moving average', () => {
    const w = 0.6;
    const values = [1, 3, 2, 5];
    // By hand: last = last·w + (1 − w)·v, divided by 1 − w^n.
    let last = 0;
    const expected = values.map((v, i) => {
      last = last * w + (1 - w) * v;
      return last / (1 - Math.pow(w, i + 1));
    });
    const got = emaSmooth(values, w);
    got.forEach((v, i) => assert.ok(Math.abs(v! - expected[i]!) < 1e-12));
    assert.equal(got[0], 1, 'the first point is the first value (no pull towards zero)');
  });

  it('reduces the noise of a noisy constant and follows a step', () => {
    const noisy = Array.from({ length: 400 }, (_, i) => (i < 200 ? 1 : 2) + (i % 2 === 0 ? 0.3 : -0.3));
    const s = emaSmooth(noisy, 0.9);
    const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);
    assert.ok(spread(s.slice(100, 200) as number[]) < 0.1, 'smoothed noise is a fraction of the raw ±0.3');
    assert.ok(Math.abs(s[399]! - 2) < 0.05, 'it reaches the new level after the step');
  });

  it('passes NaN, Infinity and gaps through as null without disturbing the average', () => {
    const s = emaSmooth([1, Number.NaN, 1, null, Infinity, undefined, 1], 0.9);
    assert.deepEqual(s.map((v) => (v === null ? null : Math.round(v * 1e9) / 1e9)), [1, null, 1, null, null, null, 1]);
  });

  it('clamps the weight: 1 would never move, so it acts as 0.999', () => {
    const s = emaSmooth([1, 2, 3], 1);
    assert.ok(s.every((v) => v !== null && Number.isFinite(v)));
  });
});

describe('metrics as CSV', () => {
  it('one row per epoch under a header; empty fields for what an older run did not record', () => {
    const csv = epochsCsv([
      { phase: 'head', epoch: 1, loss: 1.5, accuracy: 0.25, valLoss: 1.75, valAccuracy: 0.5, valBalancedAccuracy: 0.375, lr: 0.001, seconds: 2.5, finishedAt: '2025-01-01T00:00:00.000Z', step: 18 },
      { phase: 'finetune', epoch: 2, loss: Number.NaN, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, valBalancedAccuracy: 0.5, lr: 0.0001, seconds: 3, finishedAt: 'a, "quoted" date' },
    ]);
    assert.equal(csv, [
      'epoch,phase,step,loss,accuracy,val_loss,val_accuracy,val_balanced_accuracy,lr,seconds,finished_at',
      '1,head,18,1.5,0.25,1.75,0.5,0.375,0.001,2.5,2025-01-01T00:00:00.000Z',
      '2,finetune,,,0.5,1,0.5,0.5,0.0001,3,"a, ""quoted"" date"',
      '',
    ].join('\n'));
  });

  it('one row per batch, its time as an ISO date, a diverged batch’s loss empty', () => {
    const csv = batchesCsv([{ phase: 'head', epoch: 1, batch: 2, batches: 9, step: 2, loss: null, accuracy: 0.5, lr: 0.001, time: Date.UTC(2025, 0, 2, 3, 4, 5) }]);
    assert.equal(csv, 'step,epoch,batch,batches,phase,loss,accuracy,lr,time\n2,1,2,9,head,,0.5,0.001,2025-01-02T03:04:05.000Z\n');
  });
});
