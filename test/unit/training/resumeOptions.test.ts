import assert from 'node:assert/strict';
import type { TrainOptions } from '../../../src/shared/protocol/jobs';
import type { RunConfig } from '../../../src/shared/runConfig';
import { describeEpochEngines } from '../../../src/shared/runConfig';
import { resolveTrainOptions } from '../../../src/backend/training/train';
import { flagOf, resumeOptions } from '../../../src/backend/training/resumeOptions';

const base: TrainOptions = {
  prepared: '/data/prepared',
  run: '/runs/a',
  model: 'mobilenetv2',
  alpha: 0.35,
  weights: 'none',
  phase: 'head',
  epochs: 4,
  batch: 8,
  size: 32,
  augment: 'none',
  engine: 'wasm',
  precision: 'float32',
  resume: false,
  classWeights: false,
  seed: 5,
};
const saved = resolveTrainOptions(base);
/** What the CLI sends for `train --run /runs/a --resume <flags>`: defaults for everything, `explicit` for what was typed. */
const request = (given: Partial<TrainOptions>): TrainOptions => ({
  ...base,
  prepared: '',
  model: 'resnet152',
  weights: 'imagenet',
  phase: 'both',
  epochs: 10,
  batch: 32,
  size: 224,
  engine: 'auto',
  seed: 1,
  resume: true,
  ...given,
  explicit: ['run', 'resume', ...(Object.keys(given) as (keyof TrainOptions)[])],
});

describe('train --resume: options come from the run', () => {
  it('with only --run, every option is the run’s own, not the CLI defaults', () => {
    const { options, extended } = resumeOptions(saved, request({}));
    assert.equal(extended, false);
    assert.deepEqual(options, { ...saved, threads: undefined, resume: true });
  });

  it('an option given again with the same value is fine; a different one is refused, named with both values', () => {
    assert.doesNotThrow(() => resumeOptions(saved, request({ batch: 8, model: 'mobilenetv2', seed: 5 })));
    assert.throws(() => resumeOptions(saved, request({ batch: 16, seed: 5, lr: 0.01 })), (err: Error) => {
      assert.match(err.message, /--batch 16 \(the run has 8\)/);
      assert.match(err.message, /--lr 0\.01 \(the run has 0\.001\)/);
      assert.doesNotMatch(err.message, /--seed/);
      return true;
    });
    assert.throws(() => resumeOptions(saved, request({ alpha: 1 })), /--alpha 1 \(the run has 0\.35\)/);
  });

  it('the engine and precision may change; left out, the run’s own are kept', () => {
    assert.equal(resumeOptions(saved, request({})).options.engine, 'wasm');
    const moved = resumeOptions(saved, request({ engine: 'webgpu', precision: 'mixed' })).options;
    assert.equal(moved.engine, 'webgpu');
    assert.equal(moved.precision, 'mixed');
  });

  it('--prepared naming another folder is reported for the fingerprint check, not refused outright', () => {
    assert.equal(resumeOptions(saved, request({ prepared: '/data/prepared' })).movedPrepared, undefined);
    assert.equal(resumeOptions(saved, request({ prepared: '/elsewhere/prepared' })).movedPrepared, '/elsewhere/prepared');
  });

  it('--phase finetune on a head-only run goes on into fine-tuning with that phase’s options', () => {
    const { options, extended } = resumeOptions(saved, request({ phase: 'finetune', epochs: 2, finetuneLr: 0.0005 }));
    assert.equal(extended, true);
    assert.equal(options.phase, 'both');
    assert.equal(options.finetuneEpochs, 2);
    assert.equal(options.finetuneLr, 0.0005);
    assert.equal(options.epochs, 4, 'the head phase keeps its epochs');
    assert.throws(() => resumeOptions({ ...saved, phase: 'both' }, request({ phase: 'finetune' })), /--phase finetune \(the run has both\)/);
  });

  it('flags are spelled as typed', () => {
    assert.equal(flagOf('finetuneEpochs'), '--finetune-epochs');
    assert.equal(flagOf('classWeights'), '--class-weights');
  });
});

describe('describeEpochEngines', () => {
  const config = (epochs: [number, string, string][]): RunConfig =>
    ({ epochEngines: epochs.map(([epoch, engine, precision]) => ({ epoch, engine, precision, session: 0 })) }) as unknown as RunConfig;
  it('one engine: its name; several: the epochs each trained', () => {
    assert.equal(describeEpochEngines(config([])), undefined);
    assert.equal(describeEpochEngines(config([[1, 'wasm', 'float32'], [2, 'wasm', 'float32']])), 'wasm');
    assert.equal(
      describeEpochEngines(config([[1, 'webgpu', 'mixed'], [2, 'webgpu', 'mixed'], [3, 'wasm', 'float32'], [4, 'wasm', 'float32'], [5, 'webgpu', 'mixed']])),
      'webgpu (mixed precision) for epochs 1–2, wasm for epochs 3–4, webgpu (mixed precision) for epoch 5',
    );
  });
});
