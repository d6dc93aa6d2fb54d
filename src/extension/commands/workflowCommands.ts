import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { DownloadDataset, EvaluationSplit, TableSpec } from '../../shared/protocol/jobs';
import type { LabContext } from '../labContext';
import { preparedDir, requireTrust, runsDir, settingPath, workspaceRoot } from '../workspacePaths';
import { listRuns, readDatasetSummary, readRunConfig } from '../runFolders';
import { ENSEMBLE_REPORT } from '../../shared/runFiles';
import type { AugmentPreviewController } from '../panels/augmentPreviewController';
import type { PredictionController } from '../panels/predictionController';
import { imagesToClassify } from '../panels/predictionController';
import type { SamplesController } from '../panels/samplesController';
import { askTableColumns } from './tablePicker';
import { engineSetting, threadsSetting } from '../computeSettings';

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

/** A command that works on an image was run without one: say how to give one, and offer a file dialog. */
async function askForImage(what: string, command: string): Promise<void> {
  const choice = await vscode.window.showWarningMessage(`${what} works on a .jpg or .png image: right-click one in the Explorer, open it and run the command again, or pick one.`, 'Pick Image…');
  if (!choice) return;
  const picked = await vscode.window.showOpenDialog({ title: `Lesion Lab: ${what}`, canSelectFiles: true, canSelectMany: false, filters: { Images: ['jpg', 'jpeg', 'png'] }, openLabel: what });
  if (picked?.[0]) void vscode.commands.executeCommand(command, picked[0]);
}

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

export function registerWorkflowCommands(lab: LabContext, images: ImagePanels): vscode.Disposable[] {
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
        { title: 'Create demo dataset', notify: true, again: { label: 'Create Demo Dataset…', command: 'lesionLab.createDemoData' } },
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
        { title: `Download ${pick.label}`, notify: true, again: { label: 'Download Again', command: 'lesionLab.downloadDataset', note: 'What was downloaded is kept: downloading again continues from there.' } },
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
          again: { label: 'Prepare Again', command: 'lesionLab.prepareDataset', args: [data] },
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
      if (!existsSync(path.join(preparedDir(root), 'manifest.json'))) {
        const choice = await vscode.window.showWarningMessage(
          'Augment adds transformed copies of a prepared dataset’s training images, and this workspace has no prepared dataset yet. Prepare one first.',
          'Prepare Dataset…',
          'Create Demo Dataset…',
        );
        if (choice) void vscode.commands.executeCommand(choice === 'Prepare Dataset…' ? 'lesionLab.prepareDataset' : 'lesionLab.createDemoData');
        return;
      }
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
        { title: 'Augment', notify: true, again: { label: 'Augment Again…', command: 'lesionLab.augment' } },
      );
      if (result?.status === 'done') {
        await refreshWorkspaceState(lab);
        lab.panels.show('dataset');
      }
    }),
    // Arguments from the panels: the run, and the split ('val' or 'test'); without a split it asks which set:
    // validation, the test split when the run's prepared folder has one, or another prepared folder.
    register('lesionLab.evaluate', async (arg?: unknown, splitArg?: unknown) => {
      const root = workspaceRoot();
      if (!root || !requireTrust('Evaluating')) return;
      const run = typeof arg === 'string' ? arg : lab.currentRun ?? (await listRuns(runsDir(root))).at(-1)?.path;
      if (!run) {
        const choice = await vscode.window.showWarningMessage('There is no training run to evaluate yet: train a model first, or open a run folder the CLI wrote.', 'Train…', 'Open Run Folder…');
        if (choice) void vscode.commands.executeCommand(choice === 'Train…' ? 'lesionLab.train' : 'lesionLab.openRun');
        return;
      }
      let split: EvaluationSplit | undefined = splitArg === 'val' || splitArg === 'test' ? splitArg : undefined;
      let data: string | undefined;
      if (!split) {
        const prepared = (await readRunConfig(run))?.options.prepared;
        const summary = prepared ? await readDatasetSummary(prepared) : undefined;
        const test = summary?.classes.reduce((a, c) => a + (c.test?.images ?? 0), 0) ?? 0;
        const pick = await vscode.window.showQuickPick(
          [
            { label: 'Validation split', description: 'it chose the checkpoint, so its figures are optimistic', set: 'val' as const },
            ...(test > 0 ? [{ label: 'Test split', description: `${test} held-out images, never trained on nor used to choose`, set: 'test' as const }] : []),
            { label: 'Another prepared folder…', description: 'its test split, else its validation split; a report of its own', set: 'data' as const },
          ],
          { title: `Lesion Lab: evaluate ${path.basename(run)} on which set?` },
        );
        if (!pick) return;
        if (pick.set === 'data') {
          data = await pickFolder('A prepared dataset folder (has manifest.json)', root);
          if (!data) return;
        } else {
          split = pick.set;
        }
      }
      lab.currentRun = run;
      const result = await lab.jobs.run(
        { command: 'evaluate', options: { run, ...(split ? { split } : {}), ...(data ? { data } : {}), engine: engineSetting(), threads: threadsSetting() } },
        {
          title: split === 'test' ? 'Evaluate on the test set' : data ? `Evaluate on ${path.basename(data)}` : 'Evaluate',
          notify: true,
          again: { label: 'Evaluate Again', command: 'lesionLab.evaluate', args: [run, ...(split ? [split] : [])] },
        },
      );
      if (result?.status === 'done') lab.panels.show('evaluation');
    }),
    register('lesionLab.classifyLesion', async (arg?: unknown, selection?: unknown) => {
      // Several images selected in the Explorer are classified together; else the clicked or open image.
      const selected = imagesToClassify(arg, selection);
      const single = targetImage(arg);
      const chosen = selected.length > 0 ? selected : single ? [single] : [];
      if (chosen.length === 0) {
        await askForImage('Classify Lesion', 'lesionLab.classifyLesion');
        return;
      }
      const root = workspaceRoot(false);
      const runs = root ? (await listRuns(runsDir(root))).filter((r) => r.epochs > 0) : [];
      // The run the panels show (also one opened from outside runs/), once it has a checkpoint; else the newest.
      const shown = lab.currentRun && existsSync(path.join(lab.currentRun, 'checkpoints', 'best')) ? lab.currentRun : undefined;
      const run = shown ?? runs.at(-1)?.path;
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
        await askForImage('Preview Augmentations', 'lesionLab.previewAugmentations');
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
      const run = arg instanceof vscode.Uri ? arg.fsPath : await pickFolder('A Lesion Lab run folder (has config.json and metrics.jsonl), or a sweep folder with an ensemble evaluation', start);
      if (!run) return;
      if (!existsSync(path.join(run, 'config.json')) && existsSync(path.join(run, ENSEMBLE_REPORT))) {
        // A sweep or cross-validation folder with an ensemble's report (`evaluate --ensemble`): no curves, its evaluation.
        await lab.openEvaluations(run);
        lab.panels.show('evaluation');
        return;
      }
      if (!existsSync(path.join(run, 'config.json'))) {
        const choice = await vscode.window.showWarningMessage(
          `${run} is not a Lesion Lab run folder: it has no config.json. A run folder is one that training writes, under ${root ? path.relative(root, runsDir(root)) || 'runs' : 'runs'}/ in the workspace (or wherever the CLI was told to write it).`,
          'Open Run Folder…',
          'Train…',
        );
        if (choice) void vscode.commands.executeCommand(choice === 'Train…' ? 'lesionLab.train' : 'lesionLab.openRun');
        return;
      }
      await lab.openRunFolder(run);
      lab.panels.show('training');
    }),
    register('lesionLab.showLog', () => lab.output.show(true)),
  ];
}
