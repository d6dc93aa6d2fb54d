import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { EngineChoice } from '../../shared/protocol/engines';
import type { DownloadDataset, ModelName, Precision, TableSpec, TrainOptions, TrainPhase } from '../../shared/protocol/jobs';
import type { LabContext } from '../labContext';
import { preparedDir, requireTrust, runsDir, settingPath, workspaceRoot } from '../workspacePaths';
import { folderInUse } from '../folderLocks';
import { listRuns, readDatasetSummary, readRunConfig } from '../runFolders';
import type { TrainingSession } from '../trainingSession';
import type { AugmentPreviewController } from '../panels/augmentPreviewController';
import type { PredictionController } from '../panels/predictionController';
import { imagesToClassify } from '../panels/predictionController';
import type { SamplesController } from '../panels/samplesController';
import { RequestRefused } from '../webviewInbox';
import { askTableColumns } from './tablePicker';

export interface ImagePanels {
  samples: SamplesController;
  preview: AugmentPreviewController;
  prediction: PredictionController;
}

/** The image a command applies to: the Explorer selection, else the image open in the active editor tab. */
function targetImage(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && /\.(jpe?g|png)$/i.test(uri.fsPath) ? uri.fsPath : undefined;
}

const LAST_DATA_KEY = 'lesionLab.lastDataFolder';

async function pickFolder(title: string, defaultPath?: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: defaultPath ? vscode.Uri.file(defaultPath) : undefined,
    openLabel: 'Select',
  });
  return picked?.[0]?.fsPath;
}

/**
 * What prepare needs beyond the folder: nothing for a layout the backend recognises; for a folder that
 * holds only tables it does not, which columns to read (asked); 'cancelled' when the person stops, or when
 * there is nothing to read (said in a short message).
 */
async function tableToRead(lab: LabContext, data: string): Promise<TableSpec | undefined | 'cancelled'> {
  let inspected: Extract<BackendEvent, { type: 'dataset/didInspect' }> | undefined;
  await lab.jobs.run({ command: 'inspect-dataset', options: { data } }, {
    title: 'Inspect dataset',
    onEvent: (e) => {
      if (e.type === 'dataset/didInspect') inspected = e;
    },
  });
  if (!inspected || (inspected.layout && inspected.tables.length === 0)) return undefined; // recognised, or the inspection failed: prepare says why
  if (inspected.layout) {
    // Class folders and a table that names the images: the folders may be patients, the table the labels.
    const from = await vscode.window.showQuickPick(
      [
        { label: 'The folder names', description: inspected.layout.replace(/^a folder per class: /, ''), detail: 'Each folder is a class; a table with a lesion or patient column groups the split.', table: undefined },
        ...inspected.tables.map((t) => ({ label: `A column of ${path.relative(data, t.file)}`, description: t.columns.join(', '), detail: 'The table says each image’s class; its folders are only where the images are.', table: t })),
      ],
      { title: 'Lesion Lab: where do the classes come from?', ignoreFocusOut: true },
    );
    if (!from) return 'cancelled';
    if (!from.table) return undefined;
    return (await askTableColumns(data, [from.table])) ?? 'cancelled';
  }
  if (inspected.tables.length === 0) {
    const choice = await vscode.window.showWarningMessage(inspected.problem ?? `Nothing to prepare in ${data}.`, 'Choose Another Folder…');
    if (choice) void vscode.commands.executeCommand('lesionLab.prepareDataset');
    return 'cancelled';
  }
  return (await askTableColumns(data, inspected.tables)) ?? 'cancelled';
}

export async function refreshWorkspaceState(lab: LabContext): Promise<void> {
  const root = workspaceRoot(false);
  if (!root) return;
  const prepared = preparedDir(root);
  const summary = await readDatasetSummary(prepared);
  lab.state.update({ dataset: summary ? { path: prepared, summary } : undefined, runs: await listRuns(runsDir(root)) });
  lab.panels.refreshAll();
}

function trainOptionsFromSettings(root: string, phase: TrainPhase, overrides: Partial<TrainOptions>): TrainOptions & { prepared: string } {
  const cfg = vscode.workspace.getConfiguration('lesionLab');
  const model = cfg.get<ModelName>('model', 'resnet152');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return {
    prepared: preparedDir(root),
    run: path.join(runsDir(root), `${stamp}-${overrides.model ?? model}`),
    model,
    weights: 'imagenet',
    phase,
    epochs: cfg.get<number>('epochs', 10),
    batch: cfg.get<number>('batchSize', 32),
    size: cfg.get<number>('imageSize', 224),
    augment: 'none',
    engine: cfg.get('engine', 'auto'),
    precision: cfg.get<Precision>('precision', 'float32'),
    resume: false,
    classWeights: false,
    seed: 1,
    // A field the form left empty arrives as undefined: the setting stands.
    ...(Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TrainOptions>),
  };
}

/** A training job that has started; `done` settles when it ends (the panels are refreshed by then). */
export interface StartedTraining {
  run: string;
  done: Promise<void>;
}

/**
 * Starts a training job with the settings, overridden by `overrides`. Resolves as soon as the job has
 * started, or throws RequestRefused saying why it cannot (after showing the same as a warning with its
 * way out: the folder to open, the trust to grant, the dataset to prepare, the job to stop).
 */
export async function startTraining(lab: LabContext, session: TrainingSession, phase: TrainPhase, overrides: Partial<TrainOptions> = {}): Promise<StartedTraining> {
  const root = workspaceRoot();
  if (!root) throw new RequestRefused('Lesion Lab works inside a folder: open one first.');
  if (!requireTrust('Training')) throw new RequestRefused('Training is disabled in an untrusted workspace.');
  if (lab.jobs.busy) {
    void vscode.window.showWarningMessage(`Lesion Lab is busy with “${lab.state.job?.title ?? 'a job'}”. Stop it first, or wait for it to finish.`);
    throw new RequestRefused(`Lesion Lab is busy with “${lab.state.job?.title ?? 'a job'}”. Stop it first, or wait for it to finish.`);
  }
  const options = trainOptionsFromSettings(root, phase, overrides);
  if (!options.resume && !existsSync(path.join(options.prepared, 'manifest.json'))) {
    void vscode.window.showWarningMessage(`No prepared dataset at ${options.prepared}. Prepare one first.`, 'Prepare Dataset…').then((choice) => {
      if (choice) void vscode.commands.executeCommand('lesionLab.prepareDataset');
    });
    throw new RequestRefused(`No prepared dataset at ${options.prepared}. Prepare one first.`);
  }
  if (options.resume) {
    // A resumed run keeps the options in its config.json; the settings choose only the engine and precision,
    // and the epochs when a head-only run goes on into fine-tuning.
    const saved = (await readRunConfig(options.run))?.options;
    options.explicit = ['engine', 'precision', ...(saved?.phase === 'head' && phase === 'finetune' ? (['phase', 'epochs'] as const) : [])];
    if (saved) options.prepared = saved.prepared; // not sent as explicit: for the check below
  }
  const inUse = await folderInUse({ command: 'train', options });
  if (inUse) {
    void vscode.window.showWarningMessage(`Lesion Lab: ${inUse}`);
    throw new RequestRefused(inUse);
  }
  if (options.resume) {
    await session.resume(options.run);
  } else {
    session.begin(options.run);
  }
  lab.currentRun = options.run;
  lab.panels.show('training', true);
  const job = lab.jobs.run({ command: 'train', options }, {
    title: options.resume ? 'Resume training' : phase === 'finetune' ? 'Fine-tune' : 'Train',
    notify: true,
    onEvent: (e: BackendEvent) => session.onEvent(e),
  });
  const done = job.then(async (result) => {
    session.end(result?.status ?? 'failed');
    await refreshWorkspaceState(lab);
  });
  return { run: options.run, done };
}

/** The palette's way: start, wait for the end, and leave the explaining to the warnings already shown. */
async function trainToTheEnd(lab: LabContext, session: TrainingSession, phase: TrainPhase, overrides: Partial<TrainOptions> = {}): Promise<void> {
  try {
    await (await startTraining(lab, session, phase, overrides)).done;
  } catch (err) {
    if (!(err instanceof RequestRefused)) throw err;
  }
}

export function registerWorkflowCommands(lab: LabContext, session: TrainingSession, images: ImagePanels): vscode.Disposable[] {
  const register = (id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, fn);

  return [
    register('lesionLab.createDemoData', async () => {
      const root = workspaceRoot();
      if (!root || !requireTrust('Creating demo data')) return;
      const sizes = [
        { label: 'Small', description: '350 images (50 per class), 600×450', detail: 'Trains in a few minutes on a CPU.', perClass: 50, total: undefined },
        { label: 'HAM10000 proportions', description: '1,000 images in HAM10000’s class balance', detail: 'Imbalanced like the real data (67% nv).', perClass: undefined, total: 1000 },
        { label: 'Full size', description: '10,015 images, exactly HAM10000’s class counts', detail: 'For benchmarks; takes a few minutes to write.', perClass: undefined, total: 10015 },
      ];
      const pick = await vscode.window.showQuickPick(sizes, { title: 'Lesion Lab: synthetic demo dataset (HAM10000 layout)' });
      if (!pick) return;
      const out = path.join(root, 'demo-data');
      const result = await lab.jobs.run(
        { command: 'demo-data', options: { out, perClass: pick.perClass, total: pick.total, size: 600, seed: 1 } },
        { title: 'Create demo dataset', notify: true },
      );
      if (result?.status === 'done') {
        await lab.extension.workspaceState.update(LAST_DATA_KEY, out);
        const next = await vscode.window.showInformationMessage(`Demo dataset written to ${path.relative(root, out) || out}.`, 'Prepare Dataset…');
        if (next) void vscode.commands.executeCommand('lesionLab.prepareDataset', out);
      }
    }),
    register('lesionLab.downloadDataset', async () => {
      const root = workspaceRoot();
      if (!root || !requireTrust('Downloading')) return;
      const choices: (vscode.QuickPickItem & { dataset: DownloadDataset; includeTest: boolean; folder: string; license: string })[] = [
        {
          label: 'HAM10000 / ISIC 2018 Task 3',
          description: '10,015 images, 7 classes · about 2.6 GB',
          detail: 'Training set, with lesion groupings (split by lesion).',
          dataset: 'isic2018', includeTest: false, folder: 'isic2018',
          license: 'HAM10000 / ISIC 2018 Task 3 is licensed CC BY-NC 4.0: non-commercial use, with attribution (Tschandl et al., Sci. Data 2018; Codella et al., arXiv:1902.03368).',
        },
        {
          label: 'HAM10000 / ISIC 2018 Task 3 with its test set',
          description: '10,015 + 1,512 images · about 2.6 GB plus the test set',
          detail: 'The test set has public ground truth: a held-out evaluation.',
          dataset: 'isic2018', includeTest: true, folder: 'isic2018',
          license: 'HAM10000 / ISIC 2018 Task 3 is licensed CC BY-NC 4.0: non-commercial use, with attribution (Tschandl et al., Sci. Data 2018; Codella et al., arXiv:1902.03368).',
        },
        {
          label: 'ISIC 2019 Task 1',
          description: '25,331 images, 8 classes (adds squamous cell carcinoma) · about 9 GB',
          detail: 'Training images + ground truth + metadata (lesion_id for the split where known).',
          dataset: 'isic2019', includeTest: false, folder: 'isic2019',
          license: 'ISIC 2019 is licensed CC BY-NC 4.0: non-commercial use, with attribution (HAM10000: Tschandl et al. 2018; BCN_20000: Combalia et al., arXiv:1908.02288; MSK: Codella et al., arXiv:1710.05006).',
        },
      ];
      const pick = await vscode.window.showQuickPick(choices, { title: 'Lesion Lab: download which dataset?' });
      if (!pick) return;
      const accept = await vscode.window.showInformationMessage(`${pick.license} Download ${pick.description?.split(' · ')[1] ?? ''}?`, { modal: true }, 'Accept and Download');
      if (!accept) return;
      const out = path.join(root, pick.folder);
      const result = await lab.jobs.run(
        { command: 'download', options: { out, dataset: pick.dataset, includeTest: pick.includeTest, acceptLicense: true } },
        { title: `Download ${pick.label}`, notify: true },
      );
      if (result?.status === 'done') {
        await lab.extension.workspaceState.update(LAST_DATA_KEY, out);
        const next = await vscode.window.showInformationMessage(`Downloaded to ${out}.`, 'Prepare Dataset…');
        if (next) void vscode.commands.executeCommand('lesionLab.prepareDataset', out);
      }
    }),
    register('lesionLab.prepareDataset', async (arg?: unknown) => {
      const root = workspaceRoot();
      if (!root || !requireTrust('Preparing a dataset')) return;
      const given = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
      const remembered = lab.extension.workspaceState.get<string>(LAST_DATA_KEY) ?? settingPath('dataFolder', root);
      const data = given ?? (await pickFolder('Dataset folder (a folder per class, a CSV and its images, HAM10000, ISIC 2018 / 2019 / 2020)', remembered ?? root));
      if (!data) return;
      await lab.extension.workspaceState.update(LAST_DATA_KEY, data);
      const table = await tableToRead(lab, data);
      if (table === 'cancelled') return;
      const out = preparedDir(root);
      const result = await lab.jobs.run(
        { command: 'prepare', options: { data, out, split: 'lesion', valFraction: 0.2, seed: 101, link: 'hard', ...(table ? { table } : {}) } },
        {
          title: 'Prepare dataset',
          notify: true,
          onEvent: (e) => {
            if (e.type === 'prepare/didFinish') lab.state.update({ dataset: { path: e.out, summary: e.summary } });
          },
        },
      );
      if (result?.status === 'done') lab.panels.show('dataset');
    }),
    register('lesionLab.augment', async () => {
      const root = workspaceRoot();
      if (!root || !requireTrust('Augmenting')) return;
      const hasNv = lab.state.dataset?.summary.classes.some((c) => c.name === 'nv') ?? false;
      const target = await vscode.window.showInputBox({
        title: 'Lesion Lab: augment the training split',
        prompt: `Images per class after augmentation (${hasNv ? 'nv is left as it is' : 'classes already that large are left as they are'}; validation is never augmented)`,
        value: '6000',
        validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 ? undefined : 'a whole number above 0'),
      });
      if (!target) return;
      const result = await lab.jobs.run(
        { command: 'augment', options: { prepared: preparedDir(root), target: Number(target), size: vscode.workspace.getConfiguration('lesionLab').get('imageSize', 224), seed: 1 } },
        { title: 'Augment', notify: true },
      );
      if (result?.status === 'done') {
        await refreshWorkspaceState(lab);
        lab.panels.show('dataset');
      }
    }),
    // The run form starts runs with a typed `training/start` request; the palette command takes no arguments.
    register('lesionLab.train', () => trainToTheEnd(lab, session, 'both')),
    register('lesionLab.fineTune', async () => {
      // Phase 2 of the reference workflow: continue a run whose head is trained, unfreezing the last block.
      const root = workspaceRoot();
      if (!root) return;
      const runs = (await listRuns(runsDir(root))).filter((r) => r.epochs > 0);
      const pick = await vscode.window.showQuickPick(
        [
          ...runs.map((r) => ({ label: r.name, description: `${r.epochs} epochs · ${r.status}`, detail: 'Fine-tune this run from its last checkpoint', run: r.path })),
          { label: 'New run', description: 'fine-tune ImageNet weights directly, without a head phase', detail: 'Uses the model and sizes from the settings', run: undefined },
        ],
        { title: 'Lesion Lab: fine-tune which run?' },
      );
      if (!pick) return;
      await trainToTheEnd(lab, session, 'finetune', pick.run ? { run: pick.run, resume: true } : {});
    }),
    register('lesionLab.resume', async () => {
      const root = workspaceRoot();
      if (!root) return;
      const runs = await listRuns(runsDir(root));
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({ label: r.name, description: `${r.epochs} epochs · ${r.status}`, run: r })),
        { title: 'Lesion Lab: resume which run?' },
      );
      if (!pick) return;
      await trainToTheEnd(lab, session, 'both', { run: pick.run.path, resume: true });
    }),
    register('lesionLab.stop', () => {
      if (!lab.jobs.cancelCurrent()) void vscode.window.showInformationMessage('Lesion Lab has no job running.');
    }),
    register('lesionLab.evaluate', async (arg?: unknown) => {
      const root = workspaceRoot();
      if (!root || !requireTrust('Evaluating')) return;
      const run = typeof arg === 'string' ? arg : lab.currentRun ?? (await listRuns(runsDir(root))).at(-1)?.path;
      if (!run) {
        void vscode.window.showWarningMessage('There is no training run to evaluate yet. Train a model first (Lesion Lab: Train…).');
        return;
      }
      lab.currentRun = run;
      const result = await lab.jobs.run({ command: 'evaluate', options: { run, engine: vscode.workspace.getConfiguration('lesionLab').get<EngineChoice>('engine', 'auto') } }, { title: 'Evaluate', notify: true });
      if (result?.status === 'done') lab.panels.show('evaluation');
    }),
    register('lesionLab.classifyLesion', async (arg?: unknown, selection?: unknown) => {
      // Several images selected in the Explorer are classified together; else the clicked or open image.
      const selected = imagesToClassify(arg, selection);
      const single = targetImage(arg);
      const chosen = selected.length > 0 ? selected : single ? [single] : [];
      if (chosen.length === 0) {
        void vscode.window.showWarningMessage('Classify Lesion works on a .jpg or .png image: right-click one in the Explorer, or open it and run the command again.');
        return;
      }
      const root = workspaceRoot(false);
      const runs = root ? (await listRuns(runsDir(root))).filter((r) => r.epochs > 0) : [];
      const run = lab.currentRun && runs.some((r) => r.path === lab.currentRun) ? lab.currentRun : runs.at(-1)?.path;
      if (!run) {
        const choice = await vscode.window.showWarningMessage('There is no trained model in this workspace yet. Train one first, or open a run folder written by the CLI.', 'Train…', 'Open Run Folder…');
        if (choice) void vscode.commands.executeCommand(choice === 'Train…' ? 'lesionLab.train' : 'lesionLab.openRun');
        return;
      }
      lab.panels.show('prediction');
      await images.prediction.classify(chosen, run);
    }),
    register('lesionLab.previewAugmentations', async (arg?: unknown) => {
      const image = targetImage(arg);
      if (!image) {
        void vscode.window.showWarningMessage('Preview Augmentations works on a .jpg or .png image: right-click one in the Explorer, or open it and run the command again.');
        return;
      }
      lab.panels.show('augmentPreview');
      await images.preview.open(image);
    }),
    register('lesionLab.showSamples', async () => {
      if (!lab.state.dataset) {
        const choice = await vscode.window.showInformationMessage('The Samples panel shows a prepared dataset’s images. Prepare one first.', 'Prepare Dataset…');
        if (choice) void vscode.commands.executeCommand('lesionLab.prepareDataset');
        return;
      }
      lab.panels.show('samples');
      await images.samples.open(lab.state.dataset.path);
    }),
    register('lesionLab.showDataset', () => lab.panels.show('dataset')),
    register('lesionLab.showTraining', () => lab.panels.show('training')),
    register('lesionLab.showEvaluation', () => lab.panels.show('evaluation')),
    register('lesionLab.openRun', async (arg?: unknown) => {
      const root = workspaceRoot(false);
      const start = root && existsSync(runsDir(root)) ? runsDir(root) : root;
      const run = arg instanceof vscode.Uri ? arg.fsPath : await pickFolder('A Lesion Lab run folder (has config.json and metrics.jsonl)', start);
      if (!run) return;
      if (!existsSync(path.join(run, 'config.json'))) {
        void vscode.window.showWarningMessage(`${run} is not a Lesion Lab run folder (no config.json). Runs are written by "lesion-lab train --run DIR".`);
        return;
      }
      await lab.openRunFolder(run);
      lab.panels.show('training');
    }),
    register('lesionLab.showLog', () => lab.output.show(true)),
  ];
}
