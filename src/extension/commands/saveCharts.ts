import * as vscode from 'vscode';
import path from 'node:path';
import { batchesCsv, epochsCsv } from '../../shared/metricsCsv';
import type { TrainingSession } from '../trainingSession';

/** Where a save dialog opens: the run folder when there is one, else the workspace. */
function defaultUri(run: string | undefined, name: string): vscode.Uri | undefined {
  const dir = run ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return dir ? vscode.Uri.file(path.join(dir, name)) : undefined;
}

/** The Training panel's "Save as PNG": the chart as the panel drew it, where the person chooses. */
export async function saveChartPng(run: string | undefined, chart: string, dataUrl: string): Promise<void> {
  const slug = chart.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart';
  const uri = await vscode.window.showSaveDialog({ title: `Save the ${chart} chart as PNG`, defaultUri: defaultUri(run, `${slug}.png`), filters: { 'PNG image': ['png'] } });
  if (!uri) return;
  await vscode.workspace.fs.writeFile(uri, Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  void vscode.window.showInformationMessage(`Saved ${path.basename(uri.fsPath)}.`);
}

/** "Save as CSV": the run's epochs (metrics.jsonl) or every training batch (batches.jsonl), as a table. */
export async function saveMetricsCsv(session: TrainingSession, what: 'epochs' | 'batches'): Promise<void> {
  const run = session.state.run;
  const text = what === 'epochs' ? epochsCsv(session.state.epochs) : batchesCsv(session.batches);
  const uri = await vscode.window.showSaveDialog({ title: `Save the run's ${what} as CSV`, defaultUri: defaultUri(run, `${run ? path.basename(run) : 'run'}-${what}.csv`), filters: { CSV: ['csv'] } });
  if (!uri) return;
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
  void vscode.window.showInformationMessage(`Saved ${path.basename(uri.fsPath)}.`);
}
