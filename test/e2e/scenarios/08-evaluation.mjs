// Evaluation people can trust (issue 14), on a run trained from scratch for one epoch on the synthetic
// demo data — a model at chance level, as a first run on a CPU often is. The Training view's runs list,
// the Training panel, the Evaluation panel and Classify each say so. The Evaluation panel shows 95%
// intervals, ROC and reliability charts and a set selector; Evaluate… on another prepared folder adds a
// second report without touching evaluation.json; a confusion cell lists its images, with Grad-CAM on
// demand; Classify names the synthetic training data. Last, a model whose evidence is known (a bright
// square) shows its Grad-CAM over the image with a colour scale and an opacity control. Every panel is
// pictured whole, dark and light.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { classifyImage, panelFrame, runCli, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { openViewContainer, runCommand, textOf, waitFor, waitForText } from '../lib/vscode.mjs';
import {
  canvasPaint, chooseFolderInDialog, clearNotifications, pageOverflow, screenshotWholePanel, setEditorGroupMaximized,
  switchColorTheme, tableRows, waitForQuickPick, waitForWebviewTheme,
} from '../lib/workbench.mjs';

export const title = 'Evaluation: intervals, ROC, reliability, a set selector, a confusion cell’s images, and a chance-level run called so everywhere';
export const timeoutMs = 420_000;

const RUN = 'demo-run';
// 64 px: the last feature map is 2×2, so Grad-CAM has somewhere to point (at 32 px it is 1×1).
const TRAIN = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '64', '--batch', '16', '--phase', 'finetune', '--epochs', '1', '--engine', 'wasm'];

/** The run and its validation report, written by the real CLI; a second demo dataset to evaluate on later. */
export async function setupWorkspace(dir) {
  runCli(repoRoot, ['demo-data', '--out', join(dir, 'demo-data'), '--per-class', '10', '--size', '96'], dir);
  runCli(repoRoot, ['prepare', '--data', join(dir, 'demo-data'), '--out', join(dir, 'prepared')], dir);
  runCli(repoRoot, ['demo-data', '--out', join(dir, 'demo-external'), '--per-class', '5', '--size', '96', '--seed', '7'], dir);
  runCli(repoRoot, ['prepare', '--data', join(dir, 'demo-external'), '--out', join(dir, 'prepared-external')], dir);
  runCli(repoRoot, ['train', '--prepared', join(dir, 'prepared'), '--run', join(dir, 'runs', RUN), ...TRAIN], dir);
  runCli(repoRoot, ['evaluate', '--run', join(dir, 'runs', RUN), '--engine', 'wasm'], dir);
  // A run folder (outside runs/) holding a hand-built model whose evidence is a bright square, and such an image.
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(repoRoot, 'test', 'helpers', 'knownEvidenceModel.ts'), join(dir, 'square-run'), join(dir, 'prepared'), join(dir, 'images', 'known', 'square.png')], { stdio: 'pipe' });
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const percent = (x, digits = 1) => `${(100 * x).toFixed(digits)}%`;
/** As src/shared/trust.ts writes an interval. */
const interval = (ci) => {
  const d = ci.high - ci.low < 0.02 ? 1 : 0;
  return `${(100 * ci.low).toFixed(d)}–${(100 * ci.high).toFixed(d)}%`;
};

/** Brings a panel to the front, maximised, in the theme now in use; pictures it whole. */
async function pictureWhole(t, command, heading, name, theme) {
  const { page } = t;
  await runCommand(page, command);
  await page.locator(`.editor-group-container.active .tab.active[aria-label^="Lesion Lab: ${heading}"]`).waitFor({ timeout: 10_000 });
  await setEditorGroupMaximized(page, true);
  const panel = await panelFrame(page, heading);
  await waitForWebviewTheme(panel, theme);
  await waitFor(async () => (await panel.evaluate(() => document.documentElement.clientWidth)) > 700, `the ${heading} panel to be maximised`, 10_000);
  await clearNotifications(page);
  const wider = await pageOverflow(panel);
  await screenshotWholePanel(t, panel, `${name}-${theme}`);
  await setEditorGroupMaximized(page, false);
  return wider ? [`${heading} panel (${theme}): ${wider}`] : [];
}

async function assertEvaluationCharts(panel, when) {
  const canvases = await waitFor(async () => {
    const all = await canvasPaint(panel);
    return all.length === 3 && all.every((c) => c.painted > 0.005 && c.colours >= 3) ? all : undefined;
  }, `ROC, precision–recall and reliability charts drawn (${when})`, 20_000).catch(async (err) => {
    err.message += `; canvases: ${JSON.stringify(await canvasPaint(panel).catch(() => []))}`;
    throw err;
  });
  assert.deepEqual(canvases.map((c) => c.label), ['ROC curves, one per class', 'Precision–recall curves, one per class', 'Reliability diagram: accuracy per confidence bin']);
}

export async function run(t) {
  const { page, workspace } = t;
  const runDir = join(workspace, 'runs', RUN);
  const validation = readJson(join(runDir, 'evaluation.json'));
  // The precondition this scenario is about: one epoch from scratch leaves the model at chance.
  assert.equal(validation.chance?.verdict, 'at', `the one-epoch run should be at chance level: balanced accuracy ${validation.balancedAccuracy} with interval ${JSON.stringify(validation.balancedAccuracyCi)}`);
  const defects = [];

  // 1. The runs list: the kept checkpoint's balanced accuracy with its interval, and "at chance level".
  await openViewContainer(page, 'Lesion Lab');
  const sidebar = await sidebarFrame(page);
  const entry = sidebar.locator('ul.runs li', { hasText: RUN });
  await waitFor(async () => (await entry.count()) === 1, 'the run in the Runs list', 30_000);
  await waitForText(entry, `(CI ${interval(validation.balancedAccuracyCi)})`, 30_000);
  assert.equal(await entry.locator('[data-testid="run-chance"]').innerText(), 'at chance level');
  // "Checkpoint by" in the Run form's More options: balanced accuracy unless the user picks another.
  await sidebar.locator('section[aria-label="Run"] vscode-collapsible').click({ position: { x: 24, y: 10 } });
  const monitor = sidebar.locator('section[aria-label="Run"] label.field', { has: sidebar.locator('span:text-is("Checkpoint by")') }).locator('vscode-single-select');
  assert.equal(await monitor.evaluate((el) => el.value), 'val_bal_acc');
  await screenshotWholePanel(t, sidebar, 'training-view-dark');

  // 2. The Training panel: the kept checkpoint with its interval, labelled optimistic, and the warning.
  await runCommand(page, 'Lesion Lab: Show Training');
  const training = await panelFrame(page, 'Training', 60_000);
  await waitForText(training, /At chance level: the 95% confidence interval of balanced accuracy includes what guessing scores \(14\.3% for 7 classes\)/);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const summary = await training.locator('[data-testid="checkpoint-summary"]').innerText();
  assert.match(summary, /Kept checkpoint: epoch 1, chosen by best validation balanced accuracy \(val_bal_acc\)/);
  assert.ok(summary.includes(`${percent(metrics[0].valBalancedAccuracy)} (95% CI ${interval(metrics[0].valBalancedAccuracyCi)})`), summary);
  assert.match(summary, /Optimistic: used for model selection/);
  const log = await tableRows(training, 'table.data tbody tr');
  assert.equal(log[0][8], `${metrics[0].valBalancedAccuracyCi.low.toFixed(2)}–${metrics[0].valBalancedAccuracyCi.high.toFixed(2)}`, 'the epoch log has each epoch’s interval');

  // 3. The Evaluation panel: intervals, the warning, the optimism label, ROC / PR / reliability, the set selector.
  await runCommand(page, 'Lesion Lab: Show Evaluation');
  let evaluation = await panelFrame(page, 'Evaluation', 60_000);
  await waitForText(evaluation, `${validation.count} images`);
  const balanced = await evaluation.locator('[data-testid="kpi-balanced"]').innerText();
  assert.ok(balanced.includes(percent(validation.balancedAccuracy)) && balanced.includes(`95% CI ${interval(validation.balancedAccuracyCi)}`), balanced);
  assert.ok((await evaluation.locator('[data-testid="kpi-accuracy"]').innerText()).includes(`95% CI ${interval(validation.accuracyCi)}`));
  assert.match(await evaluation.locator('[data-testid="chance-warning"]').innerText(), /^At chance level/);
  assert.match(await evaluation.locator('[data-testid="selection-note"]').innerText(), /Optimistic: used for model selection/);
  const recallCis = (await tableRows(evaluation, '[data-testid="per-class"] tbody tr')).map((r) => r[3]);
  assert.deepEqual(recallCis, validation.perClass.map((c) => (c.recallCi ? interval(c.recallCi) : '–')), 'each class’s recall interval');
  await assertEvaluationCharts(evaluation, 'validation');
  const options = () => evaluation.locator('[data-testid="set-selector"] vscode-option').allInnerTexts();
  assert.deepEqual(await options(), [`validation (${validation.count})`]);

  // 4. Evaluate… on another prepared folder: a second report, the validation one untouched.
  const before = readFileSync(join(runDir, 'evaluation.json'), 'utf8');
  await evaluation.locator('header vscode-button', { hasText: 'Evaluate…' }).click();
  const pick = await waitForQuickPick(page);
  // Each row is its label followed by its description; the demo data has no test split to offer.
  assert.deepEqual(pick.rows.map((r) => r.replace(/^(Validation split|Test split|Another prepared folder…).*$/s, '$1')), ['Validation split', 'Another prepared folder…'], pick.rows.join(' | '));
  // Its row opens the folder dialog at once (the same quick input), so click it rather than wait for the pick to close.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Another prepared folder…' }).click();
  await chooseFolderInDialog(page, join(workspace, 'prepared-external'));
  const external = await waitFor(() => {
    try {
      return readJson(join(runDir, 'evaluation-prepared-external-val.json'));
    } catch {
      return undefined;
    }
  }, 'evaluation-prepared-external-val.json', 180_000);
  assert.equal(readFileSync(join(runDir, 'evaluation.json'), 'utf8'), before, 'evaluation.json is as it was');
  assert.equal(external.set.overlapWithTraining, 0);
  evaluation = await panelFrame(page, 'Evaluation', 60_000);
  await waitFor(async () => (await options()).length === 2, 'two sets in the selector', 30_000);
  assert.deepEqual(await options(), [`validation (${validation.count})`, `prepared-external — validation split (${external.count})`]);
  await waitForText(evaluation, `${external.count} images`);
  assert.equal(await evaluation.locator('[data-testid="selection-note"]').count(), 0, 'a set that did not choose the checkpoint is not called optimistic');
  // Back to the validation report through the selector, then to the other one again.
  const choose = async (label) => {
    await evaluation.locator('[data-testid="set-selector"]').click();
    await evaluation.locator('[data-testid="set-selector"] li[role="option"]', { hasText: new RegExp(`^\\s*${label}`) }).click();
  };
  await choose('validation');
  await waitForText(evaluation, `${validation.count} images · `);
  await choose('prepared-external');
  await waitForText(evaluation, `${external.count} images · `);

  // 5. A confusion cell lists its images, each with its probabilities; Grad-CAM on demand.
  const cells = external.confusion.flatMap((row, i) => row.map((n, j) => ({ i, j, n }))).filter((c) => c.n > 0);
  const target = cells.find((c) => c.i !== c.j) ?? cells[0];
  await evaluation.locator('table.confusion tbody tr').nth(target.i).locator('td').nth(target.j).click();
  const listed = evaluation.locator('[data-testid="cell-images"]');
  await waitForText(listed, `${external.classes[target.i]} predicted as ${external.classes[target.j]}: ${target.n} image`);
  await waitFor(async () => (await listed.locator('figure.tile img').count()) === target.n, `${target.n} thumbnails in the cell`, 60_000);
  const expected = external.images.filter((im) => im.label === target.i && im.predicted === target.j).map((im) => im.file).sort();
  assert.deepEqual((await listed.locator('figure.tile').evaluateAll((els) => els.map((e) => e.dataset.file))).sort(), expected, 'the cell’s own images');
  const first = listed.locator('figure.tile').first();
  assert.match(await first.innerText(), /p\(\w+\) \d+\.\d% · p\(\w+\) \d+\.\d%|p = \d+\.\d%/, 'each image with its probabilities');
  await first.locator('a.gradcam-link').click();
  const cam = await waitFor(async () => {
    if ((await first.locator('img[alt^="Grad-CAM of"]').count()) > 0) return 'map';
    return /no evidence map: /.test(await first.innerText()) ? 'note' : undefined;
  }, 'Grad-CAM (or why there is none) on the first image', 180_000);
  if (cam === 'map') assert.ok(await first.locator('img[alt^="Grad-CAM of"]').evaluate((img) => img.naturalWidth > 0), 'the Grad-CAM overlay loaded');
  await clearNotifications(page);
  await setEditorGroupMaximized(page, true);
  await waitFor(async () => (await evaluation.evaluate(() => document.documentElement.clientWidth)) > 700, 'the Evaluation panel to be maximised', 10_000);
  await screenshotWholePanel(t, evaluation, 'evaluation-panel-cell-dark');
  await setEditorGroupMaximized(page, false);

  // 6. Classify on a demo-trained model at chance: its provenance names the synthetic data and the warning is there.
  const valDir = join(workspace, 'prepared', 'val', 'mel');
  const image = join(valDir, readdirSync(valDir).filter((f) => f.endsWith('.jpg')).sort()[0]);
  const prediction = await classifyImage(page, image);
  const provenance = await prediction.locator('[data-testid="provenance"]').innerText();
  assert.match(provenance, new RegExp(`${RUN} · checkpoint of epoch 1 of 1, chosen by best validation balanced accuracy`));
  assert.match(await prediction.locator('[data-testid="trained-on"]').innerText(), /synthetic demo data .*predictions on real photographs are meaningless/);
  assert.ok((await prediction.locator('[data-testid="validation"]').innerText()).includes(`${percent(validation.balancedAccuracy)} (95% CI ${interval(validation.balancedAccuracyCi)})`));
  assert.match(await prediction.locator('[data-testid="chance-warning"]').innerText(), /^At chance level/);
  assert.match(await prediction.locator('[data-testid="verdict"]').innerText(), /at chance level: this is no better than a guess/);
  assert.match(await prediction.locator('[data-testid="calibration"]').innerText(), /not calibrated/);
  // Calibrated probabilities: the temperature fitted on validation.
  await prediction.locator('label.check', { hasText: 'Calibrated probabilities' }).locator('input').check();
  await waitForText(prediction.locator('[data-testid="calibration"]'), `temperature-scaled (T = ${validation.calibration.temperature.value.toFixed(2)}`, 180_000);
  // Pictured now: a panel brought to the front replaces this one's page (webviews are not retained when hidden).
  await setEditorGroupMaximized(page, true);
  await screenshotWholePanel(t, prediction, 'prediction-panel-dark');
  await setEditorGroupMaximized(page, false);
  defects.push(...await pictureWhole(t, 'Lesion Lab: Show Evaluation', 'Evaluation', 'evaluation-panel', 'dark'));
  defects.push(...await pictureWhole(t, 'Lesion Lab: Show Training', 'Training', 'training-panel', 'dark'));

  // 7. The same in a light theme.
  await switchColorTheme(page, 'Light Modern');
  await clearNotifications(page);
  await screenshotWholePanel(t, await sidebarFrame(page), 'training-view-light');
  defects.push(...await pictureWhole(t, 'Lesion Lab: Show Evaluation', 'Evaluation', 'evaluation-panel', 'light'));
  evaluation = await panelFrame(page, 'Evaluation');
  await assertEvaluationCharts(evaluation, 'light theme');
  defects.push(...await pictureWhole(t, 'Lesion Lab: Show Training', 'Training', 'training-panel', 'light'));
  const again = await classifyImage(page, image);
  await waitForWebviewTheme(again, 'light');
  await setEditorGroupMaximized(page, true);
  await screenshotWholePanel(t, again, 'prediction-panel-light');
  await setEditorGroupMaximized(page, false);
  assert.ok(!/error/i.test(await textOf(again.locator('header'))));

  // 8. Grad-CAM over the image, its colour scale and opacity, on the model whose evidence is the square.
  await runCommand(page, 'Lesion Lab: Open Run Folder…');
  await chooseFolderInDialog(page, join(workspace, 'square-run'));
  await panelFrame(page, 'Training', 60_000);
  const square = await classifyImage(page, join(workspace, 'images', 'known', 'square.png'));
  await waitForText(square, /Most likely:\s*bright/);
  const heat = square.locator('img.heat');
  await waitFor(async () => (await heat.count()) === 1 && heat.evaluate((img) => img.naturalWidth > 0), 'the Grad-CAM heat map over the image', 60_000);
  assert.equal(await square.locator('[aria-label="Grad-CAM colour scale"]').count(), 1, 'a colour scale');
  // The slider sets the heat map's opacity.
  const slider = square.locator('input[type="range"][aria-label="Grad-CAM opacity"]');
  await slider.fill('20');
  assert.equal(await heat.evaluate((img) => img.style.opacity), '0.2');
  await slider.fill('80');
  assert.equal(await heat.evaluate((img) => img.style.opacity), '0.8');
  await setEditorGroupMaximized(page, true);
  await screenshotWholePanel(t, square, 'prediction-gradcam-light');
  await setEditorGroupMaximized(page, false);

  assert.deepEqual(defects, [], 'panels fit their width');
}
