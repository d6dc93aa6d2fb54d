// Inspecting augmentation in the editor: "Preview Augmentations" from an image's Explorer context
// menu shows the original and variants labelled with their sampled parameters, re-rolls, and follows
// changed ranges; the Samples panel pages through originals and the augmented images `augment` wrote.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { panelFrame, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { clearNotifications } from '../lib/workbench.mjs';

export const title = 'Preview Augmentations from the Explorer (parameters, re-roll, ranges) and the Samples panel with augmented images';
export const timeoutMs = 240_000;

const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'backend', 'cli.js'), ...args], { stdio: 'pipe' });

/** A prepared and augmented demo dataset, written by the CLI before the window opens. */
export async function setupWorkspace(dir) {
  cli('demo-data', '--out', join(dir, 'demo-data'), '--per-class', '10', '--size', '300');
  cli('prepare', '--data', join(dir, 'demo-data'), '--out', join(dir, 'prepared'));
  cli('augment', '--prepared', join(dir, 'prepared'), '--target', '12', '--size', '128');
}

const images = (frame) => frame.locator('.grid img').evaluateAll((els) => els.map((e) => ({ src: e.getAttribute('src'), ok: e.complete && e.naturalWidth > 0 })));

export async function run(t) {
  const { page, workspace } = t;
  await openViewContainer(page, 'Lesion Lab');
  await waitForText(await sidebarFrame(page), /train · \d+ val/, 60_000);

  // 1. Right-click an image in the Explorer → Preview Augmentations.
  const part1 = readdirSync(join(workspace, 'demo-data', 'HAM10000_images_part_1')).filter((f) => f.endsWith('.jpg')).sort();
  await openViewContainer(page, 'Explorer');
  const tree = page.locator('.explorer-folders-view');
  await tree.locator('.monaco-list-row', { hasText: /^demo-data$/ }).first().click();
  await tree.locator('.monaco-list-row', { hasText: 'HAM10000_images_part_1' }).first().click();
  const row = tree.locator('.monaco-list-row', { hasText: part1[0] }).first();
  await row.waitFor({ timeout: 20_000 });
  // On a busy machine the menu can open before its items are laid out, or swallow the click: try again.
  // Every other try picks the entry with the keyboard instead of the mouse (our two entries end the menu).
  const menuItem = page.getByRole('menuitem', { name: 'Preview Augmentations' }).first();
  let attempt = 0;
  const panel = await waitFor(async () => {
    await page.keyboard.press('Escape');
    await row.click({ button: 'right' });
    if (!(await menuItem.waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false))) return undefined;
    if (attempt++ % 2 === 0) {
      await menuItem.hover({ timeout: 5000 }).catch(() => undefined);
      await menuItem.click({ timeout: 5000 }).catch(() => undefined);
    } else {
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
    }
    return panelFrame(page, 'Augmentations', 15_000).catch(() => undefined);
  }, 'the Augmentations panel from the Explorer context menu', 120_000);
  const first = await waitFor(async () => {
    const list = await images(panel);
    return list.length === 13 && list.every((i) => i.ok) ? list : undefined;
  }, 'the original and 12 decoded variants', 60_000);
  const captions = await panel.locator('.grid figcaption').allInnerTexts();
  assert.match(captions[0], /original/);
  for (const c of captions.slice(1)) assert.match(c, /^θ -?\d+° · shift -?[\d.]+%, -?[\d.]+% · zoom [01]\.\d\d×[01]\.\d\d/, `a variant's parameters: "${c}"`);
  await waitForText(panel, part1[0]);
  await clearNotifications(page);
  await t.screenshot(panel, 'preview-panel');

  // 2. Re-roll draws new variants of the same original.
  await panel.locator('vscode-button', { hasText: 'Re-roll' }).click();
  const rerolled = await waitFor(async () => {
    const list = await images(panel);
    return list.length === 13 && list[1].src !== first[1].src ? list : undefined;
  }, 'new variants after Re-roll', 60_000);
  assert.equal(rerolled[0].src, first[0].src, 'the original stays');

  // 3. Ranges: with rotation, shifts and zoom at 0 and no flips, every variant is the identity.
  for (const label of ['Rotation ±°', 'Width shift ±', 'Height shift ±', 'Zoom ±']) {
    await panel.locator(`input[aria-label="${label}"]`).fill('0');
    await panel.locator(`input[aria-label="${label}"]`).dispatchEvent('change');
  }
  for (const label of ['horizontal flip', 'vertical flip']) await panel.locator(`input[aria-label="${label}"]`).uncheck();
  await panel.locator('vscode-button', { hasText: 'Apply' }).click();
  await waitFor(async () => {
    const caps = await panel.locator('.grid figcaption').allInnerTexts();
    return caps.length === 13 && caps.slice(1).every((c) => /^θ -?0° · shift -?0\.0%, -?0\.0% · zoom 1\.00×1\.00$/.test(c.trim())) ? caps : undefined;
  }, 'identity parameters on every variant after setting the ranges to 0', 60_000);

  // 4. The Samples panel: originals and augmented images of a class, as thumbnails.
  await runCommand(page, 'Lesion Lab: Show Samples');
  const samples = await panelFrame(page, 'Samples', 60_000);
  await samples.locator('button.chip', { hasText: /^mel / }).click();
  const originals = await waitFor(async () => {
    const list = await images(samples);
    return list.length > 0 && list.every((i) => i.ok) ? list : undefined;
  }, 'train thumbnails of mel', 60_000);
  const melTrain = readdirSync(join(workspace, 'prepared', 'train', 'mel')).length;
  assert.equal(originals.length, Math.min(24, melTrain), 'one page of mel training images');
  await samples.locator('button.chip', { hasText: 'augmented' }).click();
  const melAug = readdirSync(join(workspace, 'prepared', 'aug', 'mel')).filter((f) => f.endsWith('.jpg')).length;
  assert.ok(melAug > 0, 'augment wrote mel images');
  await waitFor(async () => {
    const list = await images(samples);
    return list.length === Math.min(24, melAug) && list.every((i) => i.ok) ? list : undefined;
  }, `${melAug} augmented mel thumbnails`, 60_000);
  await waitForText(samples, `mel — Melanoma: ${melAug} image(s)`);
  await t.screenshot(samples, 'samples-panel');
  await t.screenshot(page, 'window');
}
