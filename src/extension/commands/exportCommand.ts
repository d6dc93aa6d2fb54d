/**
 * *Lesion Lab: Export Model…* — from the palette, the Evaluation panel and the runs list: pick the
 * format (and the checkpoint, when best and last differ), export into `<run>/exports/<format>`, then
 * a notification that says how the export was checked and opens its folder.
 */
import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { ExportCheckpoint, ExportFormat } from '../../shared/protocol/jobs';
import type { LabContext } from '../labContext';
import { listRuns } from '../runFolders';
import { requireTrust, runsDir, workspaceRoot } from '../workspacePaths';
import { engineSetting, threadsSetting } from '../computeSettings';

interface FormatItem extends vscode.QuickPickItem {
  format: ExportFormat;
  /** The file that describes the export (classes, preprocessing …), opened after the export. */
  metadataFile: string;
}

export const EXPORT_FORMAT_ITEMS: readonly FormatItem[] = [
  { format: 'onnx', label: 'ONNX', description: 'model.onnx + labels.json', detail: 'onnxruntime (Python, C++, C#, Java, web), TensorRT, OpenVINO …', metadataFile: 'labels.json' },
  { format: 'tfjs', label: 'TF.js', description: 'model.json + weights.bin + metadata.json', detail: 'tf.loadLayersModel in a browser or Node, stock TensorFlow.js only', metadataFile: 'metadata.json' },
  { format: 'keras', label: 'Keras HDF5', description: 'model.h5 + weights.h5 + labels.json', detail: 'tf.keras.models.load_model("model.h5") (Keras 2 / tf_keras)', metadataFile: 'labels.json' },
];

export function registerExportCommand(lab: LabContext): vscode.Disposable {
  return vscode.commands.registerCommand('lesionLab.exportModel', async (arg?: unknown) => {
    if (!requireTrust('Exporting a model')) return;
    const run = await chooseRun(lab, arg);
    if (!run) return;
    const item = await vscode.window.showQuickPick(EXPORT_FORMAT_ITEMS, { title: `Export ${path.basename(run)}: format`, placeHolder: 'Which format?', matchOnDetail: true });
    if (!item) return;
    const checkpoint = await chooseCheckpoint(run);
    if (!checkpoint) return;
    const out = path.join(run, 'exports', item.format);
    let finished: Extract<BackendEvent, { type: 'export/didFinish' }> | undefined;
    const result = await lab.jobs.run(
      { command: 'export', options: { run, format: item.format, checkpoint, out, engine: engineSetting(), threads: threadsSetting() } },
      {
        title: `Export ${item.label}`,
        notify: true,
        onEvent: (e) => {
          if (e.type === 'export/didFinish') finished = e;
        },
      },
    );
    if (result?.status !== 'done' || !finished) return;
    const v = finished.verification;
    const checked = `checked against the checkpoint on ${v.images} ${v.source === 'validation' ? 'validation images' : 'synthetic inputs'} (max |Δp| ${v.maxAbsDiff.toExponential(1)})`;
    const choice = await vscode.window.showInformationMessage(
      `Exported the ${finished.checkpoint} checkpoint (epoch ${finished.epoch}) of ${path.basename(run)} as ${item.label} to ${vscode.workspace.asRelativePath(finished.out)}: ${finished.files.join(', ')}; ${checked}.`,
      'Open Folder',
    );
    if (choice === 'Open Folder') await openExportFolder(finished.out, item.metadataFile);
  });
}

/** The run the command was given (Evaluation panel, runs list, Explorer), else the one on show, else ask. */
async function chooseRun(lab: LabContext, arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (lab.currentRun) return lab.currentRun;
  const root = workspaceRoot();
  if (!root) return undefined;
  const runs = (await listRuns(runsDir(root))).filter((r) => r.epochs > 0);
  if (runs.length === 0) {
    const choice = await vscode.window.showWarningMessage('There is no trained run to export yet. Train a model first, or open a run folder written by the CLI.', 'Train…', 'Open Run Folder…');
    if (choice) void vscode.commands.executeCommand(choice === 'Train…' ? 'lesionLab.train' : 'lesionLab.openRun');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    [...runs].reverse().map((r) => ({ label: r.name, description: `${r.epochs} epochs · ${r.status}`, run: r.path })),
    { title: 'Export Model: which run?' },
  );
  return picked?.run;
}

/** Best by default; asks only when the last checkpoint is a different epoch. */
async function chooseCheckpoint(run: string): Promise<ExportCheckpoint | undefined> {
  const epochOf = async (kind: ExportCheckpoint): Promise<number | undefined> => {
    try {
      return (JSON.parse(await fs.readFile(path.join(run, 'checkpoints', kind, 'state.json'), 'utf8')) as { epoch?: number }).epoch;
    } catch {
      return undefined;
    }
  };
  const [best, last] = await Promise.all([epochOf('best'), epochOf('last')]);
  if (last === undefined || best === undefined || best === last) return 'best';
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Best checkpoint', description: `epoch ${best}`, detail: 'the epoch with the best validation accuracy', checkpoint: 'best' as const },
      { label: 'Last checkpoint', description: `epoch ${last}`, detail: 'where training stopped', checkpoint: 'last' as const },
    ],
    { title: 'Export Model: which checkpoint?' },
  );
  return picked?.checkpoint;
}

/** Shows the export in the Explorer (or the system's file manager when it is outside the workspace) and opens its metadata. */
async function openExportFolder(out: string, metadataFile: string): Promise<void> {
  const folder = vscode.Uri.file(out);
  if (vscode.workspace.getWorkspaceFolder(folder)) await vscode.commands.executeCommand('revealInExplorer', folder);
  else await vscode.commands.executeCommand('revealFileInOS', folder);
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(out, metadataFile)), { preview: true, preserveFocus: false });
}
