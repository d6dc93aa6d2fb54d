import assert from 'node:assert/strict';
import type { CrossValidationResult, SweepStatus, TaskStatus } from '../../../src/shared/sweep';
import { sweepStatus, sweepSummary } from '../../../src/shared/sweep';
import { cancelsSingleTasks, cvSummaryView, describeParams, formatMeanSd, isActive, pollSeconds, resubmittable, stateCounts, summaryHeadline, taskRow } from '../../../src/shared/sweepView';
import { validateHostToWebview, validateWebviewToHost } from '../../../src/shared/protocol/webview';

const task = (over: Partial<TaskStatus>): TaskStatus => ({ index: 0, name: '000-fold-1', run: '/s/runs/000-fold-1', state: 'waiting', attempts: 0, params: { fold: 1 }, epochs: 0, ...over });
const status = (tasks: TaskStatus[], executor = 'local'): SweepStatus => ({ folder: '/s', kind: 'cv', name: 'cv-a', executor, tasks, checkedAt: '2026-12-05T04:00:00.000Z' });

describe('Sweep panel: task rows', () => {
  it('names the state, what varies (the fold in its own column), the epochs and the latest figure with its interval', () => {
    const row = taskRow(task({ state: 'running', params: { lr: 0.0003, seed: 2, fold: 3 }, epochs: 2, epochsTotal: 5, valBalancedAccuracy: 0.6234, valBalancedAccuracyCi: { low: 0.51, high: 0.7 }, bestValBalancedAccuracy: 0.65, schedulerState: 'RUNNING', attempts: 1 }));
    assert.equal(row.stateText, 'running', "the scheduler's word is not repeated when it says the same");
    assert.equal(row.varying, 'lr 3.0e-4 · seed 2');
    assert.equal(row.fold, 3);
    assert.equal(row.epochs, '2 / 5');
    assert.equal(row.latest, '62.3% (95% CI 51–70%)');
    assert.equal(row.best, '65.0%');
  });

  it('says more when the scheduler does (pre-empted, a resubmission), and nothing made up before the run has an epoch', () => {
    const row = taskRow(task({ state: 'failed', schedulerState: 'PREEMPTED', attempts: 2, message: 'killed' }));
    assert.equal(row.stateText, 'failed (PREEMPTED, attempt 2)');
    assert.equal(row.message, 'killed');
    assert.equal(row.epochs, '—');
    assert.equal(row.latest, '—');
    assert.equal(row.best, '—');
    assert.equal(taskRow(task({ state: 'waiting' })).stateText, 'not submitted');
    assert.equal(taskRow(task({ params: { fold: 2 } })).varying, '', 'a cross-validation of one setup varies only the fold');
    assert.equal(describeParams({ optimizer: 'sgd', 'class-weights': true, lr: 0.01 }), 'optimizer sgd · class-weights true · lr 0.01');
  });

  it('polls while a task is pending or running, not for a sweep that is done or never submitted; counts states in order', () => {
    assert.equal(isActive(undefined), false);
    assert.equal(isActive(status([task({ state: 'finished' }), task({ state: 'failed' }), task({ state: 'waiting' })])), false);
    assert.equal(isActive(status([task({ state: 'finished' }), task({ state: 'pending' })])), true);
    assert.equal(isActive(status([task({ state: 'running' })])), true);
    const s = status([task({ index: 0, state: 'finished' }), task({ index: 1, state: 'running' }), task({ index: 2, state: 'finished' }), task({ index: 3, state: 'failed' }), task({ index: 4, state: 'cancelled' }), task({ index: 5, state: 'waiting' })]);
    assert.equal(stateCounts(s), '1 not submitted, 1 running, 2 finished, 1 failed, 1 cancelled');
    assert.deepEqual(resubmittable(s), [3, 4, 5]);
    assert.ok(pollSeconds('slurm') > pollSeconds('local'), 'a cluster scheduler is asked less often');
    assert.equal(cancelsSingleTasks('slurm'), true);
    assert.equal(cancelsSingleTasks('local'), false, 'a local sweep stops as a whole');
  });
});

const cv = (over: Partial<CrossValidationResult> = {}): CrossValidationResult => ({
  config: {},
  folds: 3,
  perFold: [
    { fold: 1, balancedAccuracy: 0.6, accuracy: 0.7, images: 20 },
    { fold: 2, balancedAccuracy: 0.7, accuracy: 0.75, images: 21 },
    { fold: 3, balancedAccuracy: 0.8, accuracy: 0.8, images: 19 },
  ],
  balancedAccuracy: { mean: 0.7, sd: 0.1 },
  accuracy: { mean: 0.75, sd: 0.05 },
  outOfFold: { images: 60, balancedAccuracy: 0.69, accuracy: 0.75, balancedAccuracyCi: { low: 0.58, high: 0.8 }, accuracyCi: { low: 0.64, high: 0.85 }, perClassRecall: { a: 0.7, b: 0.68 } },
  ...over,
});

describe('Sweep panel: the cross-validation summary', () => {
  it('gives per-fold figures, mean ± sd in points, and the pooled out-of-fold figure with its 95% interval', () => {
    const v = cvSummaryView(cv(), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.equal(v.complete, true);
    assert.equal(v.foldsDone, '3 folds');
    assert.deepEqual(v.perFold[1], { fold: 2, balancedAccuracy: '70.0%', accuracy: '75.0%', images: 21 });
    assert.equal(v.balancedAccuracyMeanSd, '70.0% ± 10.0%');
    assert.equal(v.accuracyMeanSd, '75.0% ± 5.0%');
    assert.equal(v.pooled?.balancedAccuracy, '69.0% (95% CI 58–80%)');
    assert.equal(v.pooled?.balancedAccuracyValue, '69.0%');
    assert.equal(v.pooled?.balancedAccuracyCi, '58–80%');
    assert.equal(v.pooled?.verdict, 'above');
    assert.equal(v.pooled?.warning, undefined);
  });

  it('flags chance level as the other views do (the interval includes 1/k), and has no pool before every fold finished', () => {
    const atChance = cvSummaryView(cv({ outOfFold: { ...cv().outOfFold!, balancedAccuracy: 0.55, balancedAccuracyCi: { low: 0.45, high: 0.66 } } }), ['a', 'b']);
    assert.equal(atChance.pooled?.verdict, 'at');
    assert.match(atChance.pooled?.warning ?? '', /^At chance level: .*50\.0% for 2 classes/);
    const partial = cvSummaryView(cv({ perFold: cv().perFold.slice(0, 1), balancedAccuracy: { mean: 0.6, sd: 0 }, outOfFold: undefined, config: { lr: 0.001 } }), ['a', 'b']);
    assert.equal(partial.complete, false);
    assert.equal(partial.foldsDone, '1 of 3 folds');
    assert.equal(partial.pooled, undefined);
    assert.equal(partial.balancedAccuracyMeanSd, '60.0% (one fold)', 'no sd from one fold');
    assert.equal(partial.config, 'lr 0.001');
    assert.equal(formatMeanSd({ mean: Number.NaN, sd: 0 }, 0), '—');
  });

  it('headlines the pooled figure of a one-setup cross-validation, and only the count for a sweep of several', () => {
    const summary = { kind: 'cv' as const, name: 'cv-a', classes: ['a', 'b', 'c'], finished: 3, total: 3, runs: [], crossValidation: [cv()], writtenAt: '' };
    assert.equal(summaryHeadline(summary), '3 of 3 runs finished · out-of-fold balanced accuracy 69.0% (95% CI 58–80%)');
    assert.equal(summaryHeadline({ ...summary, crossValidation: [cv(), cv({ config: { lr: 0.01 } })] }), '3 of 3 runs finished');
    assert.equal(sweepSummary(summary, 'summary'), undefined, 'the test summary is one the backend could send');
  });
});

describe('Sweep panel: protocol', () => {
  it('checks what the panel sends and receives: its own messages only, task numbers whole', () => {
    assert.equal(validateWebviewToHost('sweep', { type: 'sweep/cancel', tasks: [0, 2] }).ok, true);
    assert.equal(validateWebviewToHost('sweep', { type: 'sweep/cancel' }).ok, true);
    assert.equal(validateWebviewToHost('sweep', { type: 'sweep/cancel', tasks: [1.5] }).ok, false);
    assert.equal(validateWebviewToHost('sweep', { type: 'sweep/pick', what: 'delete' }).ok, false);
    assert.equal(validateWebviewToHost('sweep', { type: 'runs/delete', paths: ['/x'] }).ok, false, "another view's message");
    assert.equal(validateWebviewToHost('runs', { type: 'sweep/cancel' }).ok, false);
    const s = status([task({ state: 'running', valBalancedAccuracyCi: { low: 0.1, high: 0.2 } })]);
    assert.equal(sweepStatus(s, 'status'), undefined);
    assert.equal(validateHostToWebview('sweep', { type: 'sweep/state', state: { folder: '/s', status: s, runningHere: true, polling: false, trusted: true } }).ok, true);
    assert.equal(validateHostToWebview('sweep', { type: 'sweep/state', state: { folder: '/s', status: { ...s, tasks: [{ ...s.tasks[0], state: 'exploded' }] }, runningHere: true, polling: false, trusted: true } }).ok, false);
  });
});
