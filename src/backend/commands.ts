/**
 * The backend's commands: how each is spelled on the command line and which module runs it.
 * The same `dispatch()` serves the CLI and IPC, so the two can never drift apart.
 */
import type { EngineChoice } from '../shared/protocol/engines';
import type { DownloadDataset, EvaluationSplit, ExportCheckpoint, ExportFormat, JobCommand, JobRequest, ModelName, NearDuplicateMode } from '../shared/protocol/jobs';
import { DEFAULT_NEAR_DUPLICATE_DISTANCE, DOWNLOAD_DATASETS, EXPORT_CHECKPOINTS, EXPORT_FORMATS, MODEL_NAMES } from '../shared/protocol/jobs';
import { assertNever } from '../shared/assertNever';
import type { OptionSpec, ParsedArgs, PositionalSpec } from './args';
import { UsageError, parseOptions } from './args';
import type { JobContext } from './job';
import { sleep } from './job';

export interface CommandSpec {
  name: JobCommand;
  summary: string;
  options: OptionSpec[];
  positional?: PositionalSpec;
  /** Options of which exactly one must be given (predict: --run or --model). */
  exactlyOne?: readonly string[];
  /** Diagnostics for tests; left out of the usage text. */
  hidden?: boolean;
  toRequest(args: ParsedArgs): JobRequest;
}

import { ENGINE_OPTION, THREADS_OPTION, b, n, optN, optS, s, seedOption } from './optionSpecs';
import { TRAIN_OPTIONS, trainOptionsFromArgs } from './trainCommand';
import { CV_OPTIONS, EXECUTOR_OPTIONS, FOLLOW_OPTIONS, cvTrainValues, executorFromArgs, followFromArgs } from './sweepCommandSpecs';

/** Kept here for the modules and tests that import it from the commands table. */
export { optionKey } from './optionSpecs';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'engines',
    summary: 'List the compute engines, whether each is available here and why, and which one `auto` picks.',
    options: [],
    toRequest: () => ({ command: 'engines' }),
  },
  {
    name: 'install-engine',
    summary: 'Install the native TensorFlow engine (tfjs-node-gpu: CUDA 11.2 + cuDNN 8.1; tfjs-node: CPU) with npm into DIR.',
    options: [
      { name: 'package', kind: 'string', required: true, choices: ['tfjs-node-gpu', 'tfjs-node'], help: 'which build' },
      { name: 'dir', kind: 'string', required: true, metavar: 'DIR', help: 'engines folder (the backend looks in $LESION_LAB_ENGINES_DIR)' },
      { name: 'registry', kind: 'string', metavar: 'URL', help: 'npm registry to install from (default: npm’s own setting)' },
      { name: 'spec', kind: 'string', metavar: 'SPEC', help: 'a version, .tgz file or URL to install instead of 4.22.0' },
    ],
    toRequest: ({ values: v }) => ({
      command: 'install-engine',
      options: { package: s(v.package) as 'tfjs-node-gpu' | 'tfjs-node', dir: s(v.dir), registry: optS(v.registry), spec: optS(v.spec) },
    }),
  },
  {
    name: 'demo-data',
    summary: 'Write a synthetic dataset in the Kaggle HAM10000 layout (metadata CSV + two image folders).',
    options: [
      { name: 'out', kind: 'string', required: true, metavar: 'DIR', help: 'folder to write' },
      { name: 'per-class', kind: 'int', min: 1, help: 'N images in every class' },
      { name: 'total', kind: 'int', min: 21, help: "N images in HAM10000's class proportions (default 700; 10015 = HAM10000's counts; at least 3 per class)" },
      { name: 'size', kind: 'int', min: 32, max: 2048, default: 600, metavar: 'PX', help: 'image width (height is 3/4)' },
      seedOption(1),
    ],
    toRequest: ({ values: v }) => ({
      command: 'demo-data',
      options: { out: s(v.out), perClass: optN(v['per-class']), total: optN(v.total), size: n(v.size), seed: n(v.seed) },
    }),
  },
  {
    name: 'download',
    summary: 'Download the ISIC 2018 Task 3 (HAM10000) or ISIC 2019 Task 1 training set (CC BY-NC 4.0), resumable, each file size-checked.',
    options: [
      { name: 'out', kind: 'string', required: true, metavar: 'DIR', help: 'folder to download into' },
      { name: 'dataset', kind: 'string', choices: DOWNLOAD_DATASETS, default: 'isic2018', help: 'isic2018: 10,015 images, about 2.6 GB; isic2019: 25,331 images, about 9 GB' },
      { name: 'include-test', kind: 'boolean', help: 'isic2018 only: also the test set (1,512 images, public ground truth)' },
      { name: 'base-url', kind: 'string', metavar: 'URL', help: 'a mirror to download from instead of the official bucket' },
      { name: 'accept-license', kind: 'boolean', help: 'accept CC BY-NC 4.0 (required; read it first)' },
    ],
    toRequest: ({ values: v }) => ({
      command: 'download',
      options: { out: s(v.out), dataset: s(v.dataset) as DownloadDataset, includeTest: b(v['include-test']), baseUrl: optS(v['base-url']), acceptLicense: b(v['accept-license']) },
    }),
  },
  {
    name: 'prepare',
    summary:
      'Validate a dataset (a folder per class, a CSV, HAM10000, ISIC 2018 / 2019 / 2020) and split it into train/ and val/ (by lesion or patient where the data says).',
    options: [
      { name: 'data', kind: 'string', required: true, metavar: 'DIR', help: 'the dataset folder (never modified)' },
      { name: 'out', kind: 'string', required: true, metavar: 'DIR', help: 'where to write the prepared dataset' },
      { name: 'split', kind: 'string', choices: ['lesion', 'image'], default: 'lesion', help: 'keep each group (lesion_id, patient_id …) on one side, or the reference image-level split' },
      { name: 'val-fraction', kind: 'number', min: 0.01, max: 0.9, default: 0.2, help: 'share of each class held out' },
      seedOption(101),
      { name: 'link', kind: 'string', choices: ['hard', 'symlink', 'copy'], default: 'hard', help: 'how files are materialised' },
      { name: 'table', kind: 'string', metavar: 'FILE', help: 'a CSV of your own (with --image-column, --label-column); default: the one that has those columns' },
      { name: 'image-column', kind: 'string', metavar: 'NAME', help: "the table's column naming each image (file name, id or path)" },
      { name: 'label-column', kind: 'string', metavar: 'NAME', help: "the table's column holding each image's class" },
      { name: 'group-column', kind: 'string', metavar: 'NAME', help: "the table's column to keep together in the split (a lesion or patient id)" },
      { name: 'near-duplicates', kind: 'string', choices: ['group', 'ignore'], default: 'group', help: 'keep each cluster of near-duplicate images (perceptual hash) on one side of the split, or only report them' },
      { name: 'near-duplicate-distance', kind: 'int', min: 0, max: 32, default: DEFAULT_NEAR_DUPLICATE_DISTANCE, metavar: 'BITS', help: 'Hamming threshold of the 64-bit hash: resized or re-encoded copies stay within 4' },
    ],
    toRequest: ({ values: v }) => {
      const table = optS(v.table);
      const [image, label, group] = [optS(v['image-column']), optS(v['label-column']), optS(v['group-column'])];
      if ((table || image || label || group) && !(image && label)) {
        throw new UsageError('a table of your own needs both --image-column and --label-column (and optionally --group-column, --table)', 'prepare');
      }
      return {
        command: 'prepare',
        options: {
          data: s(v.data),
          out: s(v.out),
          split: s(v.split) as 'lesion' | 'image',
          valFraction: n(v['val-fraction']),
          seed: n(v.seed),
          link: s(v.link) as 'hard' | 'symlink' | 'copy',
          nearDuplicates: s(v['near-duplicates']) as NearDuplicateMode,
          nearDuplicateDistance: n(v['near-duplicate-distance']),
          ...(image && label ? { table: { ...(table ? { file: table } : {}), image, label, ...(group ? { group } : {}) } } : {}),
        },
      };
    },
  },
  {
    name: 'inspect-dataset',
    summary: 'Say which layout a dataset folder holds; for tables Lesion Lab does not recognise, their columns and first rows.',
    options: [{ name: 'data', kind: 'string', required: true, metavar: 'DIR', help: 'the dataset folder' }],
    toRequest: ({ values: v }) => ({ command: 'inspect-dataset', options: { data: s(v.data) } }),
  },
  {
    name: 'augment',
    summary: 'Write Keras ImageDataGenerator-style augmented images until each train class reaches --target.',
    options: [
      { name: 'prepared', kind: 'string', required: true, metavar: 'DIR', help: 'a folder written by `prepare`' },
      { name: 'target', kind: 'int', min: 1, default: 6000, help: 'images per class after augmentation' },
      { name: 'skip', kind: 'list', metavar: 'A,B', help: 'classes to leave as they are (default: nv, where the dataset has it)' },
      { name: 'size', kind: 'int', min: 32, max: 1024, default: 224, metavar: 'PX', help: 'output side in pixels' },
      { name: 'concurrency', kind: 'int', min: 1, max: 64, metavar: 'N', help: 'images in flight (default: 2 per core)' },
      seedOption(1),
    ],
    toRequest: ({ values: v }) => ({
      command: 'augment',
      options: {
        prepared: s(v.prepared),
        target: n(v.target),
        skip: v.skip as string[] | undefined,
        size: n(v.size),
        seed: n(v.seed),
        concurrency: optN(v.concurrency),
      },
    }),
  },
  {
    name: 'train',
    summary: 'Train (head) and/or fine-tune an ImageNet-pretrained CNN on a prepared dataset.',
    options: TRAIN_OPTIONS,
    toRequest: (args) => ({ command: 'train', options: trainOptionsFromArgs(args) }),
  },
  {
    name: 'cv',
    summary: 'K-fold cross-validation: record K lesion-grouped, class-stratified folds in the prepared manifest, train one run per fold (locally or on Slurm), and summarise per fold, mean ± sd and out of fold.',
    options: CV_OPTIONS,
    toRequest: (args) => ({
      command: 'cv',
      options: { prepared: s(args.values.prepared), out: s(args.values.out), folds: n(args.values.folds), foldSeed: n(args.values['fold-seed']), train: cvTrainValues(args), executor: executorFromArgs(args.values), ...followFromArgs(args.values) },
    }),
  },
  {
    name: 'sweep',
    summary: 'Grid or seeded random search over train options (and seeds, folds) from a JSON spec: the runs are planned into one sweep folder, then run locally or on Slurm; running it again skips finished runs and resumes the others.',
    options: [
      { name: 'spec', kind: 'string', required: true, metavar: 'FILE', help: 'the sweep spec (see README: Sweeps)' },
      { name: 'out', kind: 'string', metavar: 'DIR', help: 'the sweep folder (default: the spec’s "out", else beside the spec, named after it)' },
      ...EXECUTOR_OPTIONS,
      ...FOLLOW_OPTIONS,
    ],
    toRequest: ({ values: v }) => ({ command: 'sweep', options: { spec: s(v.spec), out: optS(v.out), executor: executorFromArgs(v), ...followFromArgs(v) } }),
  },
  {
    name: 'sweep-task',
    summary: 'Run one task of a sweep (what each executor runs): start its run, resume it if it had started, or skip it if it finished.',
    options: [
      { name: 'sweep', kind: 'string', required: true, metavar: 'DIR', help: 'the sweep folder' },
      { name: 'index', kind: 'int', required: true, min: 0, metavar: 'I', help: 'the task (Slurm: $SLURM_ARRAY_TASK_ID)' },
    ],
    toRequest: ({ values: v }) => ({ command: 'sweep-task', options: { sweep: s(v.sweep), index: n(v.index) } }),
  },
  {
    name: 'sweep-status',
    summary: "Each run of a sweep with its state from the scheduler (squeue/sacct for Slurm) and its figures; writes the summary so far.",
    options: [
      { name: 'sweep', kind: 'string', required: true, metavar: 'DIR', help: 'the sweep folder' },
      { name: 'resubmit', kind: 'boolean', help: 'submit the failed, cancelled and never-submitted runs again (they resume)' },
    ],
    toRequest: ({ values: v }) => ({ command: 'sweep-status', options: { sweep: s(v.sweep), resubmit: b(v.resubmit) } }),
  },
  {
    name: 'sweep-cancel',
    summary: 'Cancel a sweep’s queued and running runs (scancel for Slurm; a local sweep stops as a whole); finished runs are kept.',
    options: [
      { name: 'sweep', kind: 'string', required: true, metavar: 'DIR', help: 'the sweep folder' },
      { name: 'tasks', kind: 'list', metavar: 'I,J', help: 'only these tasks (default: all)' },
    ],
    toRequest: ({ values: v }) => ({ command: 'sweep-cancel', options: { sweep: s(v.sweep), tasks: tasksList(v.tasks as string[] | undefined) } }),
  },
  {
    name: 'lr-find',
    summary: "Learning-rate range test: train ~100 batches at exponentially growing learning rates (weights thrown away) and suggest one from the smoothed loss.",
    options: [
      { name: 'prepared', kind: 'string', requiredUnless: 'run', metavar: 'DIR', help: 'a folder written by `prepare` (with --run: the run’s own)' },
      { name: 'run', kind: 'string', metavar: 'DIR', help: 'start from this run’s last checkpoint (its model and sizes) instead of a new model' },
      { name: 'model', kind: 'string', choices: MODEL_NAMES, default: 'resnet152', help: 'backbone' },
      { name: 'alpha', kind: 'number', min: 0.35, max: 1.4, metavar: 'A', help: 'MobileNetV2 width multiplier' },
      { name: 'weights', kind: 'string', default: 'imagenet', metavar: 'imagenet|none|FILE', help: 'backbone weights' },
      { name: 'phase', kind: 'string', choices: ['head', 'finetune'], default: 'head', help: 'which phase’s learning rate: the head on a frozen backbone, or fine-tuning from --unfreeze-from' },
      { name: 'batch', kind: 'int', min: 1, default: 32, help: 'batch size' },
      { name: 'size', kind: 'int', min: 32, max: 1024, default: 224, metavar: 'PX', help: 'input side in pixels' },
      { name: 'optimizer', kind: 'string', choices: ['rmsprop', 'adam', 'sgd'], help: 'default: rmsprop (head), adam (fine-tune), as train' },
      { name: 'unfreeze-from', kind: 'string', metavar: 'LAYER', help: 'layer name or index where fine-tuning starts' },
      { name: 'class-weights', kind: 'boolean', help: 'weight the loss by inverse class frequency' },
      { name: 'start-lr', kind: 'number', min: 1e-12, max: 100, default: 1e-7, metavar: 'X', help: 'first learning rate' },
      { name: 'end-lr', kind: 'number', min: 1e-12, max: 1000, default: 10, metavar: 'X', help: 'last learning rate (the test stops earlier when the loss diverges)' },
      { name: 'steps', kind: 'int', min: 5, max: 10000, default: 100, metavar: 'N', help: 'batches over the range' },
      ENGINE_OPTION,
      THREADS_OPTION,
      seedOption(1),
    ],
    toRequest: ({ values: v }) => ({
      command: 'lr-find',
      options: {
        prepared: optS(v.prepared),
        run: optS(v.run),
        model: s(v.model) as ModelName,
        alpha: optN(v.alpha),
        weights: s(v.weights),
        phase: s(v.phase) as 'head' | 'finetune',
        batch: n(v.batch),
        size: n(v.size),
        optimizer: optS(v.optimizer) as 'rmsprop' | 'adam' | 'sgd' | undefined,
        unfreezeFrom: optS(v['unfreeze-from']),
        classWeights: b(v['class-weights']),
        startLr: n(v['start-lr']),
        endLr: n(v['end-lr']),
        steps: n(v.steps),
        engine: s(v.engine) as EngineChoice,
        threads: optN(v.threads),
        seed: n(v.seed),
      },
    }),
  },
  {
    name: 'evaluate',
    summary: "Evaluate a run's best checkpoint on one set, with 95% intervals, ROC/AUC and calibration; each set gets its own report.",
    options: [
      { name: 'run', kind: 'string', metavar: 'DIR', help: 'a run folder written by `train`' },
      { name: 'ensemble', kind: 'list', metavar: 'RUN,RUN…', help: 'instead of --run: average these runs’ probabilities (a sweep or cv folder: its finished runs)' },
      { name: 'split', kind: 'string', choices: ['val', 'test'], metavar: 'val|test', help: 'which split of a run (default: val; with --data, test when it has one)' },
      { name: 'data', kind: 'string', metavar: 'DIR', help: 'another prepared folder (a run\'s report: evaluation-<its name>.json)' },
      { name: 'tta', kind: 'boolean', help: 'with --ensemble: average over flipped and rotated copies too' },
      { name: 'out', kind: 'string', metavar: 'DIR', help: 'with --ensemble: where ensemble-evaluation.json goes (default: the sweep folder)' },
      ENGINE_OPTION,
      THREADS_OPTION,
    ],
    exactlyOne: ['run', 'ensemble'],
    toRequest: ({ values: v }) => ({
      command: 'evaluate',
      options: { run: optS(v.run), ensemble: v.ensemble as string[] | undefined, data: optS(v.data), split: optS(v.split) as EvaluationSplit | undefined, tta: v.tta === true ? true : undefined, out: optS(v.out), engine: s(v.engine) as EngineChoice, threads: optN(v.threads) },
    }),
  },
  {
    name: 'predict',
    summary: 'Class probabilities for one or more images (from a run or an export), optionally with test-time augmentation and Grad-CAM.',
    options: [
      { name: 'run', kind: 'string', metavar: 'DIR', help: 'a run folder written by `train` (its best checkpoint)' },
      { name: 'model', kind: 'string', metavar: 'PATH', help: 'instead of --run: a folder written by `export`, or an exported .onnx file' },
      { name: 'tta', kind: 'boolean', help: 'average over flipped and rotated copies' },
      { name: 'gradcam', kind: 'string', metavar: 'OUTDIR', help: 'write Grad-CAM overlays here' },
      { name: 'calibrated', kind: 'boolean', help: 'temperature-scale the probabilities (the temperature `evaluate` fitted on validation)' },
      ENGINE_OPTION,
      THREADS_OPTION,
    ],
    positional: { name: 'image', min: 1, help: 'image files' },
    exactlyOne: ['run', 'model'],
    toRequest: ({ values: v, positionals }) => ({
      command: 'predict',
      options: { run: optS(v.run), model: optS(v.model), images: positionals, tta: b(v.tta), gradcam: optS(v.gradcam), calibrated: b(v.calibrated), engine: s(v.engine) as EngineChoice, threads: optN(v.threads) },
    }),
  },
  {
    name: 'export',
    summary: "Export a run's checkpoint as ONNX, TF.js or Keras HDF5 (or an ensemble as one ONNX model), with its classes, preprocessing, validation figures and model card; the written files are checked against the checkpoint.",
    exactlyOne: ['run', 'ensemble'],
    options: [
      { name: 'run', kind: 'string', metavar: 'DIR', help: 'a run folder written by `train`' },
      { name: 'ensemble', kind: 'list', metavar: 'RUN,RUN…', help: 'instead of --run: one ONNX model holding these runs, their probabilities averaged (a sweep or cv folder: its finished runs)' },
      { name: 'format', kind: 'string', required: true, choices: [...EXPORT_FORMATS], help: 'onnx (opset 13), tfjs (layers model) or keras (Keras 2 .h5); an ensemble: onnx' },
      { name: 'checkpoint', kind: 'string', choices: [...EXPORT_CHECKPOINTS], default: 'best', help: 'which checkpoint' },
      { name: 'out', kind: 'string', metavar: 'DIR', help: 'folder to write (default DIR/exports/FORMAT; an ensemble: SWEEP/exports/onnx-ensemble); an earlier export there is replaced' },
      ENGINE_OPTION,
      THREADS_OPTION,
    ],
    toRequest: ({ values: v }) => ({
      command: 'export',
      options: { run: optS(v.run), ...(v.ensemble ? { ensemble: v.ensemble as string[] } : {}), format: s(v.format) as ExportFormat, checkpoint: s(v.checkpoint) as ExportCheckpoint, out: optS(v.out), engine: s(v.engine) as EngineChoice, threads: optN(v.threads) },
    }),
  },
  {
    name: 'weights',
    summary: "Where a backbone's ImageNet weights stand: cached, or downloadable now (one HEAD request); with --download, fetch, verify and cache them.",
    options: [
      { name: 'model', kind: 'string', choices: MODEL_NAMES, default: 'mobilenetv2', help: 'backbone' },
      { name: 'alpha', kind: 'number', min: 0.35, max: 1.4, metavar: 'A', help: 'MobileNetV2 width multiplier (default 1.0)' },
      { name: 'size', kind: 'int', min: 32, max: 1024, default: 224, metavar: 'PX', help: 'the input size the run will use (MobileNetV2 files differ by size)' },
      { name: 'download', kind: 'boolean', help: 'download them now if they are not cached' },
      { name: 'base-url', kind: 'string', metavar: 'URL', help: 'a mirror of storage.googleapis.com/tensorflow/keras-applications/' },
    ],
    toRequest: ({ values: v }) => ({
      command: 'weights',
      options: { model: s(v.model) as ModelName, alpha: optN(v.alpha), size: n(v.size), download: b(v.download), baseUrl: optS(v['base-url']) },
    }),
  },
  {
    name: 'thumbnails',
    summary: 'Small JPEG thumbnails of images, as data URIs (used by the extension’s panels).',
    hidden: true,
    options: [{ name: 'size', kind: 'int', min: 16, max: 512, default: 128, metavar: 'PX', help: 'longest side' }],
    positional: { name: 'image', min: 1, help: 'image files' },
    toRequest: ({ values: v, positionals }) => ({ command: 'thumbnails', options: { files: positionals, size: n(v.size) } }),
  },
  {
    name: 'augment-preview',
    summary: 'An image and augmented variants of it with their sampled parameters (used by Preview Augmentations).',
    hidden: true,
    options: [
      { name: 'count', kind: 'int', min: 1, max: 64, default: 12, help: 'variants' },
      { name: 'size', kind: 'int', min: 32, max: 1024, default: 224, metavar: 'PX', help: 'side in pixels' },
      { name: 'fill', kind: 'string', choices: ['nearest', 'reflect', 'wrap', 'constant'], default: 'nearest', help: 'fill mode' },
      { name: 'rotation', kind: 'number', min: 0, max: 180, default: 180, help: 'rotation range in degrees' },
      { name: 'shift', kind: 'number', min: 0, max: 1, default: 0.1, help: 'width and height shift range' },
      { name: 'zoom', kind: 'number', min: 0, max: 0.9, default: 0.1, help: 'zoom range' },
      seedOption(1),
    ],
    positional: { name: 'image', min: 1, help: 'the image' },
    toRequest: ({ values: v, positionals }) => ({
      command: 'augment-preview',
      options: {
        image: positionals[0]!,
        count: n(v.count),
        seed: n(v.seed),
        size: n(v.size),
        fill: s(v.fill) as 'nearest',
        ranges: { rotationDeg: n(v.rotation), widthShift: n(v.shift), heightShift: n(v.shift), zoom: n(v.zoom), horizontalFlip: true, verticalFlip: true },
      },
    }),
  },
  {
    name: 'debug-wait',
    summary: 'Wait, reporting progress every 100 ms, until done or cancelled.',
    hidden: true,
    options: [{ name: 'seconds', kind: 'number', min: 0, default: 60, help: 'how long' }],
    toRequest: ({ values: v }) => ({ command: 'debug-wait', options: { seconds: n(v.seconds) } }),
  },
  {
    name: 'debug-crash',
    summary: 'Write a message to stderr and die abruptly, as a native crash would.',
    hidden: true,
    options: [{ name: 'message', kind: 'string', default: 'simulated crash', help: 'what to print' }],
    toRequest: ({ values: v }) => ({ command: 'debug-crash', options: { message: s(v.message) } }),
  },
];

function tasksList(list: string[] | undefined): number[] | undefined {
  if (!list) return undefined;
  return list.map((x) => {
    const i = Number(x);
    if (!Number.isInteger(i) || i < 0) throw new UsageError(`--tasks takes task numbers (0, 1, …), got "${x}"`, 'sweep-cancel');
    return i;
  });
}

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function requestFromArgv(command: CommandSpec, argv: readonly string[]): { request: JobRequest; json: boolean } {
  const parsed = parseOptions(command.name, argv, command.options, command.positional);
  if (command.exactlyOne && command.exactlyOne.filter((name) => parsed.values[name] !== undefined).length !== 1) {
    throw new UsageError(`give exactly one of ${command.exactlyOne.map((name) => `--${name}`).join(', ')}`, command.name);
  }
  return { request: command.toRequest(parsed), json: parsed.json };
}

/** Runs a request. Heavy modules are imported lazily so `engines` and usage errors start fast. */
export async function dispatch(request: JobRequest, ctx: JobContext): Promise<void> {
  switch (request.command) {
    case 'engines': {
      const { detectEngines } = await import('./engines/detect');
      const { selectEngine } = await import('./engines/select');
      const engines = await detectEngines(undefined, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
      ctx.emit({ type: 'engines/didDetect', engines, selected: selectEngine(engines, 'auto') });
      return;
    }
    case 'install-engine':
      return (await import('./engines/installEngine')).installEngine(request.options, ctx);
    case 'demo-data':
      return (await import('./demo/demoData')).writeDemoData(request.options, ctx);
    case 'download':
      return (await import('./dataset/download')).downloadDataset(request.options, ctx);
    case 'prepare':
      return (await import('./dataset/prepare')).prepareDataset(request.options, ctx);
    case 'inspect-dataset':
      return (await import('./dataset/inspect')).inspectDataset(request.options.data, ctx);
    case 'augment':
      return (await import('./augment/augment')).augmentDataset(request.options, ctx);
    case 'train':
      return (await import('./training/train')).train(request.options, ctx);
    case 'cv':
      return (await import('./sweep/sweepCommands')).crossValidate(request.options, ctx);
    case 'sweep':
      return (await import('./sweep/sweepCommands')).sweepFromSpec(request.options, ctx);
    case 'sweep-task':
      return (await import('./sweep/sweepTask')).runSweepTask(request.options, ctx);
    case 'sweep-status':
      return void (await (await import('./sweep/sweepCommands')).sweepStatusCommand(request.options, ctx));
    case 'sweep-cancel':
      return (await import('./sweep/sweepCommands')).sweepCancelCommand(request.options, ctx);
    case 'lr-find': {
      const result = await (await import('./training/lrFind')).lrFind(request.options, ctx);
      ctx.emit({ type: 'lrFind/didFinish', ...result });
      return;
    }
    case 'evaluate':
      return (await import('./evaluation/evaluate')).evaluateRun(request.options, ctx);
    case 'predict':
      return (await import('./evaluation/predict')).predict(request.options, ctx);
    case 'export': {
      const { ensemble } = request.options;
      const result = ensemble ? await (await import('./export/ensembleExport')).exportEnsemble({ ...request.options, ensemble }, ctx) : await (await import('./export/exportRun')).exportRun(request.options, ctx);
      ctx.emit({ type: 'export/didFinish', ...result });
      return;
    }
    case 'weights':
      await (await import('./models/weightsStatus')).checkImagenetWeights(request.options, ctx);
      return;
    case 'thumbnails':
      return (await import('./preview/thumbnails')).renderThumbnails(request.options, ctx);
    case 'augment-preview':
      return (await import('./preview/augmentPreview')).renderAugmentPreview(request.options, ctx);
    case 'debug-wait': {
      const total = Math.round(request.options.seconds * 10);
      for (let i = 0; i < total; i++) {
        await sleep(100, ctx.signal);
        ctx.emit({ type: 'progress', task: 'wait', done: i + 1, total, unit: 'tick' });
      }
      return;
    }
    case 'debug-crash':
      process.stderr.write(`FATAL: ${request.options.message}\n`);
      // Like a native abort: no error event, no job/didEnd, a non-zero exit.
      process.exit(70);
      return;
    default:
      assertNever(request, 'command');
  }
}
