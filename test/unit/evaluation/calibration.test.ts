import assert from 'node:assert/strict';
import { applyTemperature, calibrationOf, fitTemperature } from '../../../src/backend/evaluation/calibration';
import { createRng, gaussian } from '../../../src/shared/random';

/** `n` two-class rows with top-class confidence `confidence`, the first `right` of them right. */
function rows(n: number, confidence: number, right: number): { probs: number[]; labels: number[] } {
  const probs: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    probs.push(confidence, 1 - confidence); // predicts class 0
    labels.push(i < right ? 0 : 1);
  }
  return { probs, labels };
}

describe('calibration: ECE, reliability bins, temperature scaling', () => {
  it('ECE of a constructed case: 10 images at 90% confidence, 6 right → |0.6 − 0.9| = 0.3', () => {
    const { probs, labels } = rows(10, 0.9, 6);
    const c = calibrationOf(probs, labels, 2);
    assert.ok(Math.abs(c.ece - 0.3) < 1e-12, `ECE ${c.ece}`);
    assert.equal(c.bins.length, 15);
    // 0.9 lies in the bin (13/15, 14/15].
    const bin = c.bins[13]!;
    assert.equal(bin.count, 10);
    assert.ok(Math.abs(bin.accuracy! - 0.6) < 1e-12 && Math.abs(bin.confidence! - 0.9) < 1e-12);
    assert.ok(c.bins.every((b, i) => i === 13 || (b.count === 0 && b.accuracy === undefined)));
  });

  it('weights bins by their share: half at 0.9 (60% right), half at 0.5 (50% right) → 0.15', () => {
    const a = rows(10, 0.9, 6);
    const b = rows(10, 0.5, 5);
    const c = calibrationOf([...a.probs, ...b.probs], [...a.labels, ...b.labels], 2);
    assert.ok(Math.abs(c.ece - 0.15) < 1e-12, `ECE ${c.ece}`);
  });

  it('a perfectly calibrated bin contributes nothing; NLL is the mean −log p(true class)', () => {
    const { probs, labels } = rows(10, 0.8, 8);
    const c = calibrationOf(probs, labels, 2);
    assert.ok(c.ece < 1e-12);
    assert.ok(Math.abs(c.nll - (-(8 * Math.log(0.8) + 2 * Math.log(0.2)) / 10)) < 1e-12);
  });

  it('temperature scaling keeps the predicted class and flattens (T > 1) or sharpens (T < 1)', () => {
    const p = [0.7, 0.2, 0.1];
    const flat = applyTemperature(p, 3, 2);
    const sharp = applyTemperature(p, 3, 0.5);
    assert.ok(Math.abs(flat.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(flat[0]! < 0.7 && flat[0]! > flat[1]! && sharp[0]! > 0.7);
    // softmax(log p / 2) ∝ sqrt(p)
    const s = Math.sqrt(0.7) + Math.sqrt(0.2) + Math.sqrt(0.1);
    assert.ok(Math.abs(flat[0]! - Math.sqrt(0.7) / s) < 1e-12);
    assert.deepEqual([...applyTemperature(p, 3, 1)].map((v) => +v.toFixed(12)), p);
  });

  it('recovers the temperature of a model twice as confident as it should be, and lowers its ECE', () => {
    // True class probabilities softmax(z); the model reports softmax(2z): over-confident by T = 2.
    const rng = createRng(3);
    const k = 4;
    const n = 4000;
    const probs: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: k }, () => 1.5 * gaussian(rng));
      const softmax = (s: number): number[] => {
        const e = z.map((v) => Math.exp(s * v));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / sum);
      };
      const truth = softmax(1);
      let u = rng();
      let label = 0;
      while (label < k - 1 && u >= truth[label]!) u -= truth[label++]!;
      labels.push(label);
      probs.push(...softmax(2));
    }
    const t = fitTemperature(probs, labels, k);
    assert.ok(Math.abs(t - 2) < 0.2, `fitted T ${t}`);
    const before = calibrationOf(probs, labels, k).ece;
    const after = calibrationOf(applyTemperature(probs, k, t), labels, k).ece;
    assert.ok(after < before / 2, `ECE ${before.toFixed(3)} → ${after.toFixed(3)}`);
  });
});
