// A person's first steps: "Create Demo Dataset…" from the command palette, the small option, then
// the notification's "Prepare Dataset…". The Dataset panel must show what prepare wrote to
// prepared/manifest.json (every class, its counts, the lesion split, a drawn chart), in the dark
// theme and after switching to a light one; the Training view must show the dataset's summary.
// Before preparing, the demo data gets a near-duplicate: one of its images resized and re-encoded under a
// new image id and lesion id (as HAM10000 holds one lesion under two ids); the panel must show that pair side
// by side, both images in one split.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { LESION_CLASSES, panelFrame, preparedSummary, sidebarFrame, totals } from '../lib/lesionLab.mjs';
import { notifications, openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import {
  canvasPaint, chartTitleContrast, clearNotifications, clickNotificationAction, pickQuickPickItem, screenshotWholePanel, setEditorGroupMaximized, switchColorTheme, tableRows, waitForQuickPick,
  waitForWebviewTheme,
} from '../lib/workbench.mjs';

export const title = 'Create Demo Dataset → Prepare Dataset through the UI; the Dataset panel shows the manifest, dark and light';
export const timeoutMs = 300_000;

/** The per-class table as { class → [images, lesions, train images, val images] }. */
async function perClassCounts(panel) {
  const rows = await tableRows(panel, 'table.data:has(th:text-is("images/lesion")) tbody tr');
  const leading = (cell) => Number(/^\d+/.exec(cell)?.[0] ?? NaN);
  return Object.fromEntries(rows.map((cells) => [cells[0].split(/\s+—\s+/)[0], [leading(cells[1]), leading(cells[2]), leading(cells[4]), leading(cells[5])]]));
}

async function assertChartDrawn(panel, when) {
  const canvases = await waitFor(async () => {
    const all = await canvasPaint(panel);
    return all.length > 0 && all.every((c) => c.painted > 0.01 && c.colours >= 3) ? all : undefined;
  }, `the class-distribution chart to be drawn (${when})`, 20_000).catch(async (err) => {
    err.message += `; canvases: ${JSON.stringify(await canvasPaint(panel).catch(() => []))}`;
    throw err;
  });
  assert.equal(canvases.length, 1, `one chart on the Dataset panel (${when})`);
}

/** Chart text drawn in the theme's colours, not the previous theme's (a canvas does not follow CSS). */
async function assertChartTextReadable(panel, when) {
  for (const c of await chartTitleContrast(panel)) {
    assert.ok(c.contrast >= 0.4, `the "${c.label}" chart's title should stand out from the ${c.background} background in the ${when} (luma difference ${c.contrast}, want ≥ 0.4)`);
  }
}

const COPY_ID = 'ISIC_0099999';
const COPY_LESION = 'HAM_0099999';

/** Adds a resized (60%), re-encoded (quality 70) copy of the first listed image under a new image and lesion id. */
async function addNearDuplicate(demo) {
  const metadata = join(demo, 'HAM10000_metadata.csv');
  const [header, first] = readFileSync(metadata, 'utf8').trim().split('\n');
  const columns = header.split(',');
  const row = first.split(',');
  const original = row[columns.indexOf('image_id')];
  const part = ['HAM10000_images_part_1', 'HAM10000_images_part_2'].find((p) => existsSync(join(demo, p, `${original}.jpg`)));
  assert.ok(part, `the demo image ${original} is in a part folder`);
  const source = join(demo, part, `${original}.jpg`);
  const { width } = await sharp(source).metadata();
  await sharp(source).resize(Math.round(width * 0.6)).jpeg({ quality: 70 }).toFile(join(demo, part, `${COPY_ID}.jpg`));
  row[columns.indexOf('image_id')] = COPY_ID;
  row[columns.indexOf('lesion_id')] = COPY_LESION;
  appendFileSync(metadata, `${row.join(',')}\n`);
  return original;
}

/** The Near-duplicates section: each shown pair's two image ids, splits and whether both thumbnails are drawn. */
async function shownPairs(panel) {
  return panel.locator('[data-testid="near-duplicate-pair"]').evaluateAll((pairs) => pairs.map((p) => ({
    ids: [...p.querySelectorAll('figcaption .mono')].map((e) => e.textContent),
    splits: [...p.querySelectorAll('.split-tag')].map((e) => e.textContent),
    drawn: [...p.querySelectorAll('img')].filter((img) => img.complete && img.naturalWidth > 0).length,
  })));
}

export async function run(t) {
  const { page, workspace } = t;
  await openViewContainer(page, 'Lesion Lab');
  const sidebar = await sidebarFrame(page);
  await waitForText(sidebar, /No prepared dataset/, 60_000);

  // 1. Demo data, through the palette and its quick pick.
  await runCommand(page, 'Lesion Lab: Create Demo Dataset…');
  const pick = await waitForQuickPick(page);
  assert.match(pick.title, /demo dataset/i, 'the quick pick explains what it creates');
  assert.ok(pick.rows.some((r) => /^Small/.test(r)), `a Small option: ${pick.rows.join(' | ')}`);
  await pickQuickPickItem(page, 'Small');

  // 2. The completion notification offers the next step; before taking it, the near-duplicate goes in.
  await waitFor(async () => (await notifications(page)).some((n) => /Demo dataset written to demo-data/.test(n)), 'the demo data to be written', 180_000);
  assert.ok(existsSync(join(workspace, 'demo-data', 'HAM10000_metadata.csv')), 'demo data in <workspace>/demo-data');
  const original = await addNearDuplicate(join(workspace, 'demo-data'));
  await clickNotificationAction(page, /Demo dataset written to demo-data/, 'Prepare Dataset…', 30_000);

  // 3. Prepare opens the Dataset panel when it is done.
  const panel = await panelFrame(page, 'Dataset', 180_000);
  const summary = preparedSummary(workspace);
  const total = totals(summary);
  assert.equal(total.all, 351, 'the small demo dataset has 350 images, and the test added one copy');
  await waitForText(panel, `${total.all} images`);

  const shown = await perClassCounts(panel);
  assert.deepEqual(Object.keys(shown), LESION_CLASSES, 'the per-class table lists the seven classes in order');
  for (const c of summary.classes) {
    assert.deepEqual(shown[c.name], [c.all.images, c.all.lesions, c.train.images, c.val.images],
      `${c.name}: images, lesions, train, val as in manifest.json`);
  }
  const footer = (await tableRows(panel, 'table.data tfoot tr'))[0];
  assert.deepEqual([footer[0], Number(footer[1]), Number(footer[4]), Number(footer[5])], ['all', total.all, total.train, total.val], 'the totals row');

  const facts = await tableRows(panel, '.facts dl'); // one "row" of dt/dd texts
  const split = facts[0][facts[0].indexOf('Split') + 1];
  assert.match(split, /^lesion\b/, `the split says lesion: "${split}"`);
  await waitForText(panel, 'Split by lesion: no lesion has images in both train and val.');
  await waitForText(panel, 'No files were excluded.');
  await assertChartDrawn(panel, 'dark theme');
  await assertChartTextReadable(panel, 'dark theme');

  // The near-duplicates: the statement, and the pairs side by side with their thumbnails.
  const nd = summary.nearDuplicates;
  assert.ok(nd && nd.mode === 'group' && nd.distance === 4, `the manifest's summary records the near-duplicate check: ${JSON.stringify(nd && { ...nd, shown: undefined })}`);
  assert.equal(nd.crossSplit, 0, 'grouped: no pair across train and val');
  const section = await waitForText(panel.locator('[data-testid="near-duplicates"]'), new RegExp(`^${nd.pairs} pair\\(s\\) of images from different groups within 4 bits of 64`));
  assert.match(section, /grouped: \d+ group\(s\) joined so each cluster sits on one side/);
  const pairs = await waitFor(async () => {
    const list = await shownPairs(panel);
    return list.length === nd.shown.length && list.every((p) => p.drawn === 2) ? list : undefined;
  }, `${nd.shown.length} pairs, each with both thumbnails drawn`, 60_000);
  const ours = pairs.find((p) => [...p.ids].sort().join() === [original, COPY_ID].sort().join());
  assert.ok(ours, `the copy and its original are listed as a pair: ${JSON.stringify(pairs)}`);
  assert.equal(ours.splits[0], ours.splits[1], 'the copy and its original are in one split');

  // 4. The Training view now summarises the dataset and lets a run start.
  const sidebarText = await waitForText(sidebar, `${total.train} train · ${total.val} val`, 30_000);
  assert.match(sidebarText, /split by lesion/, 'the Training view names the split');
  const startDisabled = await sidebar.locator('section[aria-label="Run"] vscode-button', { hasText: 'Start' }).getAttribute('disabled');
  assert.equal(startDisabled, null, 'Start is enabled once a dataset is prepared');

  const toasts = await notifications(page);
  assert.ok(!toasts.some((n) => /error|failed/i.test(n)), `no error notification: ${toasts.join(' | ')}`);
  await clearNotifications(page);
  await t.screenshot(page, 'window-dark');
  await t.screenshot(panel, 'dataset-panel-dark');
  await setEditorGroupMaximized(page, true);
  await screenshotWholePanel(t, await panelFrame(page, 'Dataset'), 'dataset-panel-whole-dark');
  await setEditorGroupMaximized(page, false);
  await t.screenshot(sidebar, 'training-view-dark');

  // 5. The same panel in a light theme, switched the way a person does it.
  await switchColorTheme(page, 'Light Modern');
  const lightPanel = await panelFrame(page, 'Dataset');
  await waitForWebviewTheme(lightPanel, 'light');
  await assertChartDrawn(lightPanel, 'light theme');
  await t.screenshot(page, 'window-light');
  await t.screenshot(lightPanel, 'dataset-panel-light');
  await setEditorGroupMaximized(page, true);
  await screenshotWholePanel(t, await panelFrame(page, 'Dataset'), 'dataset-panel-whole-light');
  await setEditorGroupMaximized(page, false);
  await t.screenshot(await sidebarFrame(page), 'training-view-light');
  // Last, so that the pictures above exist even when it fails.
  await assertChartTextReadable(lightPanel, 'light theme, after switching');
}
