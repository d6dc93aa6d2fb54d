import assert from 'node:assert/strict';
import type { TrainOptions } from '../../../src/shared/protocol/jobs';
import { validateJobRequest } from '../../../src/shared/protocol/jobs';
import type { SweepPlan } from '../../../src/shared/sweep';
import { UI_FOLLOW, describeTrainOptions, foldTrainValues, resumeCrossValidation } from '../../../src/shared/crossValidateForm';

// What the Run form's defaults make of the settings for a new run (src/extension/runDefaults.ts newRunOptions).
const formRun: TrainOptions & { prepared: string } = {
  prepared: '/w/prepared',
  run: '/w/runs/20261205-040000-mobilenetv2',
  model: 'mobilenetv2',
  alpha: 0.35,
  weights: 'none',
  phase: 'head',
  epochs: 1,
  batch: 8,
  size: 32,
  augment: 'none',
  engine: 'wasm',
  precision: 'float32',
  threads: 1,
  resume: false,
  classWeights: false,
  seed: 1,
};

describe('Cross-Validate… form', () => {
  it('turns the Run form’s options into what every fold run sets: never the run, dataset or fold, no false switches; the cv job accepts them', () => {
    const train = foldTrainValues({ ...formRun, explicit: ['engine'], folds: 5, fold: 2 });
    assert.deepEqual(train, { model: 'mobilenetv2', alpha: 0.35, weights: 'none', phase: 'head', epochs: 1, batch: 8, size: 32, augment: 'none', engine: 'wasm', precision: 'float32', threads: 1, seed: 1 });
    const request = { command: 'cv', options: { prepared: '/w/prepared', out: '/w/sweeps/cv-1-k2', folds: 2, foldSeed: 101, train, executor: { kind: 'local', parallel: 1 }, ...UI_FOLLOW } };
    const checked = validateJobRequest(request);
    assert.ok(checked.ok, checked.ok ? '' : checked.error);
    const refused = validateJobRequest({ ...request, options: { ...request.options, train: { ...train, run: '/elsewhere' } } });
    assert.equal(refused.ok, false, 'the backend refuses a fold run that sets its own folder, so the form must not send one');
  });

  it('describes a recipe in one line, as the form lists it', () => {
    assert.equal(describeTrainOptions(formRun), 'mobilenetv2 α0.35 · from scratch · 32 px · 1 epoch (head) · batch 8 · engine wasm');
    assert.equal(
      describeTrainOptions({ ...formRun, model: 'resnet50', alpha: undefined, weights: 'imagenet', phase: 'both', epochs: 5, finetuneEpochs: 10, size: 224, augment: 'online', engine: 'auto' }),
      'resnet50 · ImageNet weights · 224 px · 5 + 10 epochs (head, then fine-tune) · batch 8 · augment online · engine auto',
    );
    assert.equal(describeTrainOptions({ ...formRun, weights: '/data/w/model.h5', epochs: 3, phase: 'finetune' }), 'mobilenetv2 α0.35 · weights model.h5 · 32 px · 3 epochs (fine-tune) · batch 8 · engine wasm');
  });

  it('resumes a cross-validation from its plan: the same prepared folder, folds, seed and train values into the same folder', () => {
    const train = foldTrainValues(formRun);
    const plan: SweepPlan = { version: 1, kind: 'cv', name: 'cv-1-k2', createdAt: '', prepared: '/w/prepared', folds: { k: 2, seed: 101 }, spec: { prepared: '/w/prepared', folds: { k: 2, seed: 101 }, train }, tasks: [] };
    const again = resumeCrossValidation(plan, '/w/sweeps/cv-1-k2', { kind: 'local', parallel: 2 });
    assert.deepEqual(again, { prepared: '/w/prepared', out: '/w/sweeps/cv-1-k2', folds: 2, foldSeed: 101, train, executor: { kind: 'local', parallel: 2 }, ...UI_FOLLOW });
    assert.ok(validateJobRequest({ command: 'cv', options: again }).ok);
    assert.equal(resumeCrossValidation({ ...plan, kind: 'sweep' }, '/w/s', { kind: 'local' }), undefined, 'a sweep is resumed from its spec file, not from here');
    assert.equal(resumeCrossValidation({ ...plan, spec: 'garbled' }, '/w/s', { kind: 'local' }), undefined);
  });
});
