// Restricted Mode (workspace trust): a folder that is not trusted opens with Lesion Lab's views working —
// the dataset, the runs, the Training panel of a run the CLI trained — while every command that would
// write to the workspace or run a job refuses with a message saying why and how to trust the folder,
// the Run form's buttons are off, and nothing in the folder changes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { panelFrame, sidebarFrame } from '../lib/lesionLab.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { notifications, openViewContainer, runCommand, waitFor, waitForText } from '../lib/vscode.mjs';
import { clearNotifications, tableRows } from '../lib/workbench.mjs';

export const title = 'Restricted Mode: viewing works (dataset, runs, Training panel); writing commands are refused with a message and nothing is written';
export const timeoutMs = 300_000;

// Trust on, the folder never trusted, and no start-up dialog: the window opens in Restricted Mode.
export const settings = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.untrustedFiles': 'open',
};

const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'backend', 'cli.js'), ...args], { stdio: 'pipe' });

export async function setupWorkspace(dir) {
  cli('demo-data', '--out', join(dir, 'demo-data'), '--per-class', '6', '--size', '64');
  // The default folders (lesionLab.preparedFolder, lesionLab.runsFolder), so the views find them unasked.
  cli('prepare', '--data', join(dir, 'demo-data'), '--out', join(dir, 'prepared'));
  cli('train', '--prepared', join(dir, 'prepared'), '--run', join(dir, 'runs', 'cli-run'), '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none',
    '--size', '32', '--batch', '8', '--phase', 'head', '--epochs', '1', '--engine', 'wasm');
}

/** Every path under `root` with its size and modification time: changes if anything is written. */
function fingerprint(root) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(`${relative(root, p)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.join('\n');
}

/** Commands that write into the workspace or run a job, and the action their refusal names. */
const WRITING = [
  ['Lesion Lab: Create Demo Dataset…', 'Creating demo data'],
  ['Lesion Lab: Download Dataset…', 'Downloading'],
  ['Lesion Lab: Prepare Dataset…', 'Preparing a dataset'],
  ['Lesion Lab: Augment…', 'Augmenting'],
  ['Lesion Lab: Train…', 'Training'],
  ['Lesion Lab: Evaluate', 'Evaluating'],
  ['Lesion Lab: Export Model…', 'Exporting a model'],
  ['Lesion Lab: Install GPU Engine…', 'Installing an engine'],
];

export async function run(t) {
  const { page, workspace } = t;
  const before = fingerprint(workspace);

  // The workbench itself says so.
  await page.locator('.statusbar-item', { hasText: /Restricted Mode/i }).first().waitFor({ timeout: 60_000 })
    .catch((err) => { err.message = `the window is not in Restricted Mode: ${err.message}`; throw err; });

  await openViewContainer(page, 'Lesion Lab');
  const sidebar = await sidebarFrame(page);
  await waitForText(sidebar, /Untrusted workspace: viewing only/);
  // Viewing: the prepared dataset and the CLI's run are listed.
  await waitForText(sidebar, /cli-run/);
  await waitFor(async () => (await sidebar.locator('section[aria-label="Dataset"]').innerText()).match(/\d+ train · \d+ val/), 'the dataset summary in the side bar', 60_000)
    .catch(async (err) => { err.message += `: ${await sidebar.locator('body').innerText()}`; throw err; });
  // Acting: the Run form's Start and the dataset buttons are off.
  const disabled = async (label) => sidebar.locator('vscode-button', { hasText: new RegExp(`^\\s*${label}\\s*$`) }).first().evaluate((b) => b.hasAttribute('disabled') || b.disabled === true);
  for (const label of ['Start', 'Augment…', 'Prepare Again…']) assert.equal(await disabled(label), true, `"${label}" is disabled in Restricted Mode`);
  assert.equal(await sidebar.locator('.runs a', { hasText: 'Export…' }).count(), 0, 'no Export… beside the runs in Restricted Mode');
  await t.screenshot(page, 'window');
  await t.screenshot(sidebar, 'training-view');

  // The Dataset panel shows the prepared split.
  await runCommand(page, 'Lesion Lab: Show Dataset');
  const dataset = await panelFrame(page, 'Dataset');
  await waitFor(async () => (await tableRows(dataset, 'table tbody tr')).length >= 7, 'the per-class table on the Dataset panel', 60_000);
  // The Training panel shows the run the CLI trained (opened from the side bar's list).
  await sidebar.locator('a', { hasText: 'cli-run' }).first().click();
  const training = await panelFrame(page, 'Training');
  await waitForText(training, 'finished', 60_000);
  await t.screenshot(training, 'training-panel');

  // Every writing command refuses, saying why and what to do.
  for (const [command, action] of WRITING) {
    await clearNotifications(page);
    await runCommand(page, command);
    const said = await waitFor(async () => (await notifications(page)).find((n) => n.includes(`${action} is disabled in an untrusted workspace`)),
      `"${command}" to refuse with a message`, 30_000)
      .catch(async (err) => { err.message += `; notifications: ${JSON.stringify(await notifications(page))}`; throw err; });
    assert.match(said, /Trust the folder to train, prepare or download/);
    assert.match(said, /Manage Workspace Trust/, 'the refusal offers the way to trust the folder');
    // Nothing started: no job in the side bar.
    assert.equal(await sidebar.locator('section[aria-label="Current job"]').count(), 0, `${command} started a job`);
  }
  await t.screenshot(page, 'refused');
  await clearNotifications(page);
  assert.equal(fingerprint(workspace), before, 'nothing in the workspace was written or changed');
}
