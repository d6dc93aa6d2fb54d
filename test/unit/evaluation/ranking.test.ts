import assert from 'node:assert/strict';
import { precisionRecallCurve, rankingReport, rocCurve, thin } from '../../../src/backend/evaluation/ranking';

const close = (a: number, b: number, what: string, eps = 1e-12): void => assert.ok(Math.abs(a - b) < eps, `${what}: ${a} vs ${b}`);

describe('ROC / AUC and precision–recall', () => {
  // scikit-learn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75,
  // average_precision_score(same) == 0.8333…
  const scores = [0.1, 0.4, 0.35, 0.8];
  const positive = [false, false, true, true];

  it('AUC 0.75 on scikit-learn’s example, with its ROC points', () => {
    const roc = rocCurve(scores, positive)!;
    close(roc.auc, 0.75, 'AUC');
    assert.deepEqual(roc.curve, { x: [0, 0, 0.5, 0.5, 1], y: [0, 0.5, 0.5, 1, 1] });
  });

  it('average precision 0.8333 on the same example', () => {
    const pr = precisionRecallCurve(scores, positive)!;
    close(pr.averagePrecision, 5 / 6, 'AP');
    assert.deepEqual(pr.curve.x, [0, 0.5, 0.5, 1, 1]);
  });

  it('counts tied scores half (the Mann–Whitney statistic)', () => {
    // One positive and one negative with the same score: AUC 0.5; a perfect ranking: 1; reversed: 0.
    close(rocCurve([0.5, 0.5], [true, false])!.auc, 0.5, 'tie');
    close(rocCurve([0.9, 0.1], [true, false])!.auc, 1, 'perfect');
    close(rocCurve([0.1, 0.9], [true, false])!.auc, 0, 'reversed');
  });

  it('has no curve for a class the set lacks', () => {
    assert.equal(rocCurve([0.1, 0.2], [false, false]), undefined);
    assert.equal(precisionRecallCurve([0.1, 0.2], [false, false]), undefined);
    assert.equal(rocCurve([0.1, 0.2], [true, true]), undefined, 'no negatives: no false-positive rate');
  });

  it('one-vs-rest per class and macro AUC from softmax rows', () => {
    // 3 classes; class 0 perfectly ranked, class 1 as the sklearn example, class 2 absent.
    const probs = [
      0.9, 0.05, 0.05, // label 0
      0.8, 0.1, 0.1, // label 0
      0.2, 0.8, 0.0, // label 1
      0.1, 0.35, 0.55, // label 1
    ];
    const labels = [0, 0, 1, 1];
    const r = rankingReport(probs, labels, 3);
    close(r.perClass[0]!.auc!, 1, 'class 0');
    // class 1 scores: [0.05, 0.1, 0.8, 0.35] for [neg, neg, pos, pos]: perfectly ranked too.
    close(r.perClass[1]!.auc!, 1, 'class 1');
    assert.equal(r.perClass[2]!.auc, undefined);
    close(r.macroAuc!, 1, 'macro over classes with both positives and negatives');
  });

  it('thins long curves for drawing, keeping both ends', () => {
    const n = 5000;
    const curve = { x: Array.from({ length: n }, (_, i) => i / (n - 1)), y: Array.from({ length: n }, (_, i) => Math.sqrt(i / (n - 1))) };
    const t = thin(curve, 256);
    assert.ok(t.x.length <= 256 && t.x.length > 100, `${t.x.length} points`);
    assert.deepEqual([t.x[0], t.y[0], t.x.at(-1), t.y.at(-1)], [0, 0, 1, 1]);
  });
});
