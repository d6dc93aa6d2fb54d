/**
 * The backend speaks to a terminal: its messages name `--flags` and `lesion-lab` commands. In VS Code
 * the same advice has to name what a person clicks — the Run form's fields, the palette's commands —
 * so every backend text that reaches the UI (a job's error, an engine's reason) passes through
 * `inUiWords` at the one door where backend events enter the extension (JobRunner). No `vscode` import,
 * so it is unit-tested; a test runs every prose string in src/backend through it and fails on a `--`.
 */
import type { BackendEvent } from '../shared/protocol/backend';

/** A CLI command as the palette names it. */
const PALETTE: Record<string, string> = {
  'demo-data': 'Lesion Lab: Create Demo Dataset…',
  download: 'Lesion Lab: Download Dataset…',
  prepare: 'Lesion Lab: Prepare Dataset…',
  augment: 'Lesion Lab: Augment…',
  train: 'Lesion Lab: Train…',
  evaluate: 'Lesion Lab: Evaluate',
  predict: 'Lesion Lab: Classify Lesion',
  export: 'Lesion Lab: Export Model…',
  engines: 'Lesion Lab: Show Engines',
  'install-engine': 'Lesion Lab: Install GPU Engine…',
  weights: 'the Run form’s Weights field',
  'inspect-dataset': 'Lesion Lab: Prepare Dataset…',
  'lr-find': 'the Find button beside a learning rate in the Run form',
  cv: 'a cross-validation',
  sweep: 'a sweep',
  'sweep-task': 'a sweep’s task',
  'sweep-status': 'the sweep’s status',
  'sweep-cancel': 'cancelling the sweep',
};

/**
 * Every option of every CLI command (the unit test holds this to src/backend/commands.ts) as the UI
 * names it: a Run form field in quotes, or what the extension chooses for the person.
 */
export const OPTION_WORDS: Readonly<Record<string, string>> = {
  // train: the Run form's fields
  model: '“Model”',
  alpha: '“Width (MobileNetV2)”',
  weights: '“Weights”',
  phase: '“Phases”',
  epochs: '“Epochs”',
  'finetune-epochs': '“Epochs”',
  batch: '“Batch”',
  size: '“Image size”',
  lr: '“Head learning rate”',
  'finetune-lr': '“Fine-tune learning rate”',
  optimizer: '“Optimizer”',
  'unfreeze-from': '“Unfreeze from”',
  augment: '“Augmentation”',
  engine: '“Engine”',
  precision: '“Precision”',
  'class-weights': '“Class weights”',
  monitor: '“Checkpoint by”',
  'early-stopping-start': 'the early-stopping start',
  'warmup-epochs': 'the warm-up epochs',
  threads: 'the thread count',
  seed: 'the seed',
  resume: 'Resume',
  run: 'the run folder',
  prepared: 'the prepared dataset',
  // prepare, augment, demo data, download
  data: 'the dataset folder',
  out: 'the output folder',
  split: 'the split',
  'val-fraction': 'the validation share',
  'near-duplicates': 'the near-duplicate handling',
  'near-duplicate-distance': 'the near-duplicate distance',
  link: 'the link mode',
  target: 'the images per class',
  skip: 'the classes to leave out',
  concurrency: 'the concurrency',
  'per-class': 'the images per class',
  total: 'the number of images',
  'include-test': 'the test set choice',
  'base-url': 'a mirror',
  'accept-license': 'accepting the licence',
  dataset: 'the dataset',
  table: 'the table',
  'image-column': 'the image column',
  'label-column': 'the label column',
  'group-column': 'the group column',
  // evaluate, predict, export, engines
  tta: 'test-time augmentation',
  calibrated: '“Calibrated probabilities”',
  gradcam: 'Grad-CAM',
  format: 'the format',
  checkpoint: 'the checkpoint',
  download: 'downloading',
  package: 'the engine build',
  dir: 'the engines folder',
  registry: 'an npm registry',
  spec: 'a package file',
  // lr-find: the range the Find button sweeps
  'start-lr': 'the lowest learning rate tried',
  'end-lr': 'the highest learning rate tried',
  steps: 'the number of batches tried',
  // cross-validation
  folds: 'the number of folds',
  fold: 'the validation fold',
  'fold-seed': 'the folds’ seed',
  // sweeps and their executors
  executor: 'the executor',
  parallel: 'the runs at a time',
  partition: 'the Slurm partition',
  time: 'the time limit',
  cpus: 'the CPUs per run',
  gpus: 'the GPUs per run',
  mem: 'the memory per run',
  sbatch: 'the extra #SBATCH options',
  setup: 'the set-up line',
  node: 'the Node.js',
  cli: 'the Lesion Lab CLI',
  image: 'the container image',
  claim: 'the volume claim',
  watch: 'following the runs',
  'poll-seconds': 'the polling interval',
  'max-retries': 'the retries',
  'dry-run': 'a dry run',
  sweep: 'the sweep folder',
  index: 'the task',
  resubmit: 'resubmitting',
  tasks: 'the tasks',
  ensemble: 'the ensemble’s members',
  // test diagnostics
  count: 'the count',
  fill: 'the fill mode',
  rotation: 'the rotation',
  shift: 'the shift',
  zoom: 'the zoom',
  seconds: 'the wait',
  message: 'the message',
};

/** Whole phrases first: advice that means something else in VS Code than a word-for-word swap would say. */
const PHRASES: readonly [RegExp, string][] = [
  [/download (\S+) yourself and give its path to --weights/g, 'download $1 yourself and pick it with Browse… beside “Weights” in the Run form'],
  [/the download resumes\), or download the file yourself and give its path to --weights/g, 'the download resumes), or download the file yourself and pick it with Browse… beside “Weights”'],
  [/Check the path given to --weights/g, 'Pick the file again with Browse… beside “Weights”'],
  [/Give --weights imagenet, none, or the path of one of those/g, 'Choose “Weights” imagenet or none, or pick a Keras .h5 or TF.js model.json with Browse…'],
  [/Give --weights imagenet, none, or the path of a Keras \.h5 or TF\.js model\.json file/g, 'Choose “Weights” imagenet or none, or pick a Keras .h5 or TF.js model.json with Browse…'],
  [/train with --weights none/g, 'train from scratch (“Weights” none)'],
  [/or use --augment online/g, 'or choose “Augmentation” online'],
  [/--augment disk needs augmented images/g, '“Augmentation” disk needs augmented images'],
  [/Start a new run without --resume/g, 'Start a new run from the Run form'],
  [/Use --resume to continue it, or give a new --run folder/g, 'Use Resume to continue it, or start a new run'],
  [/--resume continues from it/g, 'Resume continues from it'],
  [/or start a new run in another --run folder/g, 'or start a new run from the Run form'],
  [/Start a new run \(another --run folder\)/g, 'Start a new run from the Run form'],
  [/\(only --engine, --precision and --threads may change\)/g, '(only the engine and the precision may change)'],
  [/Choose another with --engine \(or the lesionLab\.engine setting\), or use auto/g, 'Choose another with Lesion Lab: Select Engine (the lesionLab.engine setting), or auto'],
  [/([Cc])hoose --engine (\w[\w-]*)/g, '$1hoose the $2 engine (Lesion Lab: Select Engine)'],
  [/use --engine (\w[\w-]*)/g, 'use the $1 engine (Lesion Lab: Select Engine)'],
  [/or choose another --engine/g, 'or choose another engine (Lesion Lab: Select Engine)'],
  [/another --engine/g, 'another engine (Lesion Lab: Select Engine)'],
  [/a smaller --batch/g, 'a smaller “Batch”'],
  [/Prepare it again with a --val-fraction above 0/g, 'Prepare it again (Lesion Lab: Prepare Dataset…)'],
  [/or pass --data with a prepared test set/g, 'or evaluate on a prepared test set'],
  [/ If you gave a file with --spec, check that it exists\./g, ''],
  [/, or install from a reachable registry or mirror \(--registry URL\)/g, ', or point npm at a reachable registry or mirror (npm config set registry URL)'],
  [/Give the --run folder that `lesion-lab train` wrote/g, 'Open a run folder that training wrote (Lesion Lab: Open Run Folder…)'],
  [/Train \(or --resume\) until/g, 'Train (or Resume) until'],
  [/use --base-url with a mirror/g, 'try again later: downloading again continues where it stopped'],
  [/Point --data at/g, 'Pick'],
  [/, or train without --folds/g, ', or train without folds'],
  [/Check --data,/g, 'Check the folder you picked,'],
  [/Say which columns hold the image and the label, e\.g\. `lesion-lab prepare[^`]*`/g, 'Run Lesion Lab: Prepare Dataset… again and say which columns hold the image and the label when it asks'],
  [/Name the table with --table FILE/g, 'Pick the table when Prepare Dataset… asks for it'],
  [/Say which one with --table FILE/g, 'Pick one when Prepare Dataset… asks for the table'],
  [/A new run needs --prepared: the folder `lesion-lab prepare` wrote\. \(Only --resume takes it from the run folder\.\)/g, 'A new run needs a prepared dataset: run Lesion Lab: Prepare Dataset… first.'],
];

/** `lesion-lab prepare --data <dataset folder> --out DIR`, quoted as code: the palette command that does it. */
const QUOTED_COMMAND = /`lesion-lab ([a-z][a-z-]*)[^`]*`/g;
/** The same unquoted, with its flags and their values (a value never swallows the sentence's full stop). */
const BARE_COMMAND = /lesion-lab ([a-z][a-z-]*)(?: --[a-z][\w-]*(?: (?!--)[^\s,;)]*[^\s,;).])?)*/g;
/** A flag with its value, or alone. */
const FLAG = /--([a-z][a-z-]*)/g;

/** A backend message in the words of the UI. */
export function inUiWords(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PHRASES) out = out.replace(pattern, replacement);
  const palette = (whole: string, command: string): string => PALETTE[command] ?? whole;
  out = out.replace(QUOTED_COMMAND, palette).replace(BARE_COMMAND, palette);
  out = out.replace(FLAG, (whole, name: string) => OPTION_WORDS[name] ?? whole);
  // "--out X is a file" began a sentence; "the output folder X is a file" must too.
  return text.startsWith('--') ? out.charAt(0).toUpperCase() + out.slice(1) : out;
}

/** The event as the UI shows it: errors and the engines' reasons in the UI's words, everything else as it came. */
export function eventInUiWords(e: BackendEvent): BackendEvent {
  if (e.type === 'error') return { ...e, message: inUiWords(e.message) };
  if (e.type === 'engines/didDetect') {
    return {
      ...e,
      engines: e.engines.map((engine) => ({ ...engine, reason: inUiWords(engine.reason) })),
      selected: { ...e.selected, reason: inUiWords(e.selected.reason) },
    };
  }
  return e;
}
