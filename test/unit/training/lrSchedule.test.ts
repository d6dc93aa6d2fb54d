import { strict as assert } from 'node:assert';
import { warmupLr } from '../../../src/shared/lrSchedule';

describe('warmupLr (the learning rate of each step)', () => {
  it('rises linearly from lr/warmupSteps at step 1 to lr at warmupSteps, then stays at lr', () => {
    const rates = [1, 2, 3, 4, 5, 6].map((step) => warmupLr(1e-3, step, 4));
    [0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3, 1e-3].forEach((want, i) => assert.ok(Math.abs(rates[i]! - want) < 1e-15, `step ${i + 1}: ${rates[i]} ≠ ${want}`));
    assert.equal(rates[3], 1e-3);
  });

  it('is the constant lr without warm-up (0 steps), for every step', () => {
    assert.deepEqual([1, 2, 100].map((step) => warmupLr(1e-4, step, 0)), [1e-4, 1e-4, 1e-4]);
  });

  it('is a pure function of the step: a resumed run recomputes the rates it had (36 steps = 2 epochs of 18 batches)', () => {
    const uninterrupted = Array.from({ length: 54 }, (_, i) => warmupLr(1e-3, i + 1, 36));
    const resumedFromStep20 = Array.from({ length: 35 }, (_, i) => warmupLr(1e-3, i + 20, 36));
    assert.deepEqual(resumedFromStep20, uninterrupted.slice(19));
    assert.ok(uninterrupted.slice(0, 36).every((r, i, a) => i === 0 || r > a[i - 1]!), 'strictly rising during warm-up');
    assert.equal(uninterrupted[0], 1e-3 / 36);
  });
});
