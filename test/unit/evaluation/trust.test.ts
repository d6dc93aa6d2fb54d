import assert from 'node:assert/strict';
import { chanceLevel, chanceVerdict, chanceWarning, formatInterval, formatWithInterval } from '../../../src/shared/trust';

describe('chance detection and how intervals are written', () => {
  it('calls a model at chance when its balanced-accuracy interval includes 1/k', () => {
    assert.equal(chanceLevel(7), 1 / 7);
    assert.equal(chanceVerdict({ low: 0.08, high: 0.22 }, 7), 'at');
    // The run: a constant answer, 14.3% with a degenerate interval.
    assert.equal(chanceVerdict({ low: 1 / 7, high: 1 / 7 }, 7), 'at');
    assert.equal(chanceVerdict({ low: 0.15, high: 0.3 }, 7), 'above');
    assert.equal(chanceVerdict({ low: 0.71, high: 0.88 }, 7), 'above');
    assert.equal(chanceVerdict({ low: 0.02, high: 0.1 }, 7), 'below');
    assert.equal(chanceVerdict({ low: 0.45, high: 0.6 }, 2), 'at', 'two classes: chance is 50%');
  });

  it('says so in words, and says nothing for a model above chance', () => {
    assert.match(chanceWarning('at', 7)!, /^At chance level: .*14\.3% for 7 classes/);
    assert.match(chanceWarning('below', 7)!, /^Below chance level/);
    assert.equal(chanceWarning('above', 7), undefined);
  });

  it('writes "80.0% (95% CI 71–88%)", with tenths for narrow intervals', () => {
    assert.equal(formatWithInterval(0.8, { low: 0.7143, high: 0.8786 }), '80.0% (95% CI 71–88%)');
    assert.equal(formatInterval({ low: 1 / 7, high: 1 / 7 }), '14.3–14.3%');
    assert.equal(formatWithInterval(0.8, undefined), '80.0%');
  });
});
