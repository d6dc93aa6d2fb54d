// The whole loop a person goes through (issue 7): prepare a dataset through the command palette and
// its folder dialog, start a 2-epoch run from the Training view's Run form, watch the Training panel
// fill in its charts and epoch log, evaluate, and read the confusion matrix on the Evaluation panel.
// Every panel is pictured in the dark and in a light theme. Last, Classify Lesion on a validation
// image: seven probabilities and a Grad-CAM overlay on the Prediction panel. Panels open in
// columns beside each other; each must fit its column (checked last, after every picture).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LESION_CLASSES, augmentThroughUi, classifyImage, fillRunForm, panelFrame, prepareThroughUi, preparedSummary, runCli, sidebarFrame, totals, trainingFinished } from '../lib/lesionLab.mjs';
import { repoRoot, softwareVulkanEnv } from '../lib/paths.mjs';
import { notifications, runCommand, textOf, waitFor, waitForText } from '../lib/vscode.mjs';
import { canvasPaint, clearNotifications, overflowing, pageOverflow, setEditorGroupMaximized, switchColorTheme, tableRows, waitForWebviewTheme } from '../lib/workbench.mjs';

export const title = 'Prepare → Augment → train 2 epochs from the Training view → Evaluate: panels show the run and a 7×7 confusion matrix';
export const timeoutMs = 480_000;

// Tiny and quick on the wasm engine: 140 images, 32 px, fine-tuning the whole MobileNetV2 from scratch.
// Augmentation 'disk': training reads the images the Augment step wrote.
// With lavapipe (setup.sh), the run goes to the webgpu engine in mixed precision, the GPU path a user with a GPU
// takes; without it, to the default engine.
const ON_WEBGPU = Object.keys(softwareVulkanEnv()).length > 0;
const RUN_FORM = {
  Model: 'mobilenetv2', Weights: 'none', Phases: 'finetune', Epochs: '2', Batch: '16', 'Image size': '32', Augmentation: 'disk',
  'Width (MobileNetV2)': '0.35', // under "More options"
  ...(ON_WEBGPU ? { Engine: 'webgpu', Precision: 'mixed' } : {}),
};
const TRAINING_TIMEOUT = 360_000;

/** Demo data written by the real backend CLI; the scenario prepares it through the UI. */
export async function setupWorkspace(dir) {
  runCli(repoRoot, ['demo-data', '--out', join(dir, 'demo-data'), '--per-class', '20', '--size', '160'], dir);
}

function newestRun(workspace) {
  const dir = join(workspace, 'runs');
  // A run folder counts once its config.json is there: train creates the folder (and its lock) a moment before.
  const runs = existsSync(dir) ? readdirSync(dir).filter((d) => d.endsWith('-mobilenetv2') && existsSync(join(dir, d, 'config.json'))).sort() : [];
  return runs.length ? join(dir, runs.at(-1)) : undefined;
}

const readJsonLines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

async function assertChartsDrawn(panel, count, what) {
  const canvases = await waitFor(async () => {
    const all = await canvasPaint(panel);
    return all.length === count && all.every((c) => c.painted > 0.005 && c.colours >= 3) ? all : undefined;
  }, `${count} drawn charts on ${what}`, 20_000).catch(async (err) => {
    err.message += `; canvases: ${JSON.stringify(await canvasPaint(panel).catch(() => []))}`;
    throw err;
  });
  return canvases;
}

const PANELS = [
  { command: 'Lesion Lab: Show Dataset', heading: 'Dataset', name: 'dataset-panel', charts: 1 },
  { command: 'Lesion Lab: Show Training', heading: 'Training', name: 'training-panel', charts: 3 },
  { command: 'Lesion Lab: Show Evaluation', heading: 'Evaluation', name: 'evaluation-panel', charts: 0 },
];

/**
 * Pictures the window and each panel in the theme now in use. Panels open beside each other, so
 * each has a column: first, as they are, their charts must be drawn and fit their column (a chart
 * drawn when its column was wider must shrink with it). Then each panel is pictured with its editor
 * group maximised, so that the picture shows it at a readable width. Returns the layout defects.
 */
async function pictureEverything(t, theme) {
  const { page } = t;
  const defects = [];
  await clearNotifications(page);
  await t.screenshot(page, `window-${theme}`);
  await t.screenshot(await sidebarFrame(page), `training-view-${theme}`);
  for (const { command, heading, charts } of PANELS) {
    // The panels are tabs of one editor group: bring each to the front before looking at it.
    await runCommand(page, command);
    const panel = await panelFrame(page, heading);
    await waitForWebviewTheme(panel, theme);
    const wider = await pageOverflow(panel);
    if (wider) defects.push(`${heading} panel (${theme}, in its column): ${wider}`);
    if (charts === 0) continue;
    await assertChartsDrawn(panel, charts, `the ${heading} panel (${theme})`);
    for (const o of await overflowing(panel, 'canvas')) defects.push(`${heading} panel (${theme}, in its column): chart "${o}"`);
  }
  for (const { command, heading, name, charts } of PANELS) {
    await runCommand(page, command); // focuses the panel, so that its group is the one maximised
    // The extension reveals the panel a moment after the palette closes: wait for its group to be active.
    await page.locator(`.editor-group-container.active .tab.active[aria-label^="Lesion Lab: ${heading}"]`).waitFor({ timeout: 10_000 });
    await setEditorGroupMaximized(page, true);
    const panel = await panelFrame(page, heading);
    await waitFor(async () => (await panel.evaluate(() => document.documentElement.clientWidth)) > 700, `the ${heading} panel to be maximised`, 10_000);
    await waitForWebviewTheme(panel, theme);
    if (charts > 0) await assertChartsDrawn(panel, charts, `the maximised ${heading} panel (${theme})`);
    await page.waitForTimeout(300); // charts follow a resize on the next animation frame
    await t.screenshot(panel, `${name}-${theme}`);
    await setEditorGroupMaximized(page, false);
  }
  return defects;
}

/**
 * Classify Lesion on a validation image: expects a panel with the seven classes' probabilities, the
 * model's provenance and a Grad-CAM map (or the reason there is none). A warning instead of the panel
 * fails the step with that warning's text.
 */
async function classifyLesion(t, image, runDir) {
  const { page } = t;
  const panel = await classifyImage(page, image);
  const probabilities = await panel.locator('[aria-label="Class probabilities"] [role="listitem"]').allInnerTexts();
  const byClass = Object.fromEntries(probabilities.map((item) => [item.trim().split(/\s+/)[0], Number(/([\d.]+)\s*%/.exec(item)?.[1] ?? NaN)]));
  assert.deepEqual(Object.keys(byClass).sort(), LESION_CLASSES, `a probability for every class: ${probabilities.join(' | ')}`);
  const percents = Object.values(byClass);
  assert.ok(percents.every(Number.isFinite), `probabilities in percent: ${probabilities.join(' | ')}`);
  const sum = percents.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 100) < 1.5, `probabilities add up to 100%, got ${sum.toFixed(1)} (${probabilities.join(' | ')})`);
  const top = Object.entries(byClass).sort((a, b) => b[1] - a[1])[0][0];
  // A model at chance level is not allowed to say "Most likely" (its validation report decides which).
  const evaluated = JSON.parse(readFileSync(join(runDir, 'evaluation.json'), 'utf8'));
  await waitForText(panel, evaluated.chance.verdict === 'above' ? new RegExp(`Most likely:\\s*${top}\\b`) : new RegExp(`top class is\\s*${top}\\b.*at chance level`));
  // Grad-CAM: the heat map laid over the image, or the reason there is none (a flat map is not drawn).
  const loaded = async () => panel.locator('img').evaluateAll((els) => els.map((e) => ({ alt: e.alt, width: e.naturalWidth })));
  const gradcam = await waitFor(async () => {
    if ((await panel.locator('[data-testid="gradcam-note"]').count()) > 0) return 'note';
    return (await loaded()).some((i) => i.alt.startsWith('Grad-CAM heat map') && i.width > 0) ? 'map' : undefined;
  }, 'the Grad-CAM map (or why there is none)', 60_000).catch(async (err) => { err.message += `: ${JSON.stringify(await loaded())}`; throw err; });
  if (gradcam === 'note') assert.match(await panel.locator('[data-testid="gradcam-note"]').innerText(), /^no evidence map: /);
  const defects = [];
  const wider = await pageOverflow(panel);
  if (wider) defects.push(`Prediction panel (in its column): ${wider}`);
  await t.screenshot(panel, 'prediction-panel-column');
  await setEditorGroupMaximized(page, true);
  await waitFor(async () => (await panel.evaluate(() => document.documentElement.clientWidth)) > 700, 'the Prediction panel to be maximised', 10_000);
  await page.waitForTimeout(300);
  await t.screenshot(panel, 'prediction-panel');
  await setEditorGroupMaximized(page, false);
  return defects;
}

export async function run(t) {
  const { page, workspace } = t;
  // 1. Prepare through the palette: the folder comes from the (simple) file dialog.
  await prepareThroughUi(page, join(workspace, 'demo-data'));
  let sidebar = await sidebarFrame(page);
  const dataset = totals(preparedSummary(workspace));
  assert.equal(dataset.all, 140, '20 demo images per class');
  sidebar = await sidebarFrame(page);
  await waitForText(sidebar, `${dataset.train} train · ${dataset.val} val`);
  await waitFor(async () => !/Current job/i.test(await textOf(sidebar)), 'the prepare job to leave the Training view', 30_000);

  // 1b. Augment the training split to 24 images per class (nv is left as it is).
  await augmentThroughUi(page, workspace, 24);
  await waitFor(async () => !/Current job/i.test(await textOf(sidebar)), 'the augment job to leave the Training view', 30_000);

  // 2. A 2-epoch run from the Training view's Run form.
  await fillRunForm(sidebar, RUN_FORM);
  await sidebar.locator('section[aria-label="Run"] vscode-button', { hasText: /^\s*Start\s*$/ }).click();
  let training = await panelFrame(page, 'Training', 60_000);
  await waitForText(training, /running/, 30_000);
  await waitForText(sidebar, /Current job/i, 30_000);
  const runDir = await waitFor(() => newestRun(workspace), 'the run folder under runs/', 30_000);
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  const sent = config.options ?? config;
  assert.deepEqual(
    { model: sent.model, weights: sent.weights, phase: sent.phase, epochs: sent.epochs, batch: sent.batch, size: sent.size, augment: sent.augment, alpha: sent.alpha },
    { model: 'mobilenetv2', weights: 'none', phase: 'finetune', epochs: 2, batch: 16, size: 32, augment: 'disk', alpha: 0.35 },
    `the run's config.json has what the form said: ${JSON.stringify(config).slice(0, 600)}`,
  );
  // A picture while it runs: the batch progress line, before or after the first epoch.
  const seen = await waitFor(async () => {
    const text = await textOf(training);
    return /batch \d+\/\d+/.test(text) ? 'batch' : /finished|failed|cancelled/.test(text) ? 'ended' : undefined;
  }, 'the first batch or the end of the run', TRAINING_TIMEOUT);
  if (seen === 'batch') {
    await clearNotifications(page); // the progress toast would cover the panel
    await t.screenshot(training, 'training-panel-running');
  }

  training = await trainingFinished(page, 'the run to finish', TRAINING_TIMEOUT);

  // 3. The Training panel: its three charts drawn, the epoch log has the two epochs of metrics.jsonl.
  const metrics = readJsonLines(join(runDir, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => [m.epoch, m.phase]), [[1, 'finetune'], [2, 'finetune']], 'metrics.jsonl has two fine-tune epochs');
  const log = await tableRows(training, 'table.data tbody tr');
  assert.deepEqual(log.map((r) => [Number(r[0]), r[1]]), [[1, 'finetune'], [2, 'finetune']], 'the epoch log lists epochs 1 and 2');
  for (const [i, m] of metrics.entries()) {
    // columns: epoch, phase, time, loss, acc, val_loss, val_acc, val_bal_acc, lr
    assert.deepEqual(log[i].slice(3, 8), [m.loss, m.accuracy, m.valLoss, m.valAccuracy, m.valBalancedAccuracy].map((v) => v.toFixed(4)), `epoch ${m.epoch}'s metrics`);
  }
  await assertChartsDrawn(training, 3, 'the Training panel (loss, accuracy, learning rate)');
  // The accuracy chart: chance (1/7) as a dashed line, each epoch's 95% interval of balanced accuracy as a band.
  const accuracyChart = training.locator('figure[data-chart="Accuracy"]');
  assert.equal(Number(await accuracyChart.getAttribute('data-chance')), 1 / 7, 'a chance line at 1/7 on the accuracy chart');
  assert.ok(metrics.every((m) => m.valBalancedAccuracyCi), 'metrics.jsonl has each epoch\'s interval');
  assert.equal(Number(await accuracyChart.getAttribute('data-interval-epochs')), metrics.length, 'an interval band over every epoch');
  // The run's setup line: what config.json says it trained with, engine and precision included.
  const used = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).engine;
  const setup = (await training.locator('[data-testid="run-setup"]').innerText()).trim();
  assert.match(setup, /^mobilenetv2 α0\.35 · from scratch · 32 px · batch 16 · augment disk · /, setup);
  assert.ok(setup.includes(`${used.engine} on ${used.device}`), `the setup line names the engine and device: ${setup}`);
  if (ON_WEBGPU) {
    assert.deepEqual([used.engine, used.precision], ['webgpu', 'mixed'], 'the form sent engine webgpu and mixed precision');
    assert.ok(setup.endsWith('· mixed precision (float16)'), setup);
  }
  const sidebarText = await waitForText(sidebar, /2 ep · finished/, 30_000);
  assert.ok(sidebarText.includes(runDir.split('/').at(-1)), 'the Runs list names the run');

  // 4. Evaluate from the Training panel; the Evaluation panel's matrix counts the validation images.
  await training.locator('header vscode-button', { hasText: 'Evaluate' }).click();
  let evaluation = await panelFrame(page, 'Evaluation', 120_000);
  const header = await waitForText(evaluation, /\d+ images/);
  assert.match(header, new RegExp(`\\b${dataset.val} images\\b`), `the header counts the ${dataset.val} validation images`);
  const evaluated = JSON.parse(readFileSync(join(runDir, 'evaluation.json'), 'utf8'));
  await evaluation.locator('vscode-button', { hasText: 'Show counts' }).click();
  await waitForText(evaluation, 'Show row-normalised');
  const head = (await tableRows(evaluation, 'table.confusion thead tr'))[0];
  assert.deepEqual(head.slice(1), LESION_CLASSES, 'the matrix has a column per class');
  const rows = await tableRows(evaluation, 'table.confusion tbody tr');
  assert.equal(rows.length, 7, 'seven rows');
  const counts = rows.map((r) => r.slice(1).map(Number));
  assert.ok(counts.every((r) => r.length === 7 && r.every(Number.isInteger)), `a 7×7 matrix of counts: ${JSON.stringify(rows)}`);
  assert.equal(counts.flat().reduce((a, b) => a + b, 0), dataset.val, 'the cells add up to the validation count');
  assert.deepEqual(counts, evaluated.confusion, 'the matrix is evaluation.json\'s');
  const summary = preparedSummary(workspace);
  assert.deepEqual(counts.map((r) => r.reduce((a, b) => a + b, 0)), summary.classes.map((c) => c.val.images), 'each row adds up to its class\'s validation images');
  await t.screenshot(evaluation, 'evaluation-panel-counts-dark');
  await evaluation.locator('vscode-button', { hasText: 'Show row-normalised' }).click();
  await waitForText(evaluation, 'Show counts');

  const toasts = await notifications(page);
  assert.ok(!toasts.some((n) => /error|failed|crash/i.test(n)), `no error notification: ${toasts.join(' | ')}`);

  // 5. Every panel, dark then light.
  const defects = await pictureEverything(t, 'dark');
  await switchColorTheme(page, 'Light Modern');
  defects.push(...await pictureEverything(t, 'light'));

  // 6. Classify Lesion (probabilities + Grad-CAM) on a validation image.
  const valDir = join(workspace, 'prepared', 'val', 'mel');
  const image = join(valDir, readdirSync(valDir).filter((f) => f.endsWith('.jpg')).sort()[0]);
  defects.push(...await classifyLesion(t, image, runDir));

  // Layout defects are reported last, so that every step above has run and every picture exists.
  assert.deepEqual(defects, [], 'panels and their charts should fit the column they are in');
}
