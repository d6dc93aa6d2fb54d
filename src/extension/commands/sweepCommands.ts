/**
 * Cross-validate…, Run Sweep…, Open Sweep… and Show Sweep: the palette's way into the Sweep panel. The
 * cross-validation form asks, step by step, for the prepared dataset, K, the executor and how many runs at a time;
 * what each fold run trains comes from the Run form's defaults (the `lesionLab.*` settings, with the pretrained or
 * the from-scratch recipe, src/extension/runDefaults.ts), so a fold run trains what a run from the form would.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import type { ExecutorOptions } from '../../shared/sweep';
import type { CrossValidateOptions } from '../../shared/protocol/sweeps';
import type { TrainOptions } from '../../shared/protocol/jobs';
import { UI_FOLLOW, describeTrainOptions, foldTrainValues } from '../../shared/crossValidateForm';
import type { LabContext } from '../labContext';
import { newRunOptions } from '../runDefaults';
import type { SweepController } from '../panels/sweepController';
import { weightsUnavailableMessage } from '../weightsAvailability';
import { openFolderMessage, preparedDir, requireTrust, workspaceRoot } from '../workspacePaths';

/** Where the extension puts new cross-validations: beside runs/, one folder each. */
export const sweepsDir = (root: string): string => path.join(root, 'sweeps');

/** The folders under the workspace that hold a sweep plan (sweep.json with tasks), newest first. */
async function sweepFolders(): Promise<string[]> {
  const files = await vscode.workspace.findFiles('**/sweep.json', '**/{node_modules,.git}/**', 200);
  const found: { dir: string; at: string }[] = [];
  for (const f of files) {
    try {
      const plan = JSON.parse(await fs.readFile(f.fsPath, 'utf8')) as { tasks?: unknown; createdAt?: string };
      if (Array.isArray(plan.tasks)) found.push({ dir: path.dirname(f.fsPath), at: plan.createdAt ?? '' });
    } catch {
      // A spec, or a file being written: not a sweep folder.
    }
  }
  return found.sort((a, b) => b.at.localeCompare(a.at)).map((f) => f.dir);
}

async function preparedFolders(lab: LabContext, root: string): Promise<string[]> {
  const files = await vscode.workspace.findFiles('**/manifest.json', '**/{node_modules,.git,runs,sweeps}/**', 50);
  const dirs = [lab.state.dataset?.path, preparedDir(root), ...files.map((f) => path.dirname(f.fsPath))].filter((d): d is string => !!d && existsSync(path.join(d, 'manifest.json')));
  return [...new Set(dirs)];
}

async function browseFolder(title: string, root: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectFolders: true, canSelectFiles: false, canSelectMany: false, defaultUri: vscode.Uri.file(root) });
  return picked?.[0]?.fsPath;
}

interface StepItem<T> extends vscode.QuickPickItem {
  value: T;
}

async function pickStep<T>(title: string, step: string, items: StepItem<T>[], placeHolder: string): Promise<T | undefined> {
  const picked = await vscode.window.showQuickPick(items, { title: `${title} (${step})`, placeHolder, ignoreFocusOut: true });
  return picked?.value;
}

async function wholeNumber(title: string, step: string, prompt: string, value: number, min: number, max: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title} (${step})`,
    prompt,
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max ? undefined : `A whole number from ${min} to ${max}.`),
  });
  return text === undefined ? undefined : Number(text.trim());
}

/** The cross-validation form; undefined when the person stepped out of it. */
async function crossValidateForm(lab: LabContext, root: string): Promise<CrossValidateOptions | undefined> {
  const title = 'Lesion Lab: Cross-Validate';
  const candidates = await preparedFolders(lab, root);
  const prepared = await pickStep<string | 'browse'>(
    title,
    '1/5',
    [...candidates.map((d) => ({ label: path.relative(root, d) || path.basename(d), description: d, value: d })), { label: '$(folder-opened) Browse…', description: 'another prepared folder', value: 'browse' as const }],
    'The prepared dataset: its training and validation images are split into folds (the test split stays out)',
  );
  if (prepared === undefined) return undefined;
  const preparedPath = prepared === 'browse' ? await browseFolder('The prepared dataset to cross-validate', root) : prepared;
  if (!preparedPath) return undefined;
  if (!existsSync(path.join(preparedPath, 'manifest.json'))) {
    void vscode.window.showErrorMessage(`${preparedPath} is not a prepared dataset (it has no manifest.json): prepare it first with Lesion Lab: Prepare Dataset….`, 'Prepare Dataset…').then((c) => c && vscode.commands.executeCommand('lesionLab.prepareDataset'));
    return undefined;
  }
  const folds = await wholeNumber(title, '2/5', 'Folds (K): each image is validated once, by the run that did not train on it; the folds are recorded in the prepared manifest', 5, 2, 100);
  if (folds === undefined) return undefined;
  const kind = await pickStep<'local' | 'slurm'>(
    title,
    '3/5',
    [
      { label: 'This machine', description: 'local', detail: 'The fold runs train here, a few at a time; the panel follows them.', value: 'local' },
      { label: 'Slurm', description: 'slurm', detail: 'One job array through sbatch (on this window’s machine: the login node in a Remote-SSH window); squeue/sacct say how each run is doing.', value: 'slurm' },
    ],
    'Where the fold runs train',
  );
  if (!kind) return undefined;
  const parallel = await wholeNumber(title, '4/5', kind === 'local' ? 'Runs at a time on this machine (each trains one model on its own process)' : 'Runs at a time on the cluster (the array throttle %N)', kind === 'local' ? 1 : folds, 1, 10000);
  if (parallel === undefined) return undefined;
  const executor: ExecutorOptions = { kind, parallel };
  if (kind === 'slurm') {
    const extra = await vscode.window.showInputBox({
      title: `${title} (4/5)`,
      prompt: 'Extra #SBATCH options, separated by ";" (empty for the cluster’s defaults)',
      placeHolder: 'partition=gpu;time=4:00:00;gres=gpu:1;mem=16G',
      ignoreFocusOut: true,
    });
    if (extra === undefined) return undefined;
    const lines = extra.split(';').map((l) => l.trim()).filter(Boolean).map((l) => (l.startsWith('-') ? l : `--${l}`));
    if (lines.length) executor.sbatch = lines;
  }
  // The Run form's two recipes, as the settings make them.
  const pretrained = newRunOptions(root, { weights: 'imagenet' });
  const scratch = newRunOptions(root, { weights: 'none' });
  const setting = newRunOptions(root, {});
  const recipes = [setting.weights === 'none' ? scratch : pretrained, setting.weights === 'none' ? pretrained : scratch];
  const train = await pickStep<TrainOptions>(
    title,
    '5/5',
    recipes.map((o) => ({ label: o.weights === 'none' ? 'From scratch' : 'ImageNet weights', description: o === recipes[0] ? 'the Run form’s default' : '', detail: describeTrainOptions(o), value: o })),
    `What each of the ${folds} fold runs trains (the Run form’s defaults; change them in Settings › Lesion Lab)`,
  );
  if (!train) return undefined;
  if (train.weights === 'imagenet') {
    const status = await lab.weights.check({ model: train.model, alpha: train.alpha, size: train.size }, true);
    if (status && !status.cached && !status.download?.reachable) {
      void vscode.window.showErrorMessage(weightsUnavailableMessage(status), 'Cross-Validate…').then((c) => c && vscode.commands.executeCommand('lesionLab.crossValidate'));
      return undefined;
    }
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return {
    prepared: preparedPath,
    out: path.join(sweepsDir(root), `cv-${stamp}-k${folds}`),
    folds,
    foldSeed: 101,
    train: foldTrainValues(train),
    executor,
    ...UI_FOLLOW,
  };
}

/** Where `sweep --spec` puts a spec's runs: its "out", else beside it, named after it (as the CLI does). */
async function specOut(spec: string): Promise<string> {
  const raw = JSON.parse(await fs.readFile(spec, 'utf8')) as { out?: unknown };
  const base = path.dirname(spec);
  return path.resolve(base, typeof raw.out === 'string' ? raw.out : path.basename(spec).replace(/\.json$/i, ''));
}

function canStart(lab: LabContext, what: string): string | undefined {
  const root = workspaceRoot(false);
  if (!root) {
    openFolderMessage();
    return undefined;
  }
  if (!requireTrust(what)) return undefined;
  if (lab.jobs.busy) {
    void vscode.window.showWarningMessage(`Lesion Lab is busy with “${lab.state.job?.title ?? 'a job'}”. Stop it first, or wait for it to finish.`, 'Stop').then((c) => c && vscode.commands.executeCommand('lesionLab.stop'));
    return undefined;
  }
  return root;
}

export function registerSweepCommands(lab: LabContext, sweeps: SweepController): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('lesionLab.crossValidate', async () => {
      const root = canStart(lab, 'Cross-validation');
      if (!root) return;
      const options = await crossValidateForm(lab, root);
      if (options) await sweeps.crossValidate(options);
    }),
    vscode.commands.registerCommand('lesionLab.runSweep', async (uri?: vscode.Uri) => {
      const root = canStart(lab, 'Running a sweep');
      if (!root) return;
      const spec =
        uri?.fsPath ??
        (await vscode.window.showOpenDialog({ title: 'The sweep spec to run (a grid or random search over train options; README › Cross-validation, sweeps and ensembles)', canSelectMany: false, filters: { 'Sweep spec': ['json'] }, defaultUri: vscode.Uri.file(root) }))?.[0]?.fsPath;
      if (!spec) return;
      let out: string;
      try {
        out = await specOut(spec);
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not read the sweep spec ${spec}: ${(err as Error).message}`, 'Open Spec').then((c) => c && vscode.commands.executeCommand('vscode.open', vscode.Uri.file(spec)));
        return;
      }
      const title = 'Lesion Lab: Run Sweep';
      const kind = await pickStep<'local' | 'slurm'>(title, '1/2', [
        { label: 'This machine', description: 'local', value: 'local' },
        { label: 'Slurm', description: 'slurm', detail: 'one job array through sbatch', value: 'slurm' },
      ], 'Where the runs train');
      if (!kind) return;
      const parallel = await wholeNumber(title, '2/2', 'Runs at a time', kind === 'local' ? 1 : 4, 1, 10000);
      if (parallel === undefined) return;
      await sweeps.runSweep({ spec, executor: { kind, parallel }, ...UI_FOLLOW }, out);
    }),
    vscode.commands.registerCommand('lesionLab.openSweep', async (uri?: vscode.Uri) => {
      const root = workspaceRoot();
      if (!root) return;
      let folder = uri?.fsPath;
      if (!folder) {
        const found = await sweepFolders();
        const picked = await pickStep<string>('Lesion Lab: Open Sweep', `${found.length} in this folder`, [
          ...found.map((d) => ({ label: path.basename(d), description: path.relative(root, path.dirname(d)) || '.', value: d })),
          { label: '$(folder-opened) Browse…', description: 'a sweep or cross-validation folder elsewhere (on a cluster’s shared disk)', value: 'browse' },
        ], 'A sweep or cross-validation folder (it holds sweep.json)');
        if (!picked) return;
        folder = picked === 'browse' ? await browseFolder('A sweep or cross-validation folder', root) : picked;
      }
      if (!folder) return;
      if (!existsSync(path.join(folder, 'sweep.json'))) {
        void vscode.window.showErrorMessage(`${folder} is not a sweep folder (it has no sweep.json). Cross-Validate… or Run Sweep… makes one.`, 'Cross-Validate…', 'Open Sweep…').then((c) => c && vscode.commands.executeCommand(c === 'Cross-Validate…' ? 'lesionLab.crossValidate' : 'lesionLab.openSweep'));
        return;
      }
      await sweeps.open(folder);
    }),
    vscode.commands.registerCommand('lesionLab.showSweep', async () => {
      if (sweeps.state.folder) return sweeps.open(sweeps.state.folder);
      const [latest] = await sweepFolders();
      if (latest) return sweeps.open(latest);
      lab.panels.show('sweep');
    }),
  ];
}
