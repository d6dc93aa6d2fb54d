/**
 * What a run trains with when the person does not say, in one place. The backend resolves a run's
 * options with `phaseDefaults`; the extension builds every new run (Run form, palette, walkthrough,
 * panels) from `newRunDefaults` over the `lesionLab.*` settings, and the Run form shows both as its
 * values and placeholders — so what the form shows is what runs.
 */
import type { AugmentMode, ModelName, OptimizerName, TrainPhase } from './protocol/jobs';

/**
 * Where fine-tuning starts by default: the last residual stage for ResNets (the reference workflow's
 * `model.layers[483:]` on ResNet152), and for MobileNetV2 the last inverted residual block
 * (block_16, 320 channels) plus the final 1×1 conv — the same "last block" choice.
 */
export function defaultUnfreezeLayer(model: ModelName): string {
  return model === 'mobilenetv2' ? 'block_16_expand' : 'conv5_block1_1_conv';
}

/** `weights` as TrainOptions spells it: 'imagenet', 'none' or a file. */
export const isFromScratch = (weights: string): boolean => weights === 'none';

export interface PhaseDefaults {
  lr: number;
  finetuneLr: number;
  unfreezeFrom: string;
  headOptimizer: OptimizerName;
  finetuneOptimizer: OptimizerName;
  earlyStoppingStart: number;
  /** Epochs of each phase over which the learning rate rises linearly to its value (lrSchedule.ts). */
  warmupEpochs: number;
}

/** The learning rates, optimizers and unfreeze point a run gets when its options leave them out. */
export function phaseDefaults(model: ModelName, weights: string): PhaseDefaults {
  const fromScratch = isFromScratch(weights);
  return {
    lr: 1e-3,
    // Fine-tuning pretrained weights wants a small step (the reference's 0.01 destroys them);
    // without pretrained weights there is nothing to protect.
    finetuneLr: fromScratch ? 1e-3 : 1e-4,
    // Random backbone weights are not worth freezing: fine-tune everything (layer 1 on).
    unfreezeFrom: fromScratch ? '1' : defaultUnfreezeLayer(model),
    headOptimizer: 'rmsprop',
    finetuneOptimizer: 'adam',
    // From random weights the validation loss rises for the first few epochs, until the batch-norm
    // statistics settle (measured on the demo data: its first drop came in epoch 4), and then jumps about
    // on a small validation set; patience 3 from epoch 5 ended a run at epoch 9 (61%) that went on to 86%.
    earlyStoppingStart: fromScratch ? 10 : 0,
    // From random weights Adam's first full-size steps can wreck the network for good (measured on the
    // `npm run demo` data: chance accuracy from epoch 4 on); two epochs of warm-up prevent it.
    warmupEpochs: fromScratch ? 2 : 0,
  };
}

/** The choices of a new run that the Run form shows and the settings hold. */
export interface NewRunDefaults {
  model: ModelName;
  /** MobileNetV2's width multiplier. */
  alpha: number;
  weights: string;
  phase: TrainPhase;
  /** Epochs per phase. */
  epochs: number;
  batch: number;
  size: number;
  augment: AugmentMode;
}
export type NewRunSetting = keyof NewRunDefaults;

/** The settings' own defaults (package.json › contributes.configuration holds the same; a unit test keeps them equal). */
export const SETTING_DEFAULTS: NewRunDefaults = {
  model: 'mobilenetv2',
  alpha: 1.0,
  weights: 'imagenet',
  phase: 'both',
  epochs: 10,
  batch: 32,
  size: 224,
  augment: 'none',
};

/** The `lesionLab.*` setting behind each choice. */
export const SETTING_KEYS: Record<NewRunSetting, string> = {
  model: 'model',
  alpha: 'mobilenetAlpha',
  weights: 'weights',
  phase: 'phase',
  epochs: 'epochs',
  batch: 'batchSize',
  size: 'imageSize',
  augment: 'augment',
};

/**
 * A run from random weights that learns, measured on the demo data (README › "Training from scratch"):
 * a small, fast network at a small size; no head phase (a head on a frozen random backbone learns
 * nothing); every layer trained with online augmentation (a class-balanced, freshly transformed epoch
 * each time) for enough epochs that the batch-norm statistics settle — the backend uses a fast
 * batch-norm momentum for from-scratch runs.
 */
export const SCRATCH_RECIPE: Omit<NewRunDefaults, 'weights'> = {
  model: 'mobilenetv2',
  alpha: 0.35,
  phase: 'finetune',
  epochs: 15,
  batch: 16,
  size: 64,
  augment: 'online',
};

/**
 * A new run's choices: the settings, and with weights 'none' the from-scratch recipe in place of every
 * setting the person left at its default. `userSet` names the settings someone changed (they always win).
 */
export function newRunDefaults(settings: NewRunDefaults, userSet: ReadonlySet<NewRunSetting>, weights = settings.weights): NewRunDefaults {
  if (!isFromScratch(weights)) return { ...settings, weights };
  const recipe: NewRunDefaults = { ...SCRATCH_RECIPE, weights };
  const pick = <K extends NewRunSetting>(k: K): NewRunDefaults[K] => (userSet.has(k) ? settings[k] : recipe[k]);
  return {
    model: pick('model'),
    alpha: pick('alpha'),
    weights,
    phase: pick('phase'),
    epochs: pick('epochs'),
    batch: pick('batch'),
    size: pick('size'),
    augment: pick('augment'),
  };
}
