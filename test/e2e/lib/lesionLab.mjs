// Lesion Lab specifics shared by the scenarios: where its views are, what the backend wrote to disk,
// and running the backend CLI the way the extension host does (on code-server's Node 24).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { node24Bin } from './paths.mjs';
import { findWebviewFrame, notifications, openViewContainer, runCommand, textOf, waitFor, waitForText } from './vscode.mjs';
import { chooseFolderInDialog, clearNotifications } from './workbench.mjs';

export const LESION_CLASSES = ['akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc'];

/** The Training view in the side bar (its Run section is unique to it). */
export function sidebarFrame(page, timeout = 60_000) {
  return findWebviewFrame(page, { selector: 'section[aria-label="Run"]' }, timeout);
}

/** A Lesion Lab panel by the heading it shows ("Dataset", "Training", "Evaluation"). */
export function panelFrame(page, heading, timeout = 60_000) {
  return findWebviewFrame(page, { selector: `header.panel-header h1:text-is("${heading}")` }, timeout);
}

/**
 * Waits until the Training panel says the run finished and returns the panel's frame (found again each time:
 * the panel can be recreated); a failed or cancelled run throws with the notifications shown.
 */
export async function trainingFinished(page, what = 'the run to finish', timeout = 300_000) {
  let training;
  await waitFor(async () => {
    training = await panelFrame(page, 'Training');
    const status = (await training.locator('header .status').innerText()).trim();
    if (status === 'failed' || status === 'cancelled') throw new Error(`the run ${status}: ${(await notifications(page)).join(' | ')}`);
    return status === 'finished';
  }, what, timeout);
  return training;
}

/** Runs `lesion-lab <args>` from the installed extension; returns its JSON events. */
export function runCli(extensionDir, args, cwd) {
  const out = execFileSync(node24Bin, [join(extensionDir, 'dist', 'backend', 'cli.js'), ...args, '--json'], {
    cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' },
  });
  const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const end = events.find((e) => e.type === 'job/didEnd');
  assert.equal(end?.status, 'done', `lesion-lab ${args.join(' ')} did not finish:\n${out.slice(-2000)}`);
  return events;
}

/** The summary `prepare` wrote to <workspace>/prepared/manifest.json. */
export function preparedSummary(workspace) {
  return JSON.parse(readFileSync(join(workspace, 'prepared', 'manifest.json'), 'utf8')).summary;
}

export const totals = (summary) => ({
  train: summary.classes.reduce((a, c) => a + c.train.images, 0),
  val: summary.classes.reduce((a, c) => a + c.val.images, 0),
  all: summary.classes.reduce((a, c) => a + c.all.images, 0),
});

/**
 * "Lesion Lab: Augment…" through its input box: writes aug/<dx>/ until each class but nv has `target`
 * images, then checks that the Training view and the manifest count the augmented images.
 */
export async function augmentThroughUi(page, workspace, target, timeout = 180_000) {
  const box = page.locator('.quick-input-widget input');
  // A panel that opens late (the Dataset panel after Prepare, under load) can take the focus and close the input
  // box as it appears: then ask again.
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, 'Lesion Lab: Augment…');
    try {
      await box.waitFor({ state: 'visible', timeout: 8_000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  await box.fill(String(target));
  await page.keyboard.press('Enter');
  const summary = await waitFor(() => {
    try {
      const s = preparedSummary(workspace);
      return s.classes.some((c) => (c.augmented ?? 0) > 0) ? s : undefined;
    } catch {
      return undefined;
    }
  }, 'augment to record augmented images in manifest.json', timeout);
  for (const c of summary.classes) {
    const expected = c.name === 'nv' ? 0 : Math.max(0, target - c.train.images);
    assert.equal(c.augmented ?? 0, expected, `${c.name}: ${expected} augmented images for a target of ${target}`);
  }
  const written = summary.classes.reduce((a, c) => a + (c.augmented ?? 0), 0);
  await waitForText(await sidebarFrame(page), `· ${written} augmented`, 60_000);
  return written;
}

const field = (sidebar, label) => sidebar.locator('section[aria-label="Run"] label.field').filter({ has: sidebar.locator(`span:text-is("${label}")`) });

/**
 * Fills the Run form the way a person does: open each drop-down and click, type into each box. The
 * view re-renders from its own form state whenever the host sends a snapshot, and a box replaced
 * between typing and leaving it loses what was typed: so each field is checked and, if lost, set again.
 */
export async function fillRunForm(sidebar, values) {
  const shown = (label) => field(sidebar, label).locator('vscode-single-select, vscode-textfield').evaluate((el) => el.value);
  for (const [label, value] of Object.entries(values)) {
    await waitFor(async () => {
      if (!(await field(sidebar, label).isVisible())) {
        // A field under "More options": open that section by its title.
        await sidebar.locator('section[aria-label="Run"] vscode-collapsible').click({ position: { x: 24, y: 10 } });
        await field(sidebar, label).waitFor({ state: 'visible', timeout: 5000 });
      }
      if ((await shown(label)) === value) return true;
      const select = field(sidebar, label).locator('vscode-single-select');
      if ((await select.count()) > 0) {
        await select.click();
        await select.locator('li[role="option"]', { hasText: new RegExp(`^\\s*${value}\\s*$`) }).click({ timeout: 5000 });
      } else {
        const input = field(sidebar, label).locator('vscode-textfield input');
        await input.fill(value);
        await input.press('Tab'); // the form reads the value on change, which fires on blur
      }
      await sidebar.page().waitForTimeout(300); // a snapshot arriving now would re-render the field
      return (await shown(label)) === value;
    }, `the Run form's ${label} to be ${value}`, 30_000);
  }
  // What the view shows now is what Start sends.
  for (const [label, value] of Object.entries(values)) assert.equal(await shown(label), value, `the Run form's ${label}`);
}

/**
 * A person's first step: open the Lesion Lab side bar (no dataset yet), run *Prepare Dataset…* from the
 * palette and choose `folder` in the file dialog. Returns the Dataset panel prepare opens when it is done.
 */
export async function prepareThroughUi(page, folder, timeout = 120_000) {
  await openViewContainer(page, 'Lesion Lab');
  await waitForText(await sidebarFrame(page), /No prepared dataset/, 60_000);
  await runCommand(page, 'Lesion Lab: Prepare Dataset…');
  await chooseFolderInDialog(page, folder);
  return panelFrame(page, 'Dataset', timeout);
}

/**
 * Classify Lesion on an image the way a person does: open it with Quick Open, run the command, answer a
 * file dialog if one comes up. Returns the Prediction panel's frame once it shows the class probabilities.
 */
export async function classifyImage(page, image, timeout = 180_000) {
  await clearNotifications(page);
  // Quick Open: the palette without its ">" prefix.
  await runCommand(page, 'Go to File...');
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.fill(image.split('/').slice(-3).join('/'));
  // File search answers after a moment; pick the row that names the file.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: image.split('/').at(-1) }).first().click({ timeout: 20_000 });
  await page.locator(`.tabs-container .tab.active[data-resource-name="${image.split('/').at(-1)}"]`).waitFor({ timeout: 10_000 });

  await runCommand(page, 'Lesion Lab: Classify Lesion');
  const outcome = await waitFor(async () => {
    if (await page.locator('.quick-input-widget').isVisible()) return 'dialog';
    return (await predictionFrame(page)) ? 'panel' : undefined;
  }, 'Classify Lesion to answer', 60_000).catch(async (err) => {
    err.message += `; notifications: ${JSON.stringify(await notifications(page))}`;
    throw err;
  });
  if (outcome === 'dialog') {
    const boxValue = await box.inputValue();
    assert.ok(boxValue.startsWith('/'), `Classify Lesion opened a quick input that is not a file dialog: "${boxValue}"`);
    await box.fill(image);
    await page.keyboard.press('Enter');
  }
  const panel = await waitFor(() => predictionFrame(page), 'the Prediction panel', timeout);
  await waitFor(async () => {
    if (/Classifying…/.test(await textOf(panel))) return undefined;
    return (await panel.locator('[aria-label="Class probabilities"] [role="listitem"]').count()) > 0;
  }, 'the class probabilities', timeout);
  return panel;
}

/** The Prediction panel's frame: a Lesion Lab panel other than Dataset, Training and Evaluation. */
export async function predictionFrame(page) {
  for (const frame of page.frames()) {
    if (frame.isDetached() || frame === page.mainFrame()) continue;
    const heading = await frame.locator('header.panel-header h1').first().innerText({ timeout: 500 }).catch(() => undefined);
    if (heading === undefined || /^(Dataset|Training|Evaluation)$/.test(heading.trim())) continue;
    return frame;
  }
  return undefined;
}
