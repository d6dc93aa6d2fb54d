// Scale-out in VS Code (issue 20): a 2-fold cross-validation started from the palette's Cross-Validate… form
// (the local executor, one run at a time, the Run form's defaults from the settings: 96 px, 10 head epochs from scratch)
// shows its tasks in the Sweep panel; cancelled mid-way and resumed from the panel, they go to finished (no epoch
// trained twice), then the summary — per fold, mean ± sd and the pooled
// out-of-fold balanced accuracy with its 95% interval — as summary.json has them. A fold's run opens in the
// Training panel. The whole panel is pictured dark and light.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { panelFrame, runCli, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { findWebviewFrame, openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { clearNotifications, pageOverflow, pickQuickPickItem, screenshotWholePanel, setEditorGroupMaximized, switchColorTheme, tableRows, waitForQuickPick, waitForWebviewTheme } from '../lib/workbench.mjs';

export const title = 'Sweep panel: a 2-fold cross-validation from Cross-Validate… (local, 1 at a time) — cancelled, resumed, tasks to finished, per-fold figures, mean ± sd and the pooled out-of-fold interval; a fold run opens in Training; dark and light';
export const timeoutMs = 480_000;

// What every fold run trains comes from the Run form's defaults, i.e. these settings.
export const settings = {
  'lesionLab.engine': 'wasm',
  'lesionLab.threads': 1,
  'lesionLab.weights': 'none',
  'lesionLab.model': 'mobilenetv2',
  'lesionLab.mobilenetAlpha': 0.35,
  'lesionLab.phase': 'head',
  // Long enough for the panel to show a fold running and for Cancel to land mid-way: measured on an idle 2-core
  // machine, a fold of 1 epoch at 32 px on 42 images ran ~2 s (too short to catch), 10 at 96 px on 112 ~4 s. From scratch, early
  // stopping waits 10 epochs, so 10 run whole.
  'lesionLab.epochs': 10,
  'lesionLab.batchSize': 8,
  'lesionLab.imageSize': 96,
  'lesionLab.augment': 'none',
};

export async function setupWorkspace(dir) {
  runCli(repoRoot, ['demo-data', '--out', join(dir, 'data'), '--per-class', '16', '--size', '96'], dir);
  runCli(repoRoot, ['prepare', '--data', join(dir, 'data'), '--out', join(dir, 'prepared')], dir);
  // A sweep the CLI ran (as on a cluster's login node): two learning rates, opened later with Open Sweep….
  const spec = {
    prepared: 'prepared',
    out: 'sweeps/lr-grid',
    train: { model: 'mobilenetv2', alpha: 0.35, weights: 'none', size: 32, batch: 8, phase: 'head', epochs: 1, engine: 'wasm', threads: 1 },
    grid: { lr: [0.001, 0.01] },
  };
  writeFileSync(join(dir, 'lr-grid.json'), JSON.stringify(spec, null, 2));
  runCli(repoRoot, ['sweep', '--spec', join(dir, 'lr-grid.json')], dir);
}

async function inputBox(page, value) {
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 15_000 });
  await box.fill(value);
  await page.keyboard.press('Enter');
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;

export async function run(t) {
  const { page, workspace } = t;
  // The side bar first: the extension's commands are in the palette once its contributions have loaded.
  await openViewContainer(page, 'Lesion Lab');
  await sidebarFrame(page);
  await runCommand(page, 'Lesion Lab: Cross-Validate…');
  // 1/5 the prepared dataset (the workspace's, found unasked), 2/5 K, 3/5 where, 4/5 how many at a time, 5/5 what trains.
  const first = await waitForQuickPick(page);
  assert.match(first.title, /Cross-Validate \(1\/5\)/);
  await pickQuickPickItem(page, 'prepared');
  await inputBox(page, '2');
  await pickQuickPickItem(page, 'This machine');
  await inputBox(page, '1');
  const recipes = await waitForQuickPick(page);
  const scratch = recipes.rows.find((r) => /^From scratch/.test(r));
  assert.ok(scratch, `the form offers the from-scratch recipe: ${recipes.rows.join(' | ')}`);
  assert.match(scratch, /mobilenetv2 α0\.35 · from scratch · 96 px · 10 epochs \(head\) · batch 8 · engine wasm/, 'the fold runs train the Run form’s defaults, as the settings make them');
  await pickQuickPickItem(page, 'From scratch');

  const sweeps = join(workspace, 'sweeps');
  const folder = await waitFor(() => existsSync(sweeps) && readdirSync(sweeps).find((d) => /^cv-\d{8}-\d{6}-k2$/.test(d) && existsSync(join(sweeps, d, 'sweep.json'))), 'the cross-validation folder with its plan', 60_000);
  const dir = join(sweeps, folder);
  const plan = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
  assert.equal(plan.kind, 'cv');
  assert.deepEqual(plan.tasks.map((task) => task.params.fold), [1, 2]);

  const panel = await findWebviewFrame(page, { selector: `header.panel-header h1:text-is("Cross-validation ${folder}")` }, 60_000);
  // The states the panel showed while the folds train: the first seen running, the second waiting for it (one at a time).
  const seen = [new Set(), new Set()];
  const states = async () => {
    const now = await panel.locator('table.sweep-tasks tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
    now.forEach((s, i) => seen[i]?.add(s));
    return now;
  };
  await waitFor(async () => (await states())[0] === 'running', 'the first fold run to be shown running', 120_000, 100);
  assert.ok([...seen[1]].some((s) => s === 'waiting' || s === 'pending'), `the second fold waits for the first: ${[...seen[1]].join(', ')}`);

  // Cancel Sweep stops this window's job; what had not finished is shown so, and Resume Unfinished takes it up again.
  await panel.locator('header vscode-button', { hasText: 'Cancel Sweep' }).click();
  const stopped = await waitFor(async () => {
    const now = await states();
    const counts = await panel.locator('[data-role="counts"]').innerText().catch(() => '');
    return !/running in this window/.test(counts) && now.length === 2 && !now.some((s) => s === 'running' || s === 'pending') && now;
  }, 'the cancelled sweep to stop', 60_000, 100);
  assert.ok(stopped.some((s) => s !== 'finished'), `the cancel came before both folds finished: ${stopped.join(', ')}`);
  assert.ok(stopped.every((s) => ['finished', 'cancelled', 'failed', 'waiting'].includes(s)), stopped.join(', '));
  await panel.locator('header vscode-button', { hasText: 'Resume Unfinished' }).click();
  await waitFor(async () => {
    const now = await states();
    return now.length === 2 && now.every((s) => s === 'finished');
  }, 'both fold runs to finish in the Sweep panel', 360_000, 200);
  assert.ok(seen.some((s) => s.has('running')), `a fold was shown running: ${seen.map((s) => [...s].join('→')).join(' / ')}`);
  // Resumed, not trained twice: each run has its one epoch once.
  for (const task of plan.tasks) {
    const epochs = readFileSync(join(dir, task.run, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).epoch);
    assert.deepEqual(epochs, Array.from({ length: 10 }, (_, i) => i + 1), `${task.name}: epochs in metrics.jsonl`);
  }
  const record = JSON.parse(readFileSync(join(dir, 'executor.json'), 'utf8'));
  assert.equal(record.submissions.length, 2, 'the resume was a second submission to the local executor');

  const rows = await tableRows(panel, 'table.sweep-tasks tbody tr');
  const summary = await waitFor(() => existsSync(join(dir, 'summary.json')) && JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), 'summary.json');
  assert.equal(summary.finished, 2);
  for (const [i, cells] of rows.entries()) {
    assert.equal(cells[1], plan.tasks[i].name, 'the run folder');
    assert.equal(cells[2], String(i + 1), 'the fold');
    assert.match(cells[3], /^finished( \(attempt 2\))?$/, 'finished, on the resume for a run the cancel stopped');
    assert.equal(cells[4], '10 / 10', 'epochs done of the run’s total');
    assert.match(cells[5], /^\d+\.\d% \(95% CI \d+(\.\d)?–\d+(\.\d)?%\)$/, 'the latest validation balanced accuracy with its interval');
    const run = summary.runs.find((r) => r.index === i);
    assert.equal(cells[6], pct(run.valBalancedAccuracy), 'the best checkpoint’s figure, as the summary has it');
  }

  // The summary: per fold, mean ± sd, the pooled out-of-fold figure with its interval — the numbers of summary.json.
  const cv = summary.crossValidation[0];
  await waitForText(panel, 'Cross-validation summary', 30_000);
  const folds = await tableRows(panel, 'table.cv-folds tbody tr');
  assert.deepEqual(folds.map((f) => f[0]), ['1', '2']);
  folds.forEach((f, i) => assert.deepEqual(f.slice(1), [String(cv.perFold[i].images), pct(cv.perFold[i].balancedAccuracy), pct(cv.perFold[i].accuracy)]));
  const foot = await tableRows(panel, 'table.cv-folds tfoot tr');
  assert.equal(foot[0][2], `${pct(cv.balancedAccuracy.mean)} ± ${(100 * cv.balancedAccuracy.sd).toFixed(1)}%`, 'mean ± sd over the folds');
  const oof = cv.outOfFold;
  assert.ok(oof, 'the out-of-fold pool');
  assert.equal(oof.images, cv.perFold[0].images + cv.perFold[1].images, 'every validated image pooled once');
  assert.match(foot[1][2], new RegExp(`^${pct(oof.balancedAccuracy).replace('.', '\\.')} \\(95% CI \\d+(\\.\\d)?–\\d+(\\.\\d)?%\\)$`), 'the pooled balanced accuracy with its interval');
  const kpi = await panel.locator('[data-kpi="pooled"]').innerText();
  assert.match(kpi, new RegExp(`${pct(oof.balancedAccuracy).replace('.', '\\.')}[\\s\\S]*out-of-fold balanced accuracy \\(95% CI`));
  // Ten head epochs at 96 px from scratch on 112 demo images may or may not beat guessing: the panel must say so exactly when the interval includes 1/7.
  const chance = oof.balancedAccuracyCi.low <= 1 / summary.classes.length;
  assert.equal(await panel.locator('[data-role="chance"]').count(), chance ? 1 : 0, `the chance-level warning follows the interval ${JSON.stringify(oof.balancedAccuracyCi)}`);
  const counts = await panel.locator('[data-role="counts"]').innerText();
  assert.match(counts, /2 runs: 2 finished · executor local/);
  assert.doesNotMatch(counts, /updating every few seconds/, 'nothing left to poll');

  await clearNotifications(page);
  for (const theme of ['dark', 'light']) {
    if (theme === 'light') await switchColorTheme(page, 'Light Modern');
    const shown = await panelFrame(page, `Cross-validation ${folder}`);
    await waitForWebviewTheme(shown, theme);
    await setEditorGroupMaximized(page, true);
    const wider = await pageOverflow(shown);
    assert.equal(wider, undefined, `the Sweep panel fits its width (${theme}): ${wider}`);
    await screenshotWholePanel(t, shown, `sweep-panel-${theme}`);
    await setEditorGroupMaximized(page, false);
  }

  // A fold's run in the Training panel.
  const again = await panelFrame(page, `Cross-validation ${folder}`);
  await again.locator('table.sweep-tasks tbody tr[data-task="1"] vscode-button', { hasText: 'Open' }).click();
  const training = await panelFrame(page, 'Training');
  await waitForText(training, plan.tasks[1].name, 30_000);

  // A sweep from the CLI, opened from the palette: its tasks' states come from sweep-status, its runs ranked by the summary.
  await runCommand(page, 'Lesion Lab: Open Sweep…');
  await pickQuickPickItem(page, 'lr-grid');
  const sweep = await panelFrame(page, 'Sweep lr-grid');
  await waitFor(async () => (await tableRows(sweep, 'table.sweep-results tbody tr')).length === 2 || undefined, 'the sweep’s ranked results', 60_000);
  const tasks = await tableRows(sweep, 'table.sweep-tasks tbody tr');
  assert.deepEqual(tasks.map((r) => [r[2], r[3]]), [['lr 0.001', 'finished'], ['lr 0.01', 'finished']], 'what varies, and the state sweep-status gives');
  const sweepSummary = JSON.parse(readFileSync(join(workspace, 'sweeps', 'lr-grid', 'summary.json'), 'utf8'));
  const ranked = [...sweepSummary.runs].sort((a, b) => b.valBalancedAccuracy - a.valBalancedAccuracy);
  const results = await tableRows(sweep, 'table.sweep-results tbody tr');
  assert.deepEqual(results.map((r) => [r[0], r[3]]), ranked.map((r) => [r.name, pct(r.valBalancedAccuracy)]), 'the finished runs, best first, as summary.json has them');
  assert.equal(await sweep.locator('table.cv-folds').count(), 0, 'no folds, no cross-validation summary');
  await setEditorGroupMaximized(page, true);
  await screenshotWholePanel(t, sweep, 'sweep-grid-light');
  await setEditorGroupMaximized(page, false);
}
