/**
 * `lesion-lab train`'s options: the CLI's, and also what a sweep's spec is checked against (every value a sweep
 * expands to passes the same parser a person's command line does).
 */
import type { ModelName, Monitor, Precision, TrainOptions } from '../shared/protocol/jobs';
import { MODEL_NAMES, MONITORS, PRECISIONS } from '../shared/protocol/jobs';
import type { OptionSpec, OptionValue, ParsedArgs } from './args';
import { ENGINE_OPTION, THREADS_OPTION, b, n, optN, optS, optionKey, s, seedOption } from './optionSpecs';

export const FOLD_OPTIONS: OptionSpec[] = [
  { name: 'folds', kind: 'int', min: 2, max: 100, needs: 'fold', metavar: 'K', help: 'cross-validation: the K folds `cv` recorded in the prepared manifest' },
  { name: 'fold', kind: 'int', min: 1, max: 100, needs: 'folds', metavar: 'I', help: 'with --folds: validate on fold I (1…K), train on the others' },
  { name: 'fold-seed', kind: 'int', needs: 'folds', metavar: 'S', help: 'with --folds: which recorded set of K folds (default: the only one)' },
];

export const TRAIN_OPTIONS: OptionSpec[] = [
  { name: 'prepared', kind: 'string', requiredUnless: 'resume', metavar: 'DIR', help: 'a folder written by `prepare` (with --resume: the run’s own)' },
  { name: 'run', kind: 'string', required: true, metavar: 'DIR', help: 'the run folder (checkpoints, metrics)' },
  { name: 'model', kind: 'string', choices: MODEL_NAMES, default: 'resnet152', help: 'backbone' },
  { name: 'alpha', kind: 'number', min: 0.35, max: 1.4, metavar: 'A', help: 'MobileNetV2 width multiplier' },
  { name: 'weights', kind: 'string', default: 'imagenet', metavar: 'imagenet|none|FILE', help: 'backbone weights' },
  { name: 'phase', kind: 'string', choices: ['head', 'finetune', 'both'], default: 'both', help: 'what to train' },
  { name: 'epochs', kind: 'int', min: 1, default: 10, help: 'epochs per phase' },
  { name: 'finetune-epochs', kind: 'int', min: 1, help: 'epochs of the fine-tune phase (default: --epochs)' },
  { name: 'batch', kind: 'int', min: 1, default: 32, help: 'batch size' },
  { name: 'size', kind: 'int', min: 32, max: 1024, default: 224, metavar: 'PX', help: 'input side in pixels' },
  { name: 'lr', kind: 'number', min: 0, metavar: 'X', help: 'learning rate of the head phase' },
  { name: 'finetune-lr', kind: 'number', min: 0, metavar: 'X', help: 'learning rate of the fine-tune phase' },
  { name: 'optimizer', kind: 'string', choices: ['rmsprop', 'adam', 'sgd'], help: 'default: rmsprop (head), adam (fine-tune)' },
  { name: 'unfreeze-from', kind: 'string', metavar: 'LAYER', help: 'layer name or index where fine-tuning starts (default conv5_block1_1_conv)' },
  { name: 'early-stopping-start', kind: 'int', min: 0, metavar: 'N', help: 'epochs of each phase that early stopping ignores (Keras start_from_epoch; default 0, from scratch 10)' },
  { name: 'warmup-epochs', kind: 'int', min: 0, metavar: 'N', help: 'epochs of each phase over which the learning rate rises linearly to --lr (default 0, from scratch 2)' },
  { name: 'augment', kind: 'string', choices: ['none', 'disk', 'online'], default: 'none', help: 'augmentation during training' },
  ENGINE_OPTION,
  { name: 'precision', kind: 'string', choices: PRECISIONS, default: 'float32', help: 'mixed: float16 convolutions on webgpu (adapters with shader-f16)' },
  THREADS_OPTION,
  { name: 'class-weights', kind: 'boolean', help: 'weight the loss by inverse class frequency' },
  { name: 'monitor', kind: 'string', choices: MONITORS, default: 'val_bal_acc', help: 'what picks the best checkpoint: validation balanced accuracy, accuracy (the Keras reference) or loss' },
  { name: 'resume', kind: 'boolean', help: 'continue from the run folder’s last checkpoint, with the options in its config.json' },
  seedOption(1),
  ...FOLD_OPTIONS,
];

function foldValues(v: Record<string, OptionValue>): Pick<TrainOptions, 'folds' | 'fold' | 'foldSeed'> {
  // --fold beyond --folds is refused by train itself (foldSplit), where a request from the extension is checked too.
  return v.folds === undefined ? {} : { folds: n(v.folds), fold: n(v.fold), ...(v['fold-seed'] !== undefined ? { foldSeed: n(v['fold-seed']) } : {}) };
}

export function trainOptionsFromArgs({ values: v, given }: ParsedArgs): TrainOptions {
  return {
    prepared: optS(v.prepared),
    run: s(v.run),
    model: s(v.model) as ModelName,
    alpha: optN(v.alpha),
    weights: s(v.weights),
    phase: s(v.phase) as 'head' | 'finetune' | 'both',
    epochs: n(v.epochs),
    finetuneEpochs: optN(v['finetune-epochs']),
    batch: n(v.batch),
    size: n(v.size),
    lr: optN(v.lr),
    finetuneLr: optN(v['finetune-lr']),
    optimizer: optS(v.optimizer) as 'rmsprop' | 'adam' | 'sgd' | undefined,
    unfreezeFrom: optS(v['unfreeze-from']),
    earlyStoppingStart: optN(v['early-stopping-start']),
    warmupEpochs: optN(v['warmup-epochs']),
    augment: s(v.augment) as 'none' | 'disk' | 'online',
    engine: s(v.engine) as 'auto',
    precision: s(v.precision) as Precision,
    threads: optN(v.threads),
    resume: b(v.resume),
    classWeights: b(v['class-weights']),
    seed: n(v.seed),
    monitor: s(v.monitor) as Monitor,
    ...foldValues(v),
    explicit: given.map(optionKey) as (keyof TrainOptions)[],
  };
}
