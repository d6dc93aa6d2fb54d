import assert from 'node:assert/strict';
import { bootstrapIntervals, normalQuantile, percentileInterval, wilsonInterval } from '../../../src/backend/evaluation/bootstrap';
import { balancedAccuracyOf, confusionMatrix } from '../../../src/backend/evaluation/metrics';
import { createRng } from '../../../src/shared/random';

/** `perClass[k]` images of class k, the first `right[k]` of them predicted right (the rest as class k+1). */
function predictions(perClass: number[], right: number[]): { labels: Int32Array; predicted: Int32Array } {
  const labels: number[] = [];
  const predicted: number[] = [];
  perClass.forEach((n, k) => {
    for (let i = 0; i < n; i++) {
      labels.push(k);
      predicted.push(i < right[k]! ? k : (k + 1) % perClass.length);
    }
  });
  return { labels: Int32Array.from(labels), predicted: Int32Array.from(predicted) };
}

describe('bootstrap confidence intervals (stratified by class, percentile)', () => {
  it('are deterministic for a seed, and another seed gives (slightly) other bounds', () => {
    const { labels, predicted } = predictions([10, 10, 10, 10, 10, 10, 10], [9, 8, 7, 8, 6, 9, 9]);
    const a = bootstrapIntervals(labels, predicted, 7, { seed: 7 });
    const b = bootstrapIntervals(labels, predicted, 7, { seed: 7 });
    assert.deepEqual(a, b);
    // Bounds sit on the grid of attainable values, so a neighbouring seed may land on the same ones; some do not.
    const others = [8, 9, 10, 11, 12].map((seed) => bootstrapIntervals(labels, predicted, 7, { seed }).balancedAccuracy);
    assert.ok(others.some((o) => o.low !== a.balancedAccuracy.low || o.high !== a.balancedAccuracy.high), JSON.stringify(others));
    assert.equal(a.resamples, 1000, 'at least 1,000 resamples by default');
  });

  it('covers the point estimate: "80.0% (95% CI 71–88%)" on 70 images is the honest statement', () => {
    // 70 images, 10 a class, 56 right: balanced accuracy and accuracy are both 80%.
    const { labels, predicted } = predictions([10, 10, 10, 10, 10, 10, 10], [8, 8, 8, 8, 8, 8, 8]);
    const point = balancedAccuracyOf(confusionMatrix(labels, predicted, 7));
    assert.ok(Math.abs(point - 0.8) < 1e-12, `point ${point}`);
    const ci = bootstrapIntervals(labels, predicted, 7);
    assert.ok(ci.balancedAccuracy.low < 0.8 && ci.balancedAccuracy.high > 0.8, JSON.stringify(ci.balancedAccuracy));
    // Stratified, the variance is that of 7 binomial(10, 0.8)/10 averaged: sd = sqrt(0.16/70) = 0.048, ±0.094.
    assert.ok(Math.abs(ci.balancedAccuracy.low - 0.706) < 0.025, `low ${ci.balancedAccuracy.low}`);
    assert.ok(Math.abs(ci.balancedAccuracy.high - 0.894) < 0.025, `high ${ci.balancedAccuracy.high}`);
  });

  it('gives each class’s recall its Wilson interval (100 images, 80 right: 71.1–86.7%; 10 of 10: 72.2–100%, not [1, 1])', () => {
    const { labels, predicted } = predictions([100, 10], [80, 10]);
    const ci = bootstrapIntervals(labels, predicted, 2);
    // Hand-computed: centre (0.8 + 1.96²/200) / (1 + 1.96²/100) = 0.7889, half-width 0.0777.
    assert.ok(Math.abs(ci.recall[0]!.low - 0.7112) < 5e-4, `low ${ci.recall[0]!.low}`);
    assert.ok(Math.abs(ci.recall[0]!.high - 0.8666) < 5e-4, `high ${ci.recall[0]!.high}`);
    // Every image right is no proof of perfection on ten images: the percentile bootstrap would say [1, 1].
    assert.ok(Math.abs(ci.recall[1]!.low - 0.7225) < 5e-4, `low ${ci.recall[1]!.low}`);
    assert.equal(ci.recall[1]!.high, 1);
  });

  it('computes Wilson intervals and normal quantiles on known values', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.005) + 2.575829) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
    const none = wilsonInterval(0, 10, 0.95);
    assert.equal(none.low, 0);
    assert.ok(Math.abs(none.high - 0.2775) < 5e-4, `high ${none.high}`);
    const half = wilsonInterval(5, 10, 0.95);
    assert.ok(Math.abs(half.low - 0.2366) < 5e-4 && Math.abs(half.high - 0.7634) < 5e-4, JSON.stringify(half));
  });

  it('covers the true value about 95% of the time when the data are drawn from a known classifier', () => {
    // A classifier that gets each image of a 3-class set right with probability 0.7: true balanced accuracy 0.7.
    const rng = createRng(1);
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const labels = new Int32Array(90);
      const predicted = new Int32Array(90);
      for (let i = 0; i < 90; i++) {
        labels[i] = i % 3;
        predicted[i] = rng() < 0.7 ? i % 3 : (i + 1) % 3;
      }
      const ci = bootstrapIntervals(labels, predicted, 3, { seed: t, resamples: 500 }).balancedAccuracy;
      if (ci.low <= 0.7 && 0.7 <= ci.high) covered++;
    }
    // Percentile intervals on 90 images run a little narrow; 95% ± sampling noise of 200 trials.
    assert.ok(covered / trials > 0.88 && covered / trials <= 1, `coverage ${covered / trials}`);
  });

  it('leaves a class with no images out (no interval), as balanced accuracy does', () => {
    const labels = Int32Array.from([0, 0, 1, 1]);
    const predicted = Int32Array.from([0, 1, 1, 1]);
    const ci = bootstrapIntervals(labels, predicted, 3);
    assert.equal(ci.recall[2], undefined);
    assert.ok(ci.balancedAccuracy.high <= 1 && ci.balancedAccuracy.low >= 0.5, JSON.stringify(ci.balancedAccuracy));
  });

  it('a constant answer has a degenerate interval exactly at chance', () => {
    const labels = Int32Array.from({ length: 70 }, (_, i) => i % 7);
    const predicted = new Int32Array(70).fill(2);
    const ci = bootstrapIntervals(labels, predicted, 7);
    assert.ok(Math.abs(ci.balancedAccuracy.low - 1 / 7) < 1e-12 && Math.abs(ci.balancedAccuracy.high - 1 / 7) < 1e-12, JSON.stringify(ci.balancedAccuracy));
  });

  it('takes percentiles with linear interpolation (numpy’s default)', () => {
    const values = Float64Array.from({ length: 101 }, (_, i) => 100 - i);
    const ci = percentileInterval(values, 0.95);
    assert.ok(Math.abs(ci.low - 2.5) < 1e-9 && Math.abs(ci.high - 97.5) < 1e-9, JSON.stringify(ci));
  });
});
