import * as vscode from 'vscode';
import path from 'node:path';
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
import { readEvaluation } from './runFolders';
import { WEBVIEW_COMMANDS } from '../shared/protocol';

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

  const onMessage: WebviewMessageHandler = (message) => {
    switch (message.type) {
      case 'command/run':
        if ((WEBVIEW_COMMANDS as readonly string[]).includes(message.command)) {
          void vscode.commands.executeCommand(message.command, ...(message.args ?? []));
        }
        break;
      case 'run/open':
        void vscode.commands.executeCommand('lesionLab.openRun', vscode.Uri.file(message.path));
        break;
      case 'ready':
        break;
    }
  };

  const lab: LabContext = { extension: context, state, jobs, output, panels: undefined as unknown as LabPanels };
  const workspaceRoots = (): vscode.Uri[] => (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
  lab.panels = new LabPanels(
    context.extensionUri,
    [
      {
        kind: 'dataset',
        viewType: 'lesionLab.dataset',
        title: 'Lesion Lab: Dataset',
        snapshot: () => ({ type: 'dataset/state', state: { preparedPath: state.dataset?.path, summary: state.dataset?.summary } }),
        roots: () => (state.dataset ? [vscode.Uri.file(state.dataset.path), ...workspaceRoots()] : workspaceRoots()),
      },
      {
        kind: 'training',
        viewType: 'lesionLab.training',
        title: 'Lesion Lab: Training',
        snapshot: () => ({ type: 'training/state', state: session.state }),
        roots: () => workspaceRoots(),
      },
      {
        kind: 'evaluation',
        viewType: 'lesionLab.evaluation',
        title: 'Lesion Lab: Evaluation',
        snapshot: () => ({ type: 'evaluation/state', state: { run: state.evaluation?.run, evaluation: state.evaluation?.evaluation } }),
        roots: () => workspaceRoots(),
      },
    ],
    onMessage,
  );

  const sidebar = new TrainingViewProvider(context.extensionUri, state, onMessage);
  context.subscriptions.push(
    output,
    state,
    jobs,
    session,
    lab.panels,
    sidebar,
    { dispose: () => void client?.dispose() },
    vscode.window.registerWebviewViewProvider(TrainingViewProvider.viewId, sidebar),
    session.onDidChange(() => lab.panels.refresh('training')),
    state.onDidChange(() => lab.panels.refresh('dataset')),
    jobs.onEvent(async (e) => {
      if (e.type === 'evaluate/didFinish') {
        state.update({ evaluation: { run: e.run, evaluation: e.evaluation } });
        lab.panels.refresh('evaluation');
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lesionLab')) void refreshWorkspaceState(lab);
    }),
    ...registerEngineCommands(lab),
    ...registerWorkflowCommands(lab, session),
  );
  client.events.on('crash', () => output.appendLine('The backend process exited; it restarts on the next request.'));

  await refreshWorkspaceState(lab);
  const latest = state.runs.at(-1);
  if (latest) {
    lab.currentRun = latest.path;
    await session.load(latest.path);
    const evaluation = await readEvaluation(latest.path);
    if (evaluation) state.update({ evaluation: { run: latest.path, evaluation } });
  }
  // Detect engines in the background so the Training view can show them without blocking start-up.
  void detectEngines(lab);
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
