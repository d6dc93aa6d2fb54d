// Export Model… from the Evaluation panel: a run the CLI trained and evaluated is exported as ONNX
// through the panel's button and the format picker; the files land in <run>/exports/onnx and the
// notification's "Open Folder" shows the folder in the Explorer and opens its labels.json.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { panelFrame, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { chooseFolderInDialog, clearNotifications, clickNotificationAction, pickQuickPickItem, waitForNotification } from '../lib/workbench.mjs';

export const title = 'Export Model… from the Evaluation panel: ONNX files written, a notification that opens the folder';
export const timeoutMs = 300_000;

const RUN = ['runs', 'run-1'];
const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'backend', 'cli.js'), ...args], { stdio: 'pipe' });

export async function setupWorkspace(dir) {
  cli('demo-data', '--out', join(dir, 'data'), '--per-class', '6', '--size', '64');
  cli('prepare', '--data', join(dir, 'data'), '--out', join(dir, 'prepared'));
  cli('train', '--prepared', join(dir, 'prepared'), '--run', join(dir, ...RUN), '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none',
    '--size', '32', '--batch', '8', '--phase', 'head', '--epochs', '1', '--engine', 'wasm');
  cli('evaluate', '--run', join(dir, ...RUN));
}

export async function run(t) {
  const { page, workspace } = t;
  const runDir = join(workspace, ...RUN);
  const out = join(runDir, 'exports', 'onnx');
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));

  await openViewContainer(page, 'Lesion Lab');
  const sidebar = await sidebarFrame(page);
  // The runs list offers the same command per run.
  await waitFor(async () => (await sidebar.locator('.runs li', { hasText: 'run-1' }).locator('a', { hasText: 'Export…' }).count()) === 1 || undefined, 'an Export… link beside run-1 in the runs list');
  await sidebar.locator('.runs').scrollIntoViewIfNeeded();
  await t.screenshot(sidebar, 'sidebar-runs');

  await runCommand(page, 'Lesion Lab: Open Run Folder…');
  await chooseFolderInDialog(page, runDir);
  await panelFrame(page, 'Training', 60_000);
  await runCommand(page, 'Lesion Lab: Show Evaluation');
  const evaluation = await panelFrame(page, 'Evaluation', 60_000);
  await waitForText(evaluation, 'images');
  await clearNotifications(page);
  await t.screenshot(evaluation, 'evaluation-panel');

  assert.equal(existsSync(out), false, 'nothing exported before the click');
  await evaluation.locator('vscode-button', { hasText: 'Export Model…' }).click();
  await pickQuickPickItem(page, 'ONNX');
  const toast = await waitForNotification(page, /Exported the best checkpoint/, 180_000);
  const message = await toast.innerText();
  assert.match(message, /as ONNX to runs\/run-1\/exports\/onnx/);
  assert.match(message, /checked against the checkpoint on \d+ validation images/);
  await t.screenshot(page, 'notification');

  for (const f of ['model.onnx', 'labels.json', 'model-card.md']) assert.ok(statSync(join(out, f)).size > 0, `${f} written`);
  const labels = JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8'));
  assert.deepEqual(labels.classes, config.classes);
  assert.equal(labels.input.layout, 'NHWC');
  assert.equal(labels.preprocessing.mode, 'tf');

  await clickNotificationAction(page, /Exported the best checkpoint/, 'Open Folder');
  // The export's labels.json opens, and the Explorer shows the export folder expanded with its files.
  await waitFor(async () => (await page.locator('.tabs-container .tab.active', { hasText: 'labels.json' }).count()) > 0 || undefined, 'labels.json as the active editor', 30_000);
  await waitForText(page.locator('.editor-group-container.active .monaco-editor .view-lines').first(), '"classes"');
  await waitFor(async () => {
    const rows = (await page.locator('.explorer-folders-view .monaco-list-row').allInnerTexts()).map((r) => r.trim());
    return (rows.some((r) => /exports\s*\/\s*onnx|^onnx$/.test(r)) && rows.includes('model.onnx') && rows.includes('model-card.md')) || undefined;
  }, 'the export folder and its files in the Explorer', 30_000);
  await t.screenshot(page, 'export-folder');
}
