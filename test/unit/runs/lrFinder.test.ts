import assert from 'node:assert/strict';
import type { LrPoint } from '../../../src/shared/lrFinder';
import { LR_FIND_DIVERGENCE, lrAt, smoothLosses, stopReason, suggestLearningRate } from '../../../src/shared/lrFinder';

/**
 * A synthetic range test: over log10(lr) from -7 to 1 the loss falls along a logistic step centred on
 * `centre` (its steepest point), bottoms out, then climbs as the learning rate becomes too large.
 */
function syntheticCurve(centre: number, steps = 100): LrPoint[] {
  const lrs = Array.from({ length: steps }, (_, i) => lrAt(i, steps, 1e-7, 10));
  const losses = lrs.map((lr) => {
    const x = Math.log10(lr);
    const descent = 2 - 1.5 / (1 + Math.exp(-(x - centre) / 0.4));
    const blowUp = x > centre + 2 ? Math.pow(10, x - (centre + 2)) - 1 : 0;
    return descent + blowUp;
  });
  // Smoothing 0: the curve as it is, so the known steepest point is where the suggestion must land.
  const smoothed = smoothLosses(losses, 0);
  return lrs.map((lr, i) => ({ lr, loss: losses[i]!, smoothed: smoothed[i]! }));
}

describe('learning-rate finder', () => {
  it('spaces the learning rates geometrically from start to end', () => {
    assert.equal(lrAt(0, 100, 1e-7, 10), 1e-7);
    assert.ok(Math.abs(lrAt(99, 100, 1e-7, 10) - 10) < 1e-9);
    const ratio = lrAt(1, 100, 1e-7, 10) / lrAt(0, 100, 1e-7, 10);
    for (let i = 1; i < 99; i++) assert.ok(Math.abs(lrAt(i + 1, 100, 1e-7, 10) / lrAt(i, 100, 1e-7, 10) - ratio) < 1e-9);
  });

  it('suggests the steepest descent of a synthetic curve, within one step of its known steepest point', () => {
    for (const centre of [-4, -3, -2.5]) {
      const points = syntheticCurve(centre);
      const s = suggestLearningRate(points);
      const step = 8 / 99; // decades between two points
      assert.ok(s.steepest !== undefined, `a steepest point for a descent centred on 1e${centre}`);
      assert.ok(Math.abs(Math.log10(s.steepest) - centre) <= step, `steepest at 1e${Math.log10(s.steepest).toFixed(2)}, expected 1e${centre}`);
      assert.equal(s.suggested, s.steepest);
      // The minimum lies past the descent, before the climb; a tenth of it is offered too.
      assert.ok(s.minimum! > s.steepest && s.minimum! <= Math.pow(10, centre + 2.1), `minimum at ${s.minimum}`);
      assert.ok(Math.abs(s.minimumTenth! - s.minimum! / 10) < 1e-15);
    }
  });

  it('ignores a dip after the minimum: the steepest descent is on the way down to it', () => {
    const points = syntheticCurve(-3);
    // Thrashing past the minimum: a large drop between two late points.
    const late = points.length - 12;
    points[late] = { ...points[late]!, smoothed: 5 };
    points[late + 1] = { ...points[late + 1]!, smoothed: 1.2 };
    const s = suggestLearningRate(points);
    assert.ok(Math.abs(Math.log10(s.steepest!) + 3) <= 8 / 99);
  });

  it('debiases the moving average: a constant loss stays constant from the first point', () => {
    const smoothed = smoothLosses([2, 2, 2, 2]);
    for (const v of smoothed) assert.ok(Math.abs(v! - 2) < 1e-12);
  });

  it('is NaN-safe: a loss that is not a number stops the test, and the points before it still give a suggestion', () => {
    const points = syntheticCurve(-3).slice(0, 75);
    const losses: (number | null)[] = [...points.map((p) => p.loss), Number.NaN, null];
    const smoothed = smoothLosses(losses);
    assert.equal(smoothed[75], null);
    assert.equal(smoothed[76], null);
    assert.ok(smoothed.slice(0, 75).every((v) => v !== null && Number.isFinite(v)), 'NaN does not poison the points before it');
    assert.equal(stopReason(Number.NaN, null, 1), 'nan');
    assert.equal(stopReason(null, null, 1), 'nan');
    const withNan: LrPoint[] = [...points.map((p, i) => ({ ...p, smoothed: smoothed[i]! })), { lr: 1, loss: null, smoothed: null }];
    const s = suggestLearningRate(withNan);
    assert.ok(s.suggested !== undefined && Number.isFinite(s.suggested), `a finite suggestion, got ${s.suggested}`);
  });

  it('stops on divergence: the smoothed loss past four times the best', () => {
    assert.equal(stopReason(10, LR_FIND_DIVERGENCE * 1.5 + 0.01, 1.5), 'divergence');
    assert.equal(stopReason(10, LR_FIND_DIVERGENCE * 1.5 - 0.01, 1.5), undefined);
    assert.equal(stopReason(1, 1, Infinity), undefined, 'no best yet: no divergence');
  });

  it('gives no steepest descent on a flat, noisy curve (its steep bits are noise): a tenth of the minimum instead', () => {
    // Flat within ±0.5% until 1e-3, then diverging: from-scratch training on a tiny dataset looks like this.
    const points: LrPoint[] = Array.from({ length: 100 }, (_, i) => {
      const lr = lrAt(i, 100, 1e-7, 10);
      const loss = 2 + 0.01 * Math.sin(i * 2.1) + (lr > 1e-3 ? Math.log10(lr / 1e-3) : 0);
      return { lr, loss, smoothed: loss };
    });
    const s = suggestLearningRate(points);
    assert.equal(s.steepest, undefined);
    assert.equal(s.suggested, s.minimumTenth);
    assert.ok(s.minimum! <= 1e-3, `the minimum lies in the flat part, at ${s.minimum}`);
  });

  it('suggests nothing for a curve that never descends, or has no usable point', () => {
    const climbing: LrPoint[] = Array.from({ length: 50 }, (_, i) => ({ lr: lrAt(i, 50, 1e-6, 1), loss: 1 + i / 10, smoothed: 1 + i / 10 }));
    assert.equal(suggestLearningRate(climbing).suggested, undefined);
    assert.deepEqual(suggestLearningRate([{ lr: 1e-3, loss: null, smoothed: null }]), {});
  });
});
