import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { BackendClient } from './backendClient';
import { JobRunner } from './jobRunner';
import type { LabContext } from './labContext';
import { LabPanels } from './panels/labPanels';
import type { WebviewMessageHandler } from './panels/labPanels';
import { LabState } from './state';
import { TrainingSession } from './trainingSession';
import { TrainingViewProvider } from './views/trainingView';
import { detectEngines, registerEngineCommands } from './commands/engineCommands';
import { refreshWorkspaceState, registerWorkflowCommands } from './commands/workflowCommands';
import { pickWeightsFile, registerTrainingCommands, startNewRun, trainOptionsFromForm } from './commands/trainingCommands';
import { runFormDefaults } from './runDefaults';
import { WeightsAvailability, weightsUnavailableMessage } from './weightsAvailability';
import { answer } from './webviewInbox';
import { registerExportCommand } from './commands/exportCommand';
import { listRuns } from './runFolders';
import { runsDir, workspaceRoot } from './workspacePaths';
import { RunsController } from './panels/runsController';
import { LrFinderController } from './panels/lrFinderController';
import { saveChartPng, saveMetricsCsv } from './commands/saveCharts';
import { WEBVIEW_COMMANDS } from '../shared/protocol/webview';
import { AugmentPreviewController } from './panels/augmentPreviewController';
import { EvaluationController } from './panels/evaluationController';
import { PredictionController } from './panels/predictionController';
import { DatasetController } from './panels/datasetController';
import { SamplesController } from './panels/samplesController';
import { SweepController } from './panels/sweepController';
import { registerSweepCommands } from './commands/sweepCommands';
import { assertNever } from '../shared/assertNever';
import { engineSetting, threadsSetting } from './computeSettings';
import { formatWithInterval } from '../shared/trust';
import { isEvaluationReport } from '../shared/runFiles';

let client: BackendClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Lesion Lab');
  const storage = context.globalStorageUri.fsPath;
  client = new BackendClient({
    modulePath: context.asAbsolutePath(path.join('dist', 'backend', 'cli.js')),
    env: { LESION_LAB_ENGINES_DIR: path.join(storage, 'engines'), LESION_LAB_CACHE: path.join(storage, 'cache') },
    onStderr: (line) => output.appendLine(line),
  });
  const state = new LabState();
  const jobs = new JobRunner(client, output, state);
  const session = new TrainingSession();
  const refresh = (kind: Parameters<LabPanels['refresh']>[0]) => (): void => lab.panels.refresh(kind);
  const samples = new SamplesController(jobs, refresh('samples'));
  const datasetPanel = new DatasetController(jobs, refresh('dataset'));
  datasetPanel.update(state.dataset);
  const preview = new AugmentPreviewController(jobs, () => vscode.workspace.getConfiguration('lesionLab').get('imageSize', 224), refresh('augmentPreview'));
  const prediction = new PredictionController(jobs, path.join(storage, 'gradcam'), refresh('prediction'), engineSetting, threadsSetting);
  const evaluations = new EvaluationController(jobs, path.join(storage, 'gradcam'), refresh('evaluation'), engineSetting, threadsSetting);

  const runs = new RunsController(
    {
      runsDir: () => {
        const root = workspaceRoot(false);
        return root ? runsDir(root) : undefined;
      },
      busyRun: () => (session.state.status === 'running' ? session.state.run : undefined),
      openRun: async (run, target) => {
        await lab.openRunFolder(run);
        lab.panels.show(target);
      },
      runsChanged: async () => {
        // A run shown in the Training panel that is gone from disk is shown no longer.
        if (session.state.run && !existsSync(session.state.run)) session.clear();
        if (evaluations.state.run && !existsSync(evaluations.state.run)) evaluations.clear();
        if (lab.currentRun && !existsSync(lab.currentRun)) lab.currentRun = undefined;
        await refreshWorkspaceState(lab);
      },
    },
    refresh('runs'),
  );
  const lrFinder = new LrFinderController(
    jobs,
    trainOptionsFromForm,
    async (o) => {
      // The range test downloads ImageNet weights it does not have (as train does); refused only when it cannot.
      if (o.weights !== 'imagenet') return undefined;
      const status = await lab.weights.check({ model: o.model, alpha: o.alpha, size: o.size }, true);
      return status && !status.cached && !status.download?.reachable ? weightsUnavailableMessage(status) : undefined;
    },
    () => lab.panels.show('lrFinder', true),
    refresh('lrFinder'),
  );
  const sweeps = new SweepController(
    jobs,
    {
      show: () => lab.panels.show('sweep'),
      isOpen: () => lab.panels.isOpen('sweep'),
      openRun: async (run) => {
        await lab.openRunFolder(run);
        lab.panels.show('training');
      },
      pick: (what) => void vscode.commands.executeCommand(what === 'open' ? 'lesionLab.openSweep' : what === 'crossValidate' ? 'lesionLab.crossValidate' : 'lesionLab.runSweep'),
    },
    refresh('sweep'),
  );
  const log = (line: string): void => output.appendLine(line);
  const onMessage: WebviewMessageHandler = (message, reply) => {
    switch (message.type) {
      case 'command/run':
        if ((WEBVIEW_COMMANDS as readonly string[]).includes(message.command)) {
          void vscode.commands.executeCommand(message.command, ...(message.args ?? []));
        }
        break;
      case 'run/open':
        void vscode.commands.executeCommand('lesionLab.openRun', vscode.Uri.file(message.path));
        break;
      case 'samples/show':
        void samples.show(message.dx, message.source, message.page, message.seed);
        break;
      case 'augmentPreview/render':
        void preview.render(message.ranges, message.fill, message.seed);
        break;
      case 'prediction/run':
        void prediction.rerun(message.tta, message.calibrated);
        break;
      case 'evaluation/select':
        void evaluations.select(message.set);
        break;
      case 'evaluation/thumbnails':
        void evaluations.thumbnails(message.files);
        break;
      case 'evaluation/gradcam':
        void evaluations.gradcam(message.file);
        break;
      case 'training/compare':
        void pickComparison(session);
        break;
      case 'file/open':
        void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(message.path), vscode.ViewColumn.One);
        break;
      case 'training/savePng':
        void saveChartPng(session.state.run, message.chart, message.dataUrl);
        break;
      case 'training/saveCsv':
        void saveMetricsCsv(session, message.what);
        break;
      case 'runs/compare':
      case 'runs/open':
      case 'runs/edit':
      case 'runs/archive':
      case 'runs/delete':
      case 'runs/cleanUp':
      case 'runs/showArchived':
      case 'runs/refresh':
        void runs.handle(message);
        break;
      case 'sweep/cancel':
      case 'sweep/resubmit':
      case 'sweep/openRun':
      case 'sweep/refresh':
      case 'sweep/pick':
      case 'sweep/reveal':
        void sweeps.handle(message);
        break;
      case 'lrFind/start':
        void answer(message.id, reply, log, () => lrFinder.find(message.params));
        break;
      case 'training/start':
        void answer(message.id, reply, log, async () => {
          const started = await startNewRun(lab, session, message.params);
          return { run: started.run };
        });
        break;
      case 'weights/check':
        void lab.weights.check(message.params, message.params.again === true);
        break;
      case 'weights/browse':
        void answer(message.id, reply, log, async () => ({ path: await pickWeightsFile() }));
        break;
      default:
        assertNever(message, 'webview message');
    }
  };

  const lab: LabContext = {
    extension: context,
    state,
    jobs,
    output,
    weights: new WeightsAvailability(jobs, state),
    panels: undefined as unknown as LabPanels,
    // A run from disk (this window's, or one the CLI trained elsewhere): its curves and its evaluation.
    openRunFolder: async (run) => {
      lab.currentRun = run;
      await session.load(run);
      await evaluations.open(run);
    },
    openEvaluations: (folder) => evaluations.open(folder),
  };
  lab.panels = new LabPanels(
    context.extensionUri,
    [
      {
        kind: 'dataset',
        viewType: 'lesionLab.dataset',
        title: 'Lesion Lab: Dataset',
        snapshot: () => ({ type: 'dataset/state', state: datasetPanel.state }),
      },
      {
        kind: 'training',
        viewType: 'lesionLab.training',
        title: 'Lesion Lab: Training',
        snapshot: () => ({ type: 'training/state', state: session.state }),
      },
      {
        kind: 'evaluation',
        viewType: 'lesionLab.evaluation',
        title: 'Lesion Lab: Evaluation',
        snapshot: () => ({ type: 'evaluation/state', state: evaluations.state }),
      },
      {
        kind: 'samples',
        viewType: 'lesionLab.samples',
        title: 'Lesion Lab: Samples',
        snapshot: () => ({ type: 'samples/state', state: samples.state }),
      },
      {
        kind: 'augmentPreview',
        viewType: 'lesionLab.augmentPreview',
        title: 'Lesion Lab: Augmentations',
        snapshot: () => ({ type: 'augmentPreview/state', state: preview.state }),
      },
      {
        kind: 'runs',
        viewType: 'lesionLab.runs',
        title: 'Lesion Lab: Runs',
        snapshot: () => ({ type: 'runs/state', state: runs.state }),
      },
      {
        kind: 'lrFinder',
        viewType: 'lesionLab.lrFinder',
        title: 'Lesion Lab: Learning Rate Finder',
        snapshot: () => ({ type: 'lrFinder/state', state: lrFinder.state }),
      },
      {
        kind: 'sweep',
        viewType: 'lesionLab.sweep',
        title: 'Lesion Lab: Sweep',
        snapshot: () => ({ type: 'sweep/state', state: sweeps.state }),
      },
      {
        kind: 'prediction',
        viewType: 'lesionLab.prediction',
        title: 'Lesion Lab: Prediction',
        snapshot: () => ({ type: 'prediction/state', state: prediction.state }),
      },
    ],
    onMessage,
    log,
  );

  let listedRuns = state.runs;
  const sidebar = new TrainingViewProvider(context.extensionUri, state, onMessage, log);
  context.subscriptions.push(
    output,
    state,
    jobs,
    session,
    sweeps,
    lab.panels,
    sidebar,
    { dispose: () => void client?.dispose() },
    vscode.window.registerWebviewViewProvider(TrainingViewProvider.viewId, sidebar),
    session.onDidChange(() => lab.panels.refresh('training')),
    state.onDidChange(() => {
      datasetPanel.update(state.dataset);
      lab.panels.refresh('dataset');
    }),
    jobs.onEvent(async (e) => {
      if (e.type === 'evaluate/didFinish') await evaluations.open(e.run, e.evaluation.set?.id);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('lesionLab')) return;
      state.update({ runDefaults: runFormDefaults() });
      void refreshWorkspaceState(lab);
    }),
    ...registerEngineCommands(lab),
    ...registerWorkflowCommands(lab, { samples, preview, prediction }),
    ...registerTrainingCommands(lab, session),
    registerExportCommand(lab),
    ...registerSweepCommands(lab, sweeps),
    vscode.commands.registerCommand('lesionLab.showRuns', async () => {
      lab.panels.show('runs');
      await runs.reload();
    }),
    vscode.commands.registerCommand('lesionLab.cleanUpRuns', async () => {
      await runs.reload();
      await runs.handle({ type: 'runs/cleanUp' });
    }),
    // Runs appear, finish and change on disk (this window's jobs, the CLI, another window): the table follows.
    state.onDidChange(() => {
      if (lab.panels.isOpen('runs') && state.runs !== listedRuns) {
        listedRuns = state.runs;
        void runs.reload();
      }
    }),
  );
  client.events.on('crash', () => output.appendLine('The backend process exited; it restarts on the next request.'));
  // Datasets prepared and runs trained outside this window (the CLI in a terminal, another window)
  // show up without a reload.
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder) {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/{manifest.json,status.json,evaluation*.json,metrics.jsonl,meta.json}'));
    let timer: NodeJS.Timeout | undefined;
    let reports = false;
    const later = (uri: vscode.Uri): void => {
      // A report of the run the panels show (say, `lesion-lab evaluate --split test` in a terminal): show it too.
      reports ||= isEvaluationReport(path.basename(uri.fsPath)) && lab.currentRun !== undefined && path.dirname(uri.fsPath) === lab.currentRun;
      clearTimeout(timer);
      timer = setTimeout(() => {
        void refreshWorkspaceState(lab);
        if (reports && lab.currentRun) void evaluations.open(lab.currentRun);
        reports = false;
      }, 500);
    };
    context.subscriptions.push(watcher, watcher.onDidCreate(later), watcher.onDidChange(later), watcher.onDidDelete(later), { dispose: () => clearTimeout(timer) });
  }

  await refreshWorkspaceState(lab);
  const latest = state.runs.at(-1);
  if (latest) await lab.openRunFolder(latest.path);
  // Detect engines in the background so the Training view can show them without blocking start-up.
  void detectEngines(lab);
}

/** Lets the user overlay other runs on the Training panel's charts. */
async function pickComparison(session: TrainingSession): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  const runs = (await listRuns(runsDir(folder.uri.fsPath))).filter((r) => r.path !== session.state.run && r.epochs > 0);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('There are no other runs with finished epochs to compare with.');
    return;
  }
  const current = new Set((session.state.compare ?? []).map((c) => c.run));
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.name, description: `${r.epochs} epochs${r.checkpoint ? ` · bal. acc ${formatWithInterval(r.checkpoint.balancedAccuracy, r.checkpoint.ci)}` : ''}`, picked: current.has(r.path), run: r.path })),
    { title: 'Lesion Lab: overlay which runs?', canPickMany: true },
  );
  if (picked) await session.setCompare(picked.map((p) => p.run));
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
