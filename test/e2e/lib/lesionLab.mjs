// Lesion Lab specifics shared by the scenarios: where its views are, what the backend wrote to disk,
// and running the backend CLI the way the extension host does (on code-server's Node 24).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { node24Bin } from './paths.mjs';
import { findWebviewFrame } from './vscode.mjs';

export const LESION_CLASSES = ['akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc'];

/** The Training view in the side bar (its Run section is unique to it). */
export function sidebarFrame(page, timeout = 60_000) {
  return findWebviewFrame(page, { selector: 'section[aria-label="Run"]' }, timeout);
}

/** A Lesion Lab panel by the heading it shows ("Dataset", "Training", "Evaluation"). */
export function panelFrame(page, heading, timeout = 60_000) {
  return findWebviewFrame(page, { selector: `header.panel-header h1:text-is("${heading}")` }, timeout);
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
  const { runCommand, waitFor, waitForText } = await import('./vscode.mjs');
  await runCommand(page, 'Lesion Lab: Augment…');
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 15_000 });
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
