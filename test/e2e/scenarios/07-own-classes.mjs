// A newcomer's own data (issue 19): a folder per class — benign/, malignant/, "unsure – review"/ (a space,
// an en dash) — prepared through the palette and the folder dialog. The Dataset panel, a 1-epoch run and
// its evaluation, and Classify Lesion must all show the dataset's own class names, in the dataset's order,
// with their colours; and the Dataset panel must say that without a group column leakage cannot be ruled
// out. Every panel is pictured dark and light.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { fillRunForm, panelFrame, prepareThroughUi, preparedSummary, sidebarFrame, trainingFinished } from '../lib/lesionLab.mjs';
import { notifications, openViewContainer, runCommand, textOf, waitFor, waitForText } from '../lib/vscode.mjs';
import {
  canvasPaint, clearNotifications, pageOverflow, setEditorGroupMaximized, switchColorTheme, tableRows, waitForWebviewTheme,
} from '../lib/workbench.mjs';

export const title = 'A folder per class (benign, malignant, "unsure – review"): Prepare, the Dataset panel, a 1-epoch run, Evaluate and Classify show its own class names, dark and light';
export const timeoutMs = 420_000;

const CLASSES = ['benign', 'malignant', 'unsure – review'];
const PREFIX = { benign: 'B', malignant: 'M', 'unsure – review': 'U' };
const RUN_FORM = { Model: 'mobilenetv2', Weights: 'none', Phases: 'finetune', Epochs: '1', Batch: '8', 'Image size': '32', Augmentation: 'none', 'Width (MobileNetV2)': '0.35' };

/** 12 real JPEGs per class, coloured by class, a few in a subfolder: what a clinic's export looks like. */
export async function setupWorkspace(dir) {
  for (const [k, c] of CLASSES.entries()) {
    for (let i = 0; i < 12; i++) {
      const folder = join(dir, 'clinic', c, i < 4 ? '2024-visit' : '');
      mkdirSync(folder, { recursive: true });
      const shade = (base) => Math.max(0, Math.min(255, base + ((i * 23) % 40) - 20));
      const [r, g, b] = [[205, 160, 130], [80, 45, 35], [160, 95, 150]][k];
      await sharp({ create: { width: 96, height: 72, channels: 3, background: { r: shade(r), g: shade(g), b: shade(b) } } })
        .jpeg({ quality: 85 })
        .toFile(join(folder, `${PREFIX[c]}${String(i).padStart(4, '0')}.jpg`));
    }
  }
  // Beside the dataset, not in it: a file named .jpg that is no image, for Classify on a multi-selection.
  writeFileSync(join(dir, 'not-a-photo.jpg'), 'a text file with the wrong extension');
}

function newestRun(workspace) {
  const dir = join(workspace, 'runs');
  const runs = existsSync(dir) ? readdirSync(dir).filter((d) => d.endsWith('-mobilenetv2')).sort() : [];
  return runs.length ? join(dir, runs.at(-1)) : undefined;
}

/** The Dataset panel's per-class table: class cell, then the other cells. */
const classRows = (panel) => tableRows(panel, 'table.data tbody tr');

async function assertDatasetPanel(panel, theme) {
  await waitForWebviewTheme(panel, theme);
  const rows = await classRows(panel);
  assert.deepEqual(rows.map((r) => r[0]), CLASSES, `the per-class table lists the dataset's classes in order (${theme})`);
  const head = (await tableRows(panel, 'table.data thead tr'))[0];
  assert.ok(!head.some((h) => /lesion/.test(h)), `no lesion columns without a group column: ${head.join(' | ')}`);
  const swatches = await panel.locator('table.data tbody .swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  assert.equal(new Set(swatches).size, 3, `three distinct class colours: ${swatches.join(', ')}`);
  await waitForText(panel, /leakage cannot be ruled out/);
  const canvases = await waitFor(async () => {
    const all = await canvasPaint(panel);
    return all.length === 1 && all[0].painted > 0.01 && all[0].colours >= 3 ? all : undefined;
  }, `the class-distribution chart (${theme})`, 20_000);
  return canvases;
}

/** Classify Lesion on an image opened with Quick Open; returns the class names the Prediction panel lists. */
async function classify(t, name) {
  const { page } = t;
  await clearNotifications(page);
  await runCommand(page, 'Go to File...');
  await page.locator('.quick-input-widget .quick-input-box input').fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click({ timeout: 20_000 });
  await page.locator(`.tabs-container .tab.active[data-resource-name="${name}"]`).waitFor({ timeout: 10_000 });
  await runCommand(page, 'Lesion Lab: Classify Lesion');
  const panel = await panelFrame(page, 'Prediction', 180_000);
  const items = await waitFor(async () => {
    if (/Classifying…/.test(await textOf(panel))) return undefined;
    const list = await panel.locator('[aria-label="Class probabilities"] [role="listitem"]').allInnerTexts();
    return list.length > 0 ? list : undefined;
  }, 'the class probabilities', 180_000);
  return { panel, names: items.map((item) => item.replace(/\s*[\d.]+\s*%\s*$/, '').trim()) };
}

/** Selects `names` in the Explorer (the first at the workspace root, the others in clinic/benign) and classifies them from the context menu. */
async function classifySelection(t, names) {
  const { page } = t;
  await clearNotifications(page);
  await openViewContainer(page, 'Explorer');
  const tree = page.locator('.explorer-folders-view');
  const row = (name) => tree.locator(`.monaco-list-row[aria-label^="${name}"]`).first();
  const expand = async (name) => {
    await row(name).waitFor({ timeout: 20_000 });
    if ((await row(name).getAttribute('aria-expanded')) !== 'true') await row(name).click();
  };
  const menuItem = page.getByRole('menuitem', { name: 'Classify Lesion' }).first();
  // On a busy machine the menu can open before its items are laid out, or swallow the click: select and try again.
  const panel = await waitFor(async () => {
    await page.keyboard.press('Escape');
    await row(names[0]).click();
    await expand('clinic');
    await expand('benign');
    for (const name of names.slice(1)) await row(name).click({ modifiers: ['Control'] });
    const selected = await tree.locator('.monaco-list-row.selected').count();
    if (selected !== names.length) return undefined;
    await row(names.at(-1)).click({ button: 'right' });
    if (!(await menuItem.waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false))) return undefined;
    await menuItem.hover({ timeout: 5000 }).catch(() => undefined);
    await menuItem.click({ timeout: 5000 }).catch(() => undefined);
    const frame = await panelFrame(page, 'Prediction', 15_000).catch(() => undefined);
    return frame && /3 images/.test(await frame.locator('header.panel-header').innerText()) ? frame : undefined;
  }, 'the Prediction panel for the three selected files', 120_000);
  const sections = await waitFor(async () => {
    if (/Classifying/.test(await textOf(panel))) return undefined;
    const all = await panel.locator('section.prediction-item').evaluateAll((els) => els.map((e) => ({
      name: e.getAttribute('aria-label'),
      error: e.querySelector('.error')?.textContent ?? '',
      bars: e.querySelectorAll('[aria-label="Class probabilities"] [role="listitem"]').length,
      images: [...e.querySelectorAll('img')].filter((i) => i.complete && i.naturalWidth > 0).length,
      allImages: e.querySelectorAll('img').length,
      // Grad-CAM: the heat map over the photo (two images), or the reason there is none (a flat map is not drawn).
      gradcam: e.querySelector('[data-testid="gradcam-note"]') ? 'note' : e.querySelector('img.heat') ? 'map' : '',
    })));
    const ready = (s) => s.error || (s.gradcam === 'note' && s.images === 1) || (s.gradcam === 'map' && s.images === 3);
    return all.length === names.length && all.every(ready) ? all : undefined;
  }, 'a result or a reason for each selected file', 180_000);
  assert.deepEqual(sections.map((s) => s.name).sort(), [...names].sort(), 'one section per selected file');
  for (const s of sections) {
    if (s.name === names[0]) {
      assert.match(s.error, /not-a-photo\.jpg/, `the file that is no image says why: ${s.error}`);
      assert.equal(s.bars, 0);
      assert.equal(s.allImages, 0, 'no broken image for the file that is none');
    } else {
      assert.equal(s.error, '', `${s.name} classified`);
      assert.equal(s.bars, CLASSES.length, `${s.name}: a probability for each class`);
    }
  }
  await waitForText(panel, /3 images, 1 could not be classified/);
  await t.screenshot(panel, 'prediction-panel-several');
  await openViewContainer(page, 'Lesion Lab');
}

export async function run(t) {
  const { page, workspace } = t;
  // 1. Prepare through the palette and the folder dialog: no question asked, the folders are the classes.
  const dataset = await prepareThroughUi(page, join(workspace, 'clinic'));
  const summary = preparedSummary(workspace);
  assert.equal(summary.layout, 'folder-per-class');
  assert.deepEqual(summary.classes.map((c) => [c.name, c.all.images]), CLASSES.map((c) => [c, 12]));
  await assertDatasetPanel(dataset, 'dark');
  const split = (await tableRows(dataset, '.facts dl'))[0];
  assert.match(split[split.indexOf('Split') + 1], /^image \(no group column\)/, `the split says what it kept apart: ${split.join(' | ')}`);
  const sidebar = await sidebarFrame(page);
  await waitForText(sidebar, /3 classes · folder-per-class, split by image/);
  await waitFor(async () => !/Current job/i.test(await textOf(sidebar)), 'the prepare job to leave the Training view', 30_000);

  // 1b. The Samples panel pages through each class's images under the class's name.
  await runCommand(page, 'Lesion Lab: Show Samples');
  const samples = await panelFrame(page, 'Samples', 60_000);
  const chips = await waitFor(async () => {
    const texts = await samples.locator('[role="tablist"][aria-label="Class"] [role="tab"]').allInnerTexts();
    return texts.length === 3 ? texts : undefined;
  }, 'a class tab per class on the Samples panel', 30_000);
  assert.deepEqual(chips.map((c) => c.split(/\s+\d/)[0].trim()), CLASSES, `the Samples panel's class tabs: ${chips.join(' | ')}`);
  await samples.locator('[role="tab"]', { hasText: 'unsure – review' }).click();
  await waitForText(samples, /unsure – review: 10 image\(s\)/);
  await waitFor(async () => (await samples.locator('.grid img').evaluateAll((els) => els.filter((e) => e.complete && e.naturalWidth > 0).length)) === 10, 'the class’s 10 train thumbnails', 60_000);
  await t.screenshot(samples, 'samples-panel-dark');

  // 2. A 1-epoch run from the Run form, then Evaluate: the confusion matrix has the three classes.
  await fillRunForm(sidebar, RUN_FORM);
  await sidebar.locator('section[aria-label="Run"] vscode-button', { hasText: /^\s*Start\s*$/ }).click();
  const runDir = await waitFor(() => newestRun(workspace), 'the run folder under runs/', 60_000);
  let training = await trainingFinished(page, 'the run to finish', 300_000);
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).classes, CLASSES, 'the run was built for the dataset’s classes');
  await training.locator('header vscode-button', { hasText: 'Evaluate' }).click();
  const evaluation = await panelFrame(page, 'Evaluation', 120_000);
  await waitForText(evaluation, /\d+ images/);
  const matrixHead = (await tableRows(evaluation, 'table.confusion thead tr'))[0];
  assert.deepEqual(matrixHead.slice(1), CLASSES, 'the confusion matrix has a column per class, in order');
  const perClass = await tableRows(evaluation, 'table.data tbody tr');
  assert.deepEqual(perClass.map((r) => r[0]), CLASSES, 'the per-class metrics name the classes in order');

  // 3. Classify Lesion on an original of the third class: three probabilities under the classes' names.
  const { panel: prediction, names } = await classify(t, 'U0005.jpg');
  assert.deepEqual([...names].sort(), [...CLASSES].sort(), `a probability for each class: ${names.join(' | ')}`);
  // A 1-epoch model may be at chance level: then the verdict says so instead of "Most likely" (issue 14).
  await waitForText(prediction, /Most likely:\s*(benign|malignant|unsure – review)|top class is\s*(benign|malignant|unsure – review)\s*\([\d.]+%\), but the model is at chance level/);
  const bars = await prediction.locator('.bar-fill').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  assert.equal(new Set(bars).size, 3, `each class's bar in its own colour: ${bars.join(', ')}`);
  const toasts = await notifications(page);
  assert.ok(!toasts.some((n) => /error|failed/i.test(n)), `no error notification: ${toasts.join(' | ')}`);

  // 3b. Classify Lesion on an Explorer multi-selection — two photos and a .jpg that is no image — is one job:
  // each photo gets its probabilities, the other its own reason, and nothing else fails.
  await classifySelection(t, ['not-a-photo.jpg', 'B0005.jpg', 'B0006.jpg']);

  // 4. Pictures, dark then light, each panel maximised so it is readable.
  const defects = [];
  for (const theme of ['dark', 'light']) {
    if (theme === 'light') await switchColorTheme(page, 'Light Modern');
    await clearNotifications(page);
    await t.screenshot(await sidebarFrame(page), `training-view-${theme}`);
    for (const [command, heading, name] of [
      ['Lesion Lab: Show Dataset', 'Dataset', 'dataset-panel'],
      ['Lesion Lab: Show Evaluation', 'Evaluation', 'evaluation-panel'],
      [undefined, 'Prediction', 'prediction-panel'],
    ]) {
      if (command) await runCommand(page, command);
      else await page.locator(`.tab[aria-label^="Lesion Lab: ${heading}"]`).first().click();
      const panel = await panelFrame(page, heading);
      await waitForWebviewTheme(panel, theme);
      const wider = await pageOverflow(panel);
      if (wider) defects.push(`${heading} panel (${theme}, in its column): ${wider}`);
      await page.locator(`.editor-group-container.active .tab.active[aria-label^="Lesion Lab: ${heading}"]`).waitFor({ timeout: 10_000 });
      await setEditorGroupMaximized(page, true);
      await waitFor(async () => (await panel.evaluate(() => document.documentElement.clientWidth)) > 700, `the ${heading} panel to be maximised`, 10_000);
      if (heading === 'Dataset') await assertDatasetPanel(panel, theme);
      await page.waitForTimeout(300);
      await t.screenshot(panel, `${name}-${theme}`);
      await setEditorGroupMaximized(page, false);
    }
  }
  assert.deepEqual(defects, [], 'panels should fit the column they are in');
}
