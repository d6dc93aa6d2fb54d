// The packaged extension, as a user gets it: the linux-x64 .vsix installed by code-server (run.mjs,
// LESION_LAB_E2E_VSIX; skipped without it). It must carry everything it loads — the backend bundle, the
// wasm engine's .wasm files, sharp with this platform's libvips, h5wasm — since nothing outside the
// installed folder can be found from it. Then the first workflow a person goes through, in the UI:
// Create Demo Dataset → Prepare → Augment → a 1-epoch run from the Training view → Evaluate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { augmentThroughUi, panelFrame, preparedSummary, sidebarFrame, totals, trainingFinished } from '../lib/lesionLab.mjs';
import { node24Bin } from '../lib/paths.mjs';
import { notifications, openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { clickNotificationAction, pickQuickPickItem, tableRows } from '../lib/workbench.mjs';

export const title = 'The installed .vsix: engine shown, demo data → prepare → augment → 1-epoch run → evaluate, all from the package';
export const timeoutMs = 420_000;

const RUN_FORM = { Model: 'mobilenetv2', Weights: 'none', Phases: 'finetune', Epochs: '1', Batch: '16', 'Image size': '32', Augmentation: 'none' };
const PLATFORM = `${process.platform}-${process.arch}`;

const field = (sidebar, label) => sidebar.locator('section[aria-label="Run"] label.field').filter({ has: sidebar.locator(`span:text-is("${label}")`) });

/** Fills the Run form as a person does (the same steps as 03-workflow). */
async function fillRunForm(sidebar, values) {
  for (const [label, value] of Object.entries(values)) {
    const select = field(sidebar, label).locator('vscode-single-select');
    if ((await select.count()) > 0) {
      if ((await select.evaluate((el) => el.value)) === value) continue;
      await select.click();
      await select.locator('li[role="option"]', { hasText: new RegExp(`^\\s*${value}\\s*$`) }).click();
    } else {
      const input = field(sidebar, label).locator('vscode-textfield input');
      await input.fill(value);
      await input.press('Tab');
    }
  }
  for (const [label, value] of Object.entries(values)) {
    assert.equal(await field(sidebar, label).locator('vscode-single-select, vscode-textfield').evaluate((el) => el.value), value, `the Run form's ${label}`);
  }
}

/** The installed folder is the package's layout, and resolves its packages from itself only. */
function assertPackagedLayout(t) {
  const dir = t.extension.dir;
  assert.ok(t.extension.vsix, 'run.mjs installed a .vsix (LESION_LAB_E2E_VSIX)');
  assert.ok(!realpathSync(dir).startsWith(t.repoRoot + sep), `the installed extension (${dir}) is outside the checkout`);
  assert.ok(!existsSync(join(dir, 'node_modules')), 'no node_modules beside package.json (the unpacked install symlinks one)');
  const nm = join(dir, 'dist', 'node_modules');
  assert.ok(!lstatSync(nm).isSymbolicLink(), 'dist/node_modules is a real folder');
  assert.deepEqual(readdirSync(join(nm, '@img')).sort(), ['colour', `sharp-${PLATFORM}`, `sharp-libvips-${PLATFORM}`].sort(), 'only this platform\'s sharp binaries');
  assert.deepEqual(readdirSync(join(nm, 'webgpu', 'dist')), [PLATFORM], 'only this platform\'s dawn.node');
  // What Node resolves from the backend bundle is inside the installed folder.
  // (h5wasm is ESM-only: import.meta.resolve, which resolves from the working directory here.)
  const probe = `import { createRequire } from 'node:module'; import { fileURLToPath } from 'node:url';
    const r = createRequire(process.cwd() + '/cli.js');
    console.log([r.resolve('sharp'), r.resolve('webgpu/package.json'), fileURLToPath(import.meta.resolve('h5wasm/node'))].join('\\n'));`;
  const resolved = execFileSync(node24Bin, ['--input-type=module', '-e', probe], { cwd: join(dir, 'dist', 'backend'), encoding: 'utf8' }).trim().split('\n');
  assert.equal(resolved.length, 3, `three packages resolved: ${resolved.join(', ')}`);
  for (const file of resolved) assert.ok(file.startsWith(dir + sep), `${file} resolves inside the installed extension`);
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) assert.ok(existsSync(join(dir, 'dist', 'backend', 'wasm', f)), `dist/backend/wasm/${f}`);
}

/** `lesion-lab engines` run from the installed bundle, on the extension host's Node. */
function enginesFromPackage(dir) {
  const out = execFileSync(node24Bin, [join(dir, 'dist', 'backend', 'cli.js'), 'engines', '--json'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const event = out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'engines/didDetect');
  assert.ok(event, `no engines/didDetect event:\n${out}`);
  return event;
}

/** Command lines of the running processes that execute `file` (Linux /proc). */
function processesRunning(file) {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return '';
    }
  }).filter((cmd) => cmd.includes(file));
}

function newestRun(workspace) {
  const dir = join(workspace, 'runs');
  const runs = existsSync(dir) ? readdirSync(dir).filter((d) => d.endsWith('-mobilenetv2')).sort() : [];
  return runs.length ? join(dir, runs.at(-1)) : undefined;
}

export async function run(t) {
  const { page, workspace } = t;
  assertPackagedLayout(t);
  const detected = enginesFromPackage(t.extension.dir);
  const wasm = detected.engines.find((e) => e.name === 'wasm');
  assert.ok(wasm?.available, `the packaged wasm engine is available: ${JSON.stringify(wasm)}`);

  // 1. The Training view shows the engine the packaged backend selects.
  await openViewContainer(page, 'Lesion Lab');
  let sidebar = await sidebarFrame(page);
  await waitForText(sidebar, new RegExp(`(?<![\\w-])${detected.selected.engine}(?![\\w-])`), 60_000);
  await waitForText(sidebar, /No prepared dataset/, 60_000);
  const backend = join(t.extension.dir, 'dist', 'backend', 'cli.js');
  assert.ok(processesRunning(backend).length > 0, `the extension forked its backend from the package (${backend})`);
  await t.screenshot(page, 'window-installed');

  // 2. Demo data, then Prepare from the notification.
  await runCommand(page, 'Lesion Lab: Create Demo Dataset…');
  await pickQuickPickItem(page, 'Small');
  await clickNotificationAction(page, /Demo dataset written to demo-data/, 'Prepare Dataset…', 180_000);
  await panelFrame(page, 'Dataset', 180_000);
  const dataset = totals(preparedSummary(workspace));
  assert.equal(dataset.all, 350, 'the small demo dataset has 350 images');
  sidebar = await sidebarFrame(page);
  await waitForText(sidebar, `${dataset.train} train · ${dataset.val} val`, 30_000);

  // 2b. Augment the training split (the packaged worker-thread code runs here).
  await augmentThroughUi(page, workspace, 45);

  // 3. One epoch from the Training view's Run form.
  await fillRunForm(sidebar, RUN_FORM);
  await sidebar.locator('section[aria-label="Run"] vscode-button', { hasText: /^\s*Start\s*$/ }).click();
  const runDir = await waitFor(() => newestRun(workspace), 'the run folder under runs/', 60_000);
  let training;
  training = await trainingFinished(page, 'the run to finish', 240_000);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(metrics.map((m) => m.epoch), [1], 'one epoch in metrics.jsonl');
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(config.engine?.engine, detected.selected.engine, 'the run trained on the engine the view showed');
  // The versions come from the bundle (TF.js has no node_modules entry in the package).
  assert.equal(config.engine?.versions?.['@tensorflow/tfjs-core'], '4.22.0', `config.json records the bundled TF.js: ${JSON.stringify(config.engine)}`);

  // 4. Evaluate from the Training panel: the Evaluation panel counts the validation images.
  await training.locator('header vscode-button', { hasText: 'Evaluate' }).click();
  const evaluation = await panelFrame(page, 'Evaluation', 120_000);
  await waitForText(evaluation, new RegExp(`\\b${dataset.val} images\\b`), 60_000);
  const evaluated = JSON.parse(readFileSync(join(runDir, 'evaluation.json'), 'utf8'));
  assert.equal(evaluated.confusion.flat().reduce((a, b) => a + b, 0), dataset.val, 'evaluation.json counts every validation image');
  const rows = await tableRows(evaluation, 'table.confusion tbody tr');
  assert.equal(rows.length, 7, 'a confusion matrix row per class');
  await t.screenshot(evaluation, 'evaluation-panel');

  const toasts = await notifications(page);
  assert.ok(!toasts.some((n) => /error|failed|crash/i.test(n)), `no error notification: ${toasts.join(' | ')}`);
}
