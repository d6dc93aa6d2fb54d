// A run trained by the headless CLI (as on a remote GPU server) and opened afterwards with
// "Lesion Lab: Open Run Folder…": the Training panel rebuilds its curves and epoch log from the run
// folder, and the Evaluation panel shows the evaluation the CLI wrote.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { panelFrame, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { chooseFolderInDialog, clearNotifications, tableRows } from '../lib/workbench.mjs';

export const title = 'Open Run Folder… on a run the headless CLI trained and evaluated: its dashboard and evaluation';
export const timeoutMs = 300_000;

const RUN = ['headless', 'run-1'];
const RUN2 = ['headless', 'run-2'];
const ENSEMBLE = ['headless', 'ensemble'];
const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'backend', 'cli.js'), ...args], { stdio: 'pipe' });

export async function setupWorkspace(dir) {
  cli('demo-data', '--out', join(dir, 'data'), '--per-class', '6', '--size', '64');
  cli('prepare', '--data', join(dir, 'data'), '--out', join(dir, 'prep'));
  for (const [run, seed] of [[RUN, '1'], [RUN2, '2']]) {
    cli('train', '--prepared', join(dir, 'prep'), '--run', join(dir, ...run), '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none',
      '--size', '32', '--batch', '8', '--phase', 'both', '--epochs', '1', '--finetune-epochs', '1', '--engine', 'wasm', '--seed', seed);
  }
  cli('evaluate', '--run', join(dir, ...RUN));
  // The two runs as an ensemble, its report in a folder of its own.
  cli('evaluate', '--ensemble', `${join(dir, ...RUN)},${join(dir, ...RUN2)}`, '--out', join(dir, ...ENSEMBLE), '--engine', 'wasm');
}

export async function run(t) {
  const { page, workspace } = t;
  const runDir = join(workspace, ...RUN);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const evaluated = JSON.parse(readFileSync(join(runDir, 'evaluation.json'), 'utf8'));

  // Its commands are in the palette once the extension's contributions are loaded: wait for its view.
  await openViewContainer(page, 'Lesion Lab');
  await sidebarFrame(page);
  await runCommand(page, 'Lesion Lab: Open Run Folder…');
  await chooseFolderInDialog(page, runDir);

  const training = await panelFrame(page, 'Training', 60_000);
  await waitForText(training, 'finished');
  await waitForText(training, runDir);
  const log = await waitFor(async () => {
    const rows = await tableRows(training, 'table.data tbody tr');
    return rows.length === metrics.length ? rows : undefined;
  }, `${metrics.length} rows in the epoch log`, 30_000);
  assert.deepEqual(log.map((r) => [Number(r[0]), r[1]]), metrics.map((m) => [m.epoch, m.phase]), 'the epoch log is metrics.jsonl');
  assert.equal(await training.locator('canvas').count(), 3, 'loss, accuracy and learning-rate charts');
  await clearNotifications(page);
  await t.screenshot(training, 'training-panel');

  await runCommand(page, 'Lesion Lab: Show Evaluation');
  const evaluation = await panelFrame(page, 'Evaluation', 60_000);
  await waitForText(evaluation, `${evaluated.count} images`);
  await evaluation.locator('vscode-button', { hasText: 'Show counts' }).click();
  await waitForText(evaluation, 'Show row-normalised');
  const counts = (await tableRows(evaluation, 'table.confusion tbody tr')).map((r) => r.slice(1).map(Number));
  assert.deepEqual(counts, evaluated.confusion, 'the confusion matrix is the one the CLI wrote');
  await waitFor(async () => (await evaluation.locator('.grid img').count()) === evaluated.topLosses.length || undefined, 'thumbnails of the highest-loss images', 60_000);
  await t.screenshot(evaluation, 'evaluation-panel');
  await t.screenshot(page, 'window');

  // Open Run Folder… on the ensemble's folder: the Evaluation panel shows its report, named as an ensemble.
  const ensemble = JSON.parse(readFileSync(join(workspace, ...ENSEMBLE, 'ensemble-evaluation.json'), 'utf8'));
  await runCommand(page, 'Lesion Lab: Open Run Folder…');
  await chooseFolderInDialog(page, join(workspace, ...ENSEMBLE));
  const ensemblePanel = await panelFrame(page, 'Evaluation', 60_000);
  await waitForText(ensemblePanel, /Ensemble of 2 models/);
  assert.deepEqual(await ensemblePanel.locator('[data-testid="set-selector"] vscode-option').allInnerTexts(), [`ensemble of 2 — validation split (${ensemble.count})`]);
  assert.match(await ensemblePanel.locator('[data-testid="kpi-balanced"]').innerText(), /95% CI/);
  assert.ok(ensemble.perClass.filter((c) => c.support > 0).every((c) => c.recallCi), 'every class with images has a recall interval');
  assert.equal(await ensemblePanel.locator('header vscode-button', { hasText: 'Export Model…' }).count(), 0, 'no Export Model… for a folder that is not a run');
  await clearNotifications(page);
  await t.screenshot(ensemblePanel, 'evaluation-panel-ensemble');
}
