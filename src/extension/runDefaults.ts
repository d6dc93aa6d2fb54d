/**
 * Every new run the extension starts is built here, from the `lesionLab.*` settings (and the
 * from-scratch recipe when the weights are 'none', src/shared/trainDefaults.ts) overridden by what the
 * person chose in the Run form. The form shows the same defaults, so what it shows is what runs.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import type { TrainOptions } from '../shared/protocol/jobs';
import type { RunFormDefaults, TrainRequest } from '../shared/protocol/views/sidebar';
import type { NewRunDefaults, NewRunSetting } from '../shared/trainDefaults';
import { SETTING_DEFAULTS, SETTING_KEYS, newRunDefaults } from '../shared/trainDefaults';
import { preparedDir, runsDir } from './workspacePaths';
import { engineSetting, precisionSetting, threadsSetting } from './computeSettings';

function settings(): { values: NewRunDefaults; userSet: Set<NewRunSetting> } {
  const cfg = vscode.workspace.getConfiguration('lesionLab');
  const userSet = new Set<NewRunSetting>();
  const read = <K extends NewRunSetting>(k: K): NewRunDefaults[K] => {
    const key = SETTING_KEYS[k];
    const seen = cfg.inspect<NewRunDefaults[K]>(key);
    if (seen && [seen.globalValue, seen.workspaceValue, seen.workspaceFolderValue].some((v) => v !== undefined)) userSet.add(k);
    return cfg.get<NewRunDefaults[K]>(key, SETTING_DEFAULTS[k]);
  };
  const values: NewRunDefaults = {
    model: read('model'),
    alpha: read('alpha'),
    weights: read('weights').trim() || 'imagenet',
    phase: read('phase'),
    epochs: read('epochs'),
    batch: read('batch'),
    size: read('size'),
    augment: read('augment'),
  };
  return { values, userSet };
}

/** What the Run form starts from: the settings with pretrained weights, and the from-scratch recipe. */
export function runFormDefaults(): RunFormDefaults {
  const { values, userSet } = settings();
  return {
    pretrained: newRunDefaults(values, userSet, values.weights === 'none' ? 'imagenet' : values.weights),
    scratch: newRunDefaults(values, userSet, 'none'),
    engine: engineSetting(),
    precision: precisionSetting(),
  };
}

/** The weights a new run gets when the form does not say: the `lesionLab.weights` setting. */
export function defaultWeights(): string {
  return settings().values.weights;
}

/** A new run's folder name: when it started and what it trains, e.g. 20261204-233012-mobilenetv2. */
function newRunFolder(root: string, model: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return path.join(runsDir(root), `${stamp}-${model}`);
}

/** A new run's options: the defaults for its weights, then every field the request gives. */
export function newRunOptions(root: string, request: TrainRequest): TrainOptions & { prepared: string } {
  const { values, userSet } = settings();
  const weights = request.weights ?? values.weights;
  const d = newRunDefaults(values, userSet, weights);
  const given = Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as TrainRequest;
  const model = given.model ?? d.model;
  return {
    prepared: preparedDir(root),
    run: newRunFolder(root, model),
    model,
    ...(model === 'mobilenetv2' ? { alpha: d.alpha } : {}),
    weights,
    phase: d.phase,
    epochs: d.epochs,
    batch: d.batch,
    size: d.size,
    augment: d.augment,
    engine: engineSetting(),
    precision: precisionSetting(),
    threads: threadsSetting(),
    resume: false,
    classWeights: false,
    seed: 1,
    ...given,
  };
}
