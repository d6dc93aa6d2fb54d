import * as vscode from 'vscode';
import type { EngineChoice, EngineInfo, EngineSelection } from '../../shared/protocol/engines';
import type { LabContext } from '../labContext';
import { installGpuEngine } from './installEngineCommand';
import { engineSetting } from '../computeSettings';

export const ENGINES_DOC_URI = vscode.Uri.from({ scheme: 'lesion-lab', path: 'Lesion Lab Engines' });

/** Asks the backend which engines exist here; updates the shared state. */
export async function detectEngines(lab: LabContext): Promise<{ list: EngineInfo[]; selected: EngineSelection } | undefined> {
  let found: { list: EngineInfo[]; selected: EngineSelection } | undefined;
  const result = await lab.jobs.run({ command: 'engines' }, {
    title: 'Detect engines',
    onEvent: (e) => {
      if (e.type === 'engines/didDetect') found = { list: e.engines, selected: e.selected };
    },
  });
  if (found) lab.state.update({ engines: found, enginesError: undefined });
  else lab.state.update({ enginesError: result?.error?.message ?? 'Engine detection failed; see the Lesion Lab log.' });
  return found;
}

export function renderEnginesDocument(engines: { list: EngineInfo[]; selected: EngineSelection }, setting: EngineChoice): string {
  const width = Math.max(...engines.list.map((e) => e.name.length));
  const rows = engines.list.map(
    (e) => `${e.available ? '✓ available  ' : '✗ unavailable'}  ${e.name.padEnd(width)}  ${(e.device ?? '').padEnd(14)}  ${e.reason}`,
  );
  return [
    'Lesion Lab Engines',
    '==================',
    '',
    ...rows,
    '',
    `Setting lesionLab.engine: ${setting}`,
    `auto selects: ${engines.selected.engine} (${engines.selected.reason})`,
    '',
    'Change it with "Lesion Lab: Select Engine". GPU engines: "Lesion Lab: Install GPU Engine…" (CUDA), or a Vulkan driver (WebGPU).',
  ].join('\n');
}

export function registerEngineCommands(lab: LabContext): vscode.Disposable[] {
  let document = 'Detecting engines…';
  const changed = new vscode.EventEmitter<vscode.Uri>();
  const provider: vscode.TextDocumentContentProvider = { onDidChange: changed.event, provideTextDocumentContent: () => document };
  const setting = engineSetting;
  return [
    changed,
    vscode.workspace.registerTextDocumentContentProvider(ENGINES_DOC_URI.scheme, provider),
    vscode.commands.registerCommand('lesionLab.showEngines', async () => {
      const engines = await detectEngines(lab);
      document = engines ? renderEnginesDocument(engines, setting()) : `Engine detection failed: ${lab.state.enginesError ?? 'see the log'}`;
      changed.fire(ENGINES_DOC_URI);
      const doc = await vscode.workspace.openTextDocument(ENGINES_DOC_URI);
      await vscode.window.showTextDocument(doc, { preview: false });
    }),
    vscode.commands.registerCommand('lesionLab.selectEngine', async () => {
      const engines = lab.state.engines ?? (await detectEngines(lab));
      if (!engines) return;
      type Item = vscode.QuickPickItem & { choice: EngineChoice };
      const items: Item[] = [
        { label: 'auto', description: `currently ${engines.selected.engine}`, detail: engines.selected.reason, choice: 'auto' },
        ...engines.list.map((e) => ({
          label: `${e.available ? '$(check)' : '$(circle-slash)'} ${e.name}`,
          description: e.device,
          detail: e.reason,
          choice: e.name,
        })),
      ];
      const picked = await vscode.window.showQuickPick(items, { title: 'Lesion Lab: engine for training', placeHolder: `now: ${setting()}` });
      if (!picked) return;
      const info = engines.list.find((e) => e.name === picked.choice);
      if (info && !info.available) {
        const install = info.name === 'tfjs-node-gpu' || info.name === 'tfjs-node';
        const choice = await vscode.window.showWarningMessage(`${info.name} is not available here: ${info.reason}`, ...(install ? ['Install GPU Engine…'] : []), 'Select Another Engine', 'Show Engines');
        if (choice) void vscode.commands.executeCommand(choice === 'Install GPU Engine…' ? 'lesionLab.installGpuEngine' : choice === 'Show Engines' ? 'lesionLab.showEngines' : 'lesionLab.selectEngine');
        return;
      }
      await vscode.workspace.getConfiguration('lesionLab').update('engine', picked.choice, vscode.ConfigurationTarget.Global);
      lab.state.update({});
    }),
    vscode.commands.registerCommand('lesionLab.installGpuEngine', () => installGpuEngine(lab, detectEngines)),
  ];
}
