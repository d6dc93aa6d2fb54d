import assert from 'node:assert/strict';
import { averageProbabilities } from '../../../src/backend/evaluation/ensemble';
import { evaluationOf } from '../../../src/backend/evaluation/evaluationOf';
import { argmaxRows } from '../../../src/backend/evaluation/metrics';

describe('ensemble: averaging the members’ probabilities', () => {
  it('is the element-wise mean, and can be right where every member is wrong on some image', () => {
    // Three images, three classes (labels 0, 1, 2). Member A gets image 1 wrong, member B image 2, member C image 0.
    const a = Float32Array.from([0.6, 0.3, 0.1, /**/ 0.5, 0.4, 0.1, /**/ 0.1, 0.2, 0.7]);
    const b = Float32Array.from([0.7, 0.2, 0.1, /**/ 0.1, 0.8, 0.1, /**/ 0.2, 0.45, 0.35]);
    const c = Float32Array.from([0.3, 0.4, 0.3, /**/ 0.2, 0.7, 0.1, /**/ 0.1, 0.1, 0.8]);
    const mean = averageProbabilities([a, b, c]);
    const expected = [0.5333333, 0.3, 0.1666667, 0.2666667, 0.6333333, 0.1, 0.1333333, 0.25, 0.6166667];
    mean.forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) < 1e-6, `output ${i}: ${p} vs ${expected[i]}`));
    const images = [0, 1, 2].map((label) => ({ file: `img${label}.jpg`, label }));
    const config = { classes: ['akiec', 'bcc', 'mel'] };
    for (const member of [a, b, c]) assert.equal(evaluationOf(member, images, config, 'test').accuracy, 2 / 3);
    const ensemble = evaluationOf(mean, images, config, 'test');
    assert.equal(ensemble.accuracy, 1);
    assert.equal(ensemble.balancedAccuracy, 1);
    assert.deepEqual(Array.from(argmaxRows(mean, 3)), [0, 1, 2]);
    // Each row still sums to 1.
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(mean[r * 3]! + mean[r * 3 + 1]! + mean[r * 3 + 2]! - 1) < 1e-6);
  });

  it('one member is itself; members of different shapes are refused', () => {
    const a = Float32Array.from([0.25, 0.75]);
    assert.deepEqual(Array.from(averageProbabilities([a])), [0.25, 0.75]);
    assert.throws(() => averageProbabilities([a, Float32Array.from([1, 0, 0])]), /disagree on the number of outputs: 2, 3/);
    assert.throws(() => averageProbabilities([]), /at least one member/);
  });
});
