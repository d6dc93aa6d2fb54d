import assert from 'node:assert/strict';
import { accuracyOf, argmaxRows, balancedAccuracyOf, confusionMatrix, crossEntropy, perClassMetrics } from '../../../src/backend/evaluation/metrics';
import { balancedClassWeights } from '../../../src/backend/training/trainPhase';

describe('classification metrics', () => {
  // 3 classes: class 0 has 6 examples (5 right), class 1 has 3 (1 right), class 2 has 1 (1 right).
  const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2];
  const predicted = [0, 0, 0, 0, 0, 1, 0, 0, 1, 2];
  const m = confusionMatrix(labels, predicted, 3);

  it('builds confusion[true][predicted]', () => {
    assert.deepEqual(m, [
      [5, 1, 0],
      [2, 1, 0],
      [0, 0, 1],
    ]);
  });

  it('separates accuracy from balanced accuracy (mean per-class recall)', () => {
    assert.equal(accuracyOf(m), 7 / 10);
    assert.ok(Math.abs(balancedAccuracyOf(m) - (5 / 6 + 1 / 3 + 1) / 3) < 1e-12);
  });

  it('leaves classes with no true examples out of the balanced mean, as scikit-learn does', () => {
    const withEmpty = confusionMatrix([0, 0, 1], [0, 1, 1], 4);
    assert.equal(balancedAccuracyOf(withEmpty), (1 / 2 + 1) / 2);
  });

  it('computes per-class precision, recall, F1 and support', () => {
    const [c0, c1, c2] = perClassMetrics(m, ['a', 'b', 'c']);
    assert.deepEqual(c0, { name: 'a', precision: 5 / 7, recall: 5 / 6, f1: (2 * (5 / 7) * (5 / 6)) / (5 / 7 + 5 / 6), support: 6 });
    assert.equal(c1!.precision, 1 / 2);
    assert.equal(c1!.recall, 1 / 3);
    assert.equal(c2!.f1, 1);
    const none = perClassMetrics(confusionMatrix([0], [0], 2), ['a', 'b'])[1]!;
    assert.deepEqual(none, { name: 'b', precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('argmax and cross-entropy of softmax rows', () => {
    const probs = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]);
    assert.deepEqual([...argmaxRows(probs, 3)], [0, 2]);
    const ce = crossEntropy(probs, [0, 1], 3);
    assert.ok(Math.abs(ce.mean - (-Math.log(0.7) - Math.log(0.1)) / 2) < 1e-6);
    assert.ok(Number.isFinite(crossEntropy(new Float32Array([1, 0]), [1], 2).mean), 'clipped, never infinite');
  });

  it('weights classes like scikit-learn’s "balanced"', () => {
    const w = balancedClassWeights([0, 0, 0, 1], 3);
    assert.deepEqual(w, [4 / (2 * 3), 4 / (2 * 1), 0]);
  });
});
