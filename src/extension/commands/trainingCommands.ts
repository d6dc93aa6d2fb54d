/**
 * Starting, continuing and stopping training. Every new run starts from the Run form (the palette's
 * Train…, the walkthrough and the panels open it), built from the settings by runDefaults.ts, so nothing
 * starts unseen. Before a run is started its weights are made certain — ImageNet weights cached,
 * downloaded first (a job of its own, with progress), or the start is refused with the ways out — so a
 * refused start leaves no run folder behind.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { TrainOptions, TrainPhase } from '../../shared/protocol/jobs';
import type { TrainRequest } from '../../shared/protocol/views/sidebar';
import { describeRunSetup } from '../../shared/runConfig';
import type { LabContext } from '../labContext';
import { listRuns, readRunConfig } from '../runFolders';
import { newRunOptions } from '../runDefaults';
import { engineSetting, precisionSetting, threadsSetting } from '../computeSettings';
import type { TrainingSession } from '../trainingSession';
import { weightsUnavailableMessage } from '../weightsAvailability';
import { RequestRefused } from '../webviewInbox';
import { folderInUse } from '../folderLocks';
import { inUiWords } from '../uiWords';
import { openFolderMessage, requireTrust, runsDir, workspaceRoot } from '../workspacePaths';
import { refreshWorkspaceState } from './workflowCommands';

/** A training job that has started; `done` settles when it ends (the panels are refreshed by then). */
export interface StartedTraining {
  run: string;
  done: Promise<void>;
}

/** Why nothing can start now (no folder, no trust, a job running, no dataset), or undefined; shows it with its way out. */
function refusal(lab: LabContext, root: string | undefined, needsDataset: boolean): string | undefined {
  if (!root) return openFolderMessage();
  if (!vscode.workspace.isTrusted) {
    requireTrust('Training');
    return 'Training is disabled in an untrusted workspace: trust the folder to train.';
  }
  if (lab.jobs.busy) {
    const message = `Lesion Lab is busy with “${lab.state.job?.title ?? 'a job'}”. Stop it first, or wait for it to finish.`;
    void vscode.window.showWarningMessage(message, 'Stop').then((c) => c && vscode.commands.executeCommand('lesionLab.stop'));
    return message;
  }
  if (needsDataset && !lab.state.dataset) {
    const message = 'There is no prepared dataset in this workspace yet: prepare one first (Create Demo Dataset, or Prepare Dataset… on a folder of images).';
    void vscode.window.showWarningMessage(message, 'Prepare Dataset…', 'Create Demo Dataset…').then((c) => {
      if (c) void vscode.commands.executeCommand(c === 'Prepare Dataset…' ? 'lesionLab.prepareDataset' : 'lesionLab.createDemoData');
    });
    return message;
  }
  return undefined;
}

/**
 * A new run from the Run form. Resolves once its first job (the weights download, or the training) has
 * started, or throws RequestRefused saying why not — in words the form shows as they are.
 */
export async function startNewRun(lab: LabContext, session: TrainingSession, request: TrainRequest): Promise<StartedTraining> {
  const root = workspaceRoot(false);
  const refused = refusal(lab, root, true);
  if (refused || !root) throw new RequestRefused(refused ?? openFolderMessage());
  const options = newRunOptions(root, request);
  if (!existsSync(path.join(options.prepared, 'manifest.json'))) throw new RequestRefused(`No prepared dataset at ${options.prepared}: prepare one first (Lesion Lab: Prepare Dataset…).`);
  const step = await weightsStep(lab, options);
  if (!step) return launch(lab, session, options);
  // The download is a job of its own (its notification shows bytes and time); training follows it.
  const done = step.downloaded
    .then(async (ready) => {
      if (ready) await (await launch(lab, session, options)).done;
    })
    .catch((err: unknown) => {
      // A refusal after the download (the run folder taken meanwhile) has been shown as a notification.
      if (!(err instanceof RequestRefused)) throw err;
    });
  return { run: options.run, done };
}

/** What a new run from the form would train with (the learning-rate finder's setup); refuses, saying why, without a folder or a prepared dataset. */
export type TrainOptionsFromForm = (request: TrainRequest) => Promise<TrainOptions & { prepared: string }>;

export const trainOptionsFromForm: TrainOptionsFromForm = async (request) => {
  const root = workspaceRoot(false);
  if (!root) throw new RequestRefused(openFolderMessage());
  const options = newRunOptions(root, request);
  if (!existsSync(path.join(options.prepared, 'manifest.json'))) throw new RequestRefused(`No prepared dataset at ${options.prepared}: prepare one first (Lesion Lab: Prepare Dataset…).`);
  return options;
};

/** Makes sure the run's weights exist: nothing to do, a download to wait for, or a refusal with the ways out. */
async function weightsStep(lab: LabContext, options: TrainOptions): Promise<{ downloaded: Promise<boolean> } | undefined> {
  if (options.weights === 'none') return undefined;
  if (options.weights !== 'imagenet') {
    const stat = existsSync(options.weights) ? statSync(options.weights) : undefined;
    if (!stat?.isFile()) throw new RequestRefused(`The weights file ${options.weights} ${stat ? 'is a folder' : 'does not exist'}. Pick a Keras .h5 or TF.js model.json file with Browse…, or choose ImageNet weights or none.`);
    return undefined;
  }
  const key = { model: options.model, alpha: options.alpha, size: options.size };
  // Asked afresh unless cached: the network may have come or gone since the form last asked.
  const status = await lab.weights.check(key, true);
  if (!status) throw new RequestRefused(`Lesion Lab could not find out whether the ImageNet weights for ${options.model} can be had: ${lab.state.weights?.error ?? 'the check did not finish'}. Train from scratch, or pick a weights file with Browse….`);
  if (status.cached) return undefined;
  if (!status.download?.reachable) throw new RequestRefused(weightsUnavailableMessage(status));
  return {
    downloaded: lab.weights.download(key, status.bytes).then((got) => {
      if (got) return true;
      // Nothing was started; the ways on from here, as buttons.
      void vscode.window
        .showWarningMessage(`The ImageNet weights were not downloaded, so the run did not start. ${lab.state.weights?.error ?? ''}`.trim(), 'Try Again', 'Pick Weights File…', 'Train from Scratch')
        .then(async (choice) => {
          if (choice === 'Train from Scratch') await showRunForm(lab, { weights: 'none' });
          else if (choice === 'Try Again') await showRunForm(lab);
          else if (choice === 'Pick Weights File…') {
            const file = await pickWeightsFile();
            if (file) await showRunForm(lab, { weights: file });
          }
        });
      return false;
    }),
  };
}

/** Continues a run from its last checkpoint (`finetune`: a head-only run goes on into fine-tuning). */
export async function resumeRun(lab: LabContext, session: TrainingSession, run: string, phase: TrainPhase = 'both', epochs?: number): Promise<StartedTraining> {
  const root = workspaceRoot(false);
  const refused = refusal(lab, root, false);
  if (refused) throw new RequestRefused(refused);
  const config = await readRunConfig(run);
  if (!config) throw new RequestRefused(`${run} has no config.json, so there is nothing to resume.`);
  const headOnly = config.options.phase === 'head';
  const options: TrainOptions = {
    ...config.options,
    run,
    engine: engineSetting(),
    precision: precisionSetting(),
    threads: threadsSetting(),
    resume: true,
    // A resumed run keeps the options in its config.json; the settings choose only the engine, precision and
    // threads (a set thread count), and the phase and epochs when a head-only run goes on into fine-tuning.
    explicit: ['engine', 'precision', ...(threadsSetting() !== undefined ? (['threads'] as const) : []), ...(headOnly && phase === 'finetune' ? (['phase', 'epochs'] as const) : [])],
    ...(headOnly && phase === 'finetune' ? { phase: 'finetune' as const, epochs: epochs ?? config.options.epochs } : {}),
  };
  await refuseFolderInUse(options);
  await session.resume(run);
  return launch(lab, session, options);
}

/** Another process (the CLI, another window) writing the run or the prepared folder: refused, saying which. */
async function refuseFolderInUse(options: TrainOptions): Promise<void> {
  const inUse = await folderInUse({ command: 'train', options });
  if (!inUse) return;
  const message = inUiWords(inUse);
  void vscode.window.showWarningMessage(`Lesion Lab: ${message}`, 'Open That Run').then((c) => c && vscode.commands.executeCommand('lesionLab.openRun', vscode.Uri.file(options.run)));
  throw new RequestRefused(message);
}

async function launch(lab: LabContext, session: TrainingSession, options: TrainOptions): Promise<StartedTraining> {
  await refuseFolderInUse(options);
  if (!options.resume) session.begin(options.run);
  lab.currentRun = options.run;
  lab.panels.show('training', true);
  const title = options.resume ? (options.explicit?.includes('phase') ? 'Fine-tune' : 'Resume training') : 'Train';
  const job = lab.jobs.run({ command: 'train', options }, {
    title,
    notify: true,
    onEvent: (e: BackendEvent) => session.onEvent(e),
    again: { label: 'Resume', command: 'lesionLab.resume', args: [options.run], note: 'Its last checkpoint is kept: Resume continues from it.' },
  });
  const done = job.then(async (result) => {
    session.end(result?.status ?? 'failed');
    await refreshWorkspaceState(lab);
  });
  return { run: options.run, done };
}

/** Train… (palette, walkthrough, panels): shows the Run form with what a new run would be; Start is the person's. */
export async function showRunForm(lab: LabContext, preset: { phase?: TrainPhase; weights?: string } = {}): Promise<void> {
  // The form is shown either way (it says what would run); what would stop Start is said now.
  if (!workspaceRoot()) return;
  requireTrust('Training');
  await vscode.commands.executeCommand('lesionLab.trainingView.focus');
  lab.state.update({ formRequest: { seq: (lab.state.formRequest?.seq ?? 0) + 1, ...preset } });
}

/** A Keras .h5 or TF.js model.json, chosen in a file dialog. */
export async function pickWeightsFile(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Lesion Lab: backbone weights (a Keras .h5, or a TF.js model.json)',
    canSelectFiles: true,
    canSelectMany: false,
    filters: { 'Keras or TF.js weights': ['h5', 'hdf5', 'json'] },
    openLabel: 'Use These Weights',
  });
  return picked?.[0]?.fsPath;
}

/** Runs started here end with a notification of their own; a refusal has been shown where it happened. */
async function untilDone(started: Promise<StartedTraining>): Promise<void> {
  try {
    await (await started).done;
  } catch (err) {
    if (!(err instanceof RequestRefused)) throw err;
    void vscode.window.showWarningMessage(err.message, 'Show Training View').then((c) => c && vscode.commands.executeCommand('lesionLab.trainingView.focus'));
  }
}

/** Runs that can go on: stopped, failed or interrupted, with their config. */
async function resumableRuns(root: string): Promise<Awaited<ReturnType<typeof listRuns>>> {
  return (await listRuns(runsDir(root))).filter((r) => ['cancelled', 'failed', 'interrupted'].includes(r.status));
}

export function registerTrainingCommands(lab: LabContext, session: TrainingSession): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('lesionLab.train', () => showRunForm(lab)),
    vscode.commands.registerCommand('lesionLab.fineTune', async () => {
      // Phase 2 of the reference workflow: a head-only run goes on, unfreezing the last block.
      const root = workspaceRoot();
      if (!root) return;
      const runs = [];
      for (const r of await listRuns(runsDir(root))) {
        const config = r.epochs > 0 ? await readRunConfig(r.path) : undefined;
        if (config?.options.phase === 'head' && r.status !== 'running') runs.push({ run: r, config });
      }
      const pick = await vscode.window.showQuickPick(
        [
          ...runs.map(({ run, config }) => ({ label: run.name, description: `head trained for ${run.epochs} epochs · ${run.status}`, detail: describeRunSetup(config), run: run.path })),
          { label: 'New run…', description: 'fine-tune pretrained weights directly, without a head phase', detail: runs.length ? 'Opens the Run form at phase finetune' : 'No head-only run to continue here: opens the Run form at phase finetune', run: undefined },
        ],
        { title: 'Lesion Lab: fine-tune which run?' },
      );
      if (!pick) return;
      if (!pick.run) return showRunForm(lab, { phase: 'finetune' });
      const config = runs.find((r) => r.run.path === pick.run)!.config;
      const epochs = await vscode.window.showInputBox({
        title: `Lesion Lab: fine-tune ${path.basename(pick.run)}`,
        prompt: `Fine-tuning from ${config.options.unfreezeFrom} on, ${config.options.finetuneOptimizer} at learning rate ${config.options.finetuneLr}, from the head's last checkpoint. Epochs — Enter starts, Escape cancels.`,
        value: String(vscode.workspace.getConfiguration('lesionLab').get<number>('epochs', 10)),
        validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000 ? undefined : 'a whole number of epochs, 1 to 1000'),
      });
      if (!epochs) return;
      await untilDone(resumeRun(lab, session, pick.run, 'finetune', Number(epochs)));
    }),
    vscode.commands.registerCommand('lesionLab.resume', async (arg?: unknown) => {
      const root = workspaceRoot();
      if (!root) return;
      const runs = await resumableRuns(root);
      const given = typeof arg === 'string' ? arg : undefined;
      if (given) return untilDone(resumeRun(lab, session, given));
      if (runs.length === 0) {
        const all = await listRuns(runsDir(root));
        const choice = await vscode.window.showInformationMessage(
          all.length === 0
            ? 'There is nothing to resume: this workspace has no runs yet. Start one from the Run form.'
            : `There is nothing to resume: every run in ${path.relative(root, runsDir(root)) || 'runs'} finished (or is running). Start a new run from the Run form, or fine-tune a head-only run.`,
          'Open Run Form',
          ...(all.length ? ['Fine-tune…'] : []),
        );
        if (choice) void vscode.commands.executeCommand(choice === 'Fine-tune…' ? 'lesionLab.fineTune' : 'lesionLab.train');
        return;
      }
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({ label: r.name, description: `${r.epochs} epochs · ${r.status}`, detail: r.setup, run: r })),
        { title: 'Lesion Lab: resume which run? (it continues from its last checkpoint)' },
      );
      if (!pick) return;
      await untilDone(resumeRun(lab, session, pick.run.path));
    }),
    vscode.commands.registerCommand('lesionLab.stop', () => {
      if (!lab.jobs.cancelCurrent()) void vscode.window.showInformationMessage('Lesion Lab has no job running.');
    }),
  ];
}
