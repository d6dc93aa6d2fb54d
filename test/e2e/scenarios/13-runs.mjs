// Runs and curves (issue 16): three runs the CLI trained are listed in the Runs panel (opened from the side
// bar) with their setups and results; sorted by balanced accuracy; two compared; one renamed and annotated
// (meta.json in its folder); one deleted to the trash (the freedesktop.org trash under XDG_DATA_HOME: code-server
// serves the workbench, so VS Code's own trash is not there). Then the run form's Find button runs the
// learning-rate range test and fills the head's learning rate, and a run started with it shows per-batch
// loss, smoothed, in the Training panel while it trains; its epochs and batches saved as CSV and its loss
// chart as PNG through save dialogs. Every panel is pictured dark and light.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fillRunForm, panelFrame, runCli, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { canvasPaint, clearNotifications, pageOverflow, switchColorTheme, tableRows, waitForWebviewTheme } from '../lib/workbench.mjs';

export const title = 'Runs panel: three runs with setups and results, sort, compare, rename + note, delete to the trash; LR finder fills the form; per-batch smoothed loss while training';
export const timeoutMs = 600_000;

const MODEL = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--engine', 'wasm', '--threads', '1', '--batch', '8'];
// Three runs that differ in their setup (and so in their results).
// Three runs that differ in their setup, and so in their results (measured: about 54%, 25% and 14% balanced accuracy).
const RUNS = {
  'run-a': ['--phase', 'finetune', '--size', '48', '--epochs', '5', '--finetune-lr', '0.003'],
  'run-b': ['--phase', 'finetune', '--size', '32', '--epochs', '4', '--finetune-lr', '0.01', '--optimizer', 'sgd', '--seed', '3'],
  'run-c': ['--phase', 'both', '--size', '32', '--epochs', '1', '--finetune-epochs', '1', '--seed', '2'],
};

export async function setupWorkspace(dir) {
  runCli(repoRoot, ['demo-data', '--out', join(dir, 'data'), '--per-class', '20', '--size', '160'], dir);
  runCli(repoRoot, ['prepare', '--data', join(dir, 'data'), '--out', join(dir, 'prepared')], dir);
  for (const [name, args] of Object.entries(RUNS)) runCli(repoRoot, ['train', '--prepared', join(dir, 'prepared'), '--run', join(dir, 'runs', name), ...MODEL, ...args], dir);
  runCli(repoRoot, ['evaluate', '--run', join(dir, 'runs', 'run-a'), '--engine', 'wasm'], dir);
}

const lines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const pct = (x) => `${(100 * x).toFixed(1)}%`;

/** What the table must say about a run, from its folder: the best checkpoint's validation figures. */
function expectedRow(workspace, name) {
  const dir = join(workspace, 'runs', name);
  const metrics = lines(join(dir, 'metrics.jsonl'));
  const bestEpoch = lines(join(dir, 'events.jsonl')).filter((e) => e.type === 'train/didCheckpoint' && e.kind === 'best').at(-1).epoch;
  const evaluation = existsSync(join(dir, 'evaluation.json')) ? JSON.parse(readFileSync(join(dir, 'evaluation.json'), 'utf8')) : undefined;
  const best = metrics.find((m) => m.epoch === bestEpoch);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  return { dir, config, epochs: metrics.length, bestEpoch, balanced: evaluation ? evaluation.balancedAccuracy : best.valBalancedAccuracy, accuracy: evaluation ? evaluation.accuracy : best.valAccuracy };
}

/** The table as text: one object per row, by column heading. */
async function readTable(panel) {
  const headings = (await panel.locator('table.runs-table thead th').allInnerTexts()).map((t) => t.replace(/[▲▼]/g, '').trim());
  const rows = await tableRows(panel, 'table.runs-table tbody tr');
  return rows.map((cells) => Object.fromEntries(headings.map((h, i) => [h, cells[i]])));
}

const rowOf = (panel, folder) => panel.locator('table.runs-table tbody tr', { has: panel.locator(`.run-title[title$="/runs/${folder}"]`) });

async function inputBox(page, value) {
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 15_000 });
  await box.fill(value);
  await page.keyboard.press('Enter');
  await box.waitFor({ state: 'hidden', timeout: 15_000 });
}

/**
 * code-server's save dialog (VS Code's simple file dialog): type the file's path, wait until the dialog has
 * taken it in (it lists the folder; an Enter before that saves under the default name), press Enter, wait for the file.
 */
async function saveInDialog(page, file) {
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await waitFor(async () => ((await box.isVisible()) && (await box.inputValue()).startsWith('/')) || undefined, 'the save dialog', 30_000);
  await box.fill(file);
  let settled = 0;
  await waitFor(async () => {
    // The dialog can still be loading its default folder and overwrite what was typed (seen in a fresh clone's npm
    // test): type it again.
    if ((await box.inputValue()) !== file) {
      await box.fill(file);
      settled = 0;
      return undefined;
    }
    const ready = (await page.locator('.quick-input-list .monaco-list-row').count()) > 0;
    settled = ready ? settled + 1 : 0;
    return settled >= 3 || undefined;
  }, `the save dialog to show ${file}`, 15_000, 200);
  await box.press('Enter');
  await waitFor(() => existsSync(file) || undefined, `${file} saved`, 30_000);
  await waitFor(async () => !(await box.isVisible()) || undefined, 'the save dialog closed', 10_000);
}

async function assertChartsDrawn(panel, count, what) {
  return waitFor(async () => {
    const all = await canvasPaint(panel);
    return all.length === count && all.every((c) => c.painted > 0.005 && c.colours >= 3) ? all : undefined;
  }, `${count} drawn charts on ${what}`, 30_000);
}

async function picture(t, theme) {
  const { page } = t;
  await clearNotifications(page);
  for (const [command, heading, name, charts] of [['Lesion Lab: Show Runs', 'Runs', 'runs-panel', 1], ['Lesion Lab: Show Training', 'Training', 'training-panel', 3]]) {
    await runCommand(page, command);
    const panel = await panelFrame(page, heading);
    await waitForWebviewTheme(panel, theme);
    await assertChartsDrawn(panel, charts, `the ${heading} panel (${theme})`);
    const wider = await pageOverflow(panel);
    assert.equal(wider, undefined, `the ${heading} panel (${theme}) fits its column: ${wider}`);
    await t.screenshot(panel, `${name}-${theme}`);
  }
  // A panel in a background tab has no page (its context is not retained): bring its tab forward.
  await page.locator('.tab[aria-label^="Lesion Lab: Learning Rate Finder"]').first().click();
  const finder = await panelFrame(page, 'Learning rate finder');
  await waitForWebviewTheme(finder, theme);
  await assertChartsDrawn(finder, 1, `the learning rate finder (${theme})`);
  await t.screenshot(finder, `lr-finder-${theme}`);
  await t.screenshot(await sidebarFrame(page), `sidebar-${theme}`);
  await t.screenshot(page, `window-${theme}`);
}

export async function run(t) {
  const { page, workspace } = t;
  const expected = Object.fromEntries(Object.keys(RUNS).map((name) => [name, expectedRow(workspace, name)]));

  await openViewContainer(page, 'Lesion Lab');
  const sidebar = await sidebarFrame(page);
  // The side bar redraws as its state comes in (engines, weights, runs): a click on a link just replaced is
  // lost, so click until the panel is there.
  const runs = await waitFor(async () => {
    await sidebar.locator('a.all-runs').click({ timeout: 5000 }).catch(() => undefined);
    return panelFrame(page, 'Runs', 5000).catch(() => undefined);
  }, 'the Runs panel opened from the side bar', 90_000, 500);

  // 1. Three rows, each with its setup and its results.
  const table = await waitFor(async () => {
    const rows = await readTable(runs);
    return rows.length === 3 ? rows : undefined;
  }, 'three rows in the runs table', 30_000);
  for (const [name, e] of Object.entries(expected)) {
    const row = table.find((r) => r.Run.startsWith(name));
    assert.ok(row, `a row for ${name}: ${JSON.stringify(table)}`);
    const o = e.config.options;
    assert.equal(row.Model, 'mobilenetv2');
    assert.equal(row.Width, '0.35');
    assert.equal(row.Weights, 'none');
    assert.equal(row.Size, `${o.size} px`);
    assert.equal(row.Batch, '8');
    assert.equal(row.Engine, 'wasm');
    assert.equal(row.Precision, 'float32');
    assert.equal(row.Seed, String(o.seed));
    assert.equal(row.Status, 'finished');
    assert.equal(row.Epochs, String(e.epochs));
    assert.equal(row['Best epoch'], String(e.bestEpoch));
    assert.ok(row['Bal. acc'].startsWith(pct(e.balanced)), `${name}: balanced accuracy ${row['Bal. acc']}, expected ${pct(e.balanced)}`);
    assert.equal(row.Accuracy, pct(e.accuracy));
  }
  assert.equal(table.find((r) => r.Run.startsWith('run-b')).Optimizer, 'sgd');
  assert.equal(table.find((r) => r.Run.startsWith('run-b'))['Learning rate'], '1e-2');
  assert.equal(table.find((r) => r.Run.startsWith('run-c')).Optimizer, 'rmsprop → adam');

  // 2. Sorted by balanced accuracy: best first, then the other way round.
  const byBalanced = async (descending) => {
    const rows = await readTable(runs);
    const values = rows.map((r) => Number.parseFloat(r['Bal. acc']));
    return values.every((v, i) => i === 0 || (descending ? values[i - 1] >= v : values[i - 1] <= v)) ? rows : undefined;
  };
  await runs.locator('button.sort[data-column="balanced"]').click();
  await waitForText(runs.locator('th[aria-sort="descending"]'), 'Bal. acc');
  const descending = await waitFor(() => byBalanced(true), 'rows by balanced accuracy, highest first');
  const best = Object.entries(expected).sort((a, b) => b[1].balanced - a[1].balanced)[0];
  assert.ok(descending[0].Run.startsWith(best[0]) || Number.parseFloat(descending[0]['Bal. acc']) === Number.parseFloat(pct(best[1].balanced)), 'the best run first');
  await runs.locator('button.sort[data-column="balanced"]').click();
  await waitForText(runs.locator('th[aria-sort="ascending"]'), 'Bal. acc');
  await waitFor(() => byBalanced(false), 'rows by balanced accuracy, lowest first');
  assert.notDeepEqual(Object.values(expected).map((e) => e.balanced).sort(), [0, 0, 0], 'the runs have results to sort');

  // 3. Compare two: their balanced accuracy per epoch, overlaid.
  await rowOf(runs, 'run-a').locator('input[type=checkbox]').check();
  await rowOf(runs, 'run-b').locator('input[type=checkbox]').check();
  await runs.locator('vscode-button', { hasText: 'Compare (2)' }).click();
  await waitForText(runs.locator('section.compare h2'), 'Compare 2 runs');
  await assertChartsDrawn(runs, 1, 'the comparison');
  await runs.locator('section.compare select[aria-label="Metric"]').selectOption('valLoss');
  await waitFor(async () => (await runs.locator('section.compare canvas[aria-label="Compared runs: val_loss"]').count()) === 1 || undefined, 'the comparison redrawn for val_loss');
  await assertChartsDrawn(runs, 1, 'the comparison of val_loss');
  await clearNotifications(page);
  await t.screenshot(runs, 'runs-compare');

  // 4. Rename one and add a note: kept in the run's meta.json; config.json untouched.
  const configBefore = readFileSync(join(expected['run-a'].dir, 'config.json'), 'utf8');
  await rowOf(runs, 'run-a').locator('a[data-action="Rename"]').click();
  await inputBox(page, 'baseline 48 px');
  await rowOf(runs, 'run-a').locator('a[data-action="Note"]').click();
  await inputBox(page, 'from scratch; try ImageNet weights next');
  await waitForText(rowOf(runs, 'run-a'), 'from scratch; try ImageNet weights next');
  await waitForText(rowOf(runs, 'run-a').locator('.run-title'), 'baseline 48 px');
  const meta = JSON.parse(readFileSync(join(expected['run-a'].dir, 'meta.json'), 'utf8'));
  assert.deepEqual(meta, { name: 'baseline 48 px', note: 'from scratch; try ImageNet weights next' });
  assert.equal(readFileSync(join(expected['run-a'].dir, 'config.json'), 'utf8'), configBefore, 'config.json is never rewritten');
  await waitForText(sidebar.locator('.runs'), 'baseline 48 px');

  // 5. Delete one: asked first, then gone from the list and in the trash.
  await rowOf(runs, 'run-c').locator('a[data-action="Delete…"]').click();
  const dialog = page.locator('.monaco-dialog-box');
  await waitForText(dialog, 'Delete the run “run-c”?');
  await dialog.locator('.monaco-button', { hasText: 'Move to Trash' }).click();
  await waitFor(async () => (await readTable(runs)).length === 2 || undefined, 'two rows after the delete');
  assert.equal(existsSync(expected['run-c'].dir), false, 'the run folder is gone from runs/');
  const trash = join(t.runDir, 'xdg-data', 'Trash');
  assert.ok(existsSync(join(trash, 'files', 'run-c', 'config.json')), `run-c in ${trash}/files`);
  assert.match(readFileSync(join(trash, 'info', 'run-c.trashinfo'), 'utf8'), new RegExp(`Path=${expected['run-c'].dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  await waitFor(async () => !(await sidebar.locator('.runs').innerText()).includes('run-c') || undefined, 'run-c gone from the side bar');

  // 6. The learning-rate finder fills the head's learning rate from the range test (the head phase trains
  // from cached backbone features: quick).
  await fillRunForm(sidebar, { Model: 'mobilenetv2', Weights: 'none', Phases: 'both', Epochs: '2', Batch: '8', 'Image size': '32', 'Width (MobileNetV2)': '0.35', Engine: 'wasm' });
  const lrBox = sidebar.locator('label.field', { has: sidebar.locator('span:text-is("Head learning rate")') });
  assert.equal(await lrBox.locator('vscode-textfield').evaluate((el) => el.value), '', 'empty before');
  await lrBox.locator('vscode-button', { hasText: 'Find' }).click();
  const found = await waitFor(async () => {
    const v = await lrBox.locator('vscode-textfield').evaluate((el) => el.value);
    return v && Number.isFinite(Number(v)) && Number(v) > 0 ? v : undefined;
  }, 'the head learning rate filled by the range test', 300_000);
  await waitForText(sidebar.locator('[data-testid="lr-note"]'), `Head learning rate ${found} from the range test`);
  const finder = await panelFrame(page, 'Learning rate finder');
  await waitForText(finder.locator('[data-testid="lr-suggested"]'), found);
  await waitForText(finder, 'put into the head learning rate');
  await assertChartsDrawn(finder, 1, 'the learning rate finder');

  // 7. A run with it: the Training panel draws per-batch loss, smoothed, as the batches come, before
  // their epoch has finished (the fine-tuning epochs take seconds each).
  await sidebar.locator('vscode-button', { hasText: /^\s*Start\s*$/ }).click();
  const training = await panelFrame(page, 'Training', 60_000);
  const lossFrame = training.locator('figure[data-chart="Loss"]');
  const batchesPerEpoch = Math.ceil(expected['run-a'].config.dataset.train / 8);
  await waitFor(async () => {
    if (!(await training.locator('.status-running').count())) return undefined;
    const batches = Number(await lossFrame.getAttribute('data-batches').catch(() => null));
    const epochRows = await training.locator('table.data tbody tr').count();
    // More batches drawn than the finished epochs hold: the epoch under way is on the chart already.
    return batches > epochRows * batchesPerEpoch && batches % batchesPerEpoch !== 0 ? true : undefined;
  }, 'per-batch points of the epoch under way on the loss chart', 240_000, 100);
  await waitFor(async () => Number(await lossFrame.getAttribute('data-batches')) >= 5 || undefined, 'several batches drawn', 60_000);
  assert.equal(await lossFrame.getAttribute('data-smoothing'), '0.6', 'TensorBoard’s default smoothing');
  const canvas = lossFrame.locator('canvas');
  const before = await canvas.evaluate((c) => c.toDataURL());
  await training.locator('input#smoothing').evaluate((el) => {
    el.value = '0.95';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await waitFor(async () => (await lossFrame.getAttribute('data-smoothing')) === '0.95' || undefined, 'the smoothing slider applied');
  // The canvas is repainted on the next animation frame after the attribute changes: poll for it.
  await waitFor(async () => (await canvas.evaluate((c) => c.toDataURL())) !== before || undefined, 'the smoothed curve to be redrawn', 10_000);
  await clearNotifications(page);
  await t.screenshot(training, 'training-live');
  const runDir = await waitFor(() => {
    const dirs = readdirSync(join(workspace, 'runs')).filter((d) => d.endsWith('-mobilenetv2'));
    return dirs.length ? join(workspace, 'runs', dirs[0]) : undefined;
  }, 'the new run folder');
  await waitFor(async () => (await training.locator('.status-finished').count()) > 0 || undefined, 'the run to finish', 240_000);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).options.lr, Number(found), 'the run trained with the learning rate the finder put in the form');
  assert.equal(lines(join(runDir, 'batches.jsonl')).length, Number(await lossFrame.getAttribute('data-batches')), 'every batch of batches.jsonl drawn');

  // 7b. Exports through the host's save dialogs: the epochs as CSV, every batch as CSV, the loss chart as PNG.
  const epochsCsv = join(workspace, 'epochs.csv');
  await training.locator('vscode-button', { hasText: 'Save epochs as CSV…' }).click();
  await saveInDialog(page, epochsCsv);
  const csv = readFileSync(epochsCsv, 'utf8').trim().split('\n');
  assert.match(csv[0], /^epoch,phase,step,loss,/);
  assert.equal(csv.length - 1, lines(join(runDir, 'metrics.jsonl')).length, 'a row per epoch of metrics.jsonl');
  const batchesCsv = join(workspace, 'batches.csv');
  await training.locator('vscode-button', { hasText: 'Save batches as CSV…' }).click();
  await saveInDialog(page, batchesCsv);
  assert.equal(readFileSync(batchesCsv, 'utf8').trim().split('\n').length - 1, lines(join(runDir, 'batches.jsonl')).length, 'a row per batch of batches.jsonl');
  const png = join(workspace, 'loss.png');
  await lossFrame.locator('a', { hasText: 'Save PNG…' }).click();
  await saveInDialog(page, png);
  const bytes = readFileSync(png);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
  assert.ok(bytes.length > 5000, `the chart drawn in it (${bytes.length} bytes)`);

  // 8. Every panel, dark then light.
  await picture(t, 'dark');
  await switchColorTheme(page, 'Light Modern');
  await picture(t, 'light');
}
