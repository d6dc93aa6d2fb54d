import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveTrainOptions } from '../../../src/backend/training/train';
import type { TrainOptions } from '../../../src/shared/protocol/jobs';
import type { NewRunSetting } from '../../../src/shared/trainDefaults';
import { SCRATCH_RECIPE, SETTING_DEFAULTS, SETTING_KEYS, newRunDefaults, phaseDefaults } from '../../../src/shared/trainDefaults';

const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default: unknown; enum?: unknown[] }> } };
};

describe('trainDefaults: one source of a new run’s defaults', () => {
  it('the settings in package.json have the defaults the code falls back on', () => {
    const props = manifest.contributes.configuration.properties;
    for (const [k, key] of Object.entries(SETTING_KEYS) as [NewRunSetting, string][]) {
      const setting = props[`lesionLab.${key}`];
      assert.ok(setting, `lesionLab.${key} is declared`);
      assert.deepEqual(setting.default, SETTING_DEFAULTS[k], `lesionLab.${key}'s default`);
      if (setting.enum) assert.ok(setting.enum.includes(SETTING_DEFAULTS[k]), `lesionLab.${key}'s default is one of its choices`);
    }
    assert.ok(props['lesionLab.mobilenetAlpha']!.enum!.includes(SCRATCH_RECIPE.alpha), 'the recipe’s width is a published one');
  });

  it('with pretrained weights the settings stand; from scratch the recipe replaces what the person left alone', () => {
    assert.deepEqual(newRunDefaults(SETTING_DEFAULTS, new Set()), SETTING_DEFAULTS);
    assert.deepEqual(newRunDefaults(SETTING_DEFAULTS, new Set(), '/w/mine.h5'), { ...SETTING_DEFAULTS, weights: '/w/mine.h5' });
    assert.deepEqual(newRunDefaults(SETTING_DEFAULTS, new Set(), 'none'), { ...SCRATCH_RECIPE, weights: 'none' });
    const mine = { ...SETTING_DEFAULTS, epochs: 40, batch: 8 };
    assert.deepEqual(newRunDefaults(mine, new Set<NewRunSetting>(['epochs'])), mine, 'a pretrained run takes the settings as they are');
    assert.deepEqual(newRunDefaults(mine, new Set<NewRunSetting>(['epochs']), 'none'), { ...SCRATCH_RECIPE, weights: 'none', epochs: 40 }, 'a setting someone changed wins over the recipe');
  });

  it('no head phase on a random backbone, every layer trained, early stopping after the statistics settle', () => {
    assert.equal(SCRATCH_RECIPE.phase, 'finetune');
    assert.equal(SCRATCH_RECIPE.augment, 'online');
    assert.deepEqual(phaseDefaults('mobilenetv2', 'none'), { lr: 1e-3, finetuneLr: 1e-3, unfreezeFrom: '1', headOptimizer: 'rmsprop', finetuneOptimizer: 'adam', earlyStoppingStart: 10, warmupEpochs: 2 });
    assert.deepEqual(phaseDefaults('mobilenetv2', 'imagenet'), { lr: 1e-3, finetuneLr: 1e-4, unfreezeFrom: 'block_16_expand', headOptimizer: 'rmsprop', finetuneOptimizer: 'adam', earlyStoppingStart: 0, warmupEpochs: 0 });
    assert.equal(phaseDefaults('resnet152', '/w/own.h5').unfreezeFrom, 'conv5_block1_1_conv');
  });

  it('the backend resolves a run’s options with the same defaults the Run form shows', () => {
    const base: TrainOptions = { prepared: '/p', run: '/r', model: 'mobilenetv2', weights: 'none', phase: 'finetune', epochs: 15, batch: 16, size: 64, augment: 'online', engine: 'auto', resume: false, classWeights: false, seed: 1 };
    const resolved = resolveTrainOptions(base);
    const d = phaseDefaults('mobilenetv2', 'none');
    assert.deepEqual(
      [resolved.lr, resolved.finetuneLr, resolved.unfreezeFrom, resolved.headOptimizer, resolved.finetuneOptimizer, resolved.earlyStoppingStart, resolved.warmupEpochs, resolved.finetuneEpochs],
      [d.lr, d.finetuneLr, d.unfreezeFrom, d.headOptimizer, d.finetuneOptimizer, d.earlyStoppingStart, 2, 15],
    );
    const given = resolveTrainOptions({ ...base, weights: 'imagenet', optimizer: 'sgd', finetuneLr: 0.01, earlyStoppingStart: 2 });
    assert.deepEqual([given.headOptimizer, given.finetuneOptimizer, given.finetuneLr, given.unfreezeFrom, given.earlyStoppingStart], ['sgd', 'sgd', 0.01, 'block_16_expand', 2]);
  });
});
