// A clinic's export: photos in a folder per patient and a spreadsheet saying what each shows (issue 19).
// The folders could be classes, so Prepare first asks where the classes come from; then, since it cannot
// know which column holds what, three short quick picks — each column shown with its first values, the
// likely one first. The Dataset panel then shows the spreadsheet's classes, split by patient.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { panelFrame, preparedSummary, sidebarFrame } from '../lib/lesionLab.mjs';
import { openViewContainer, runCommand, waitForText } from '../lib/vscode.mjs';
import { chooseFolderInDialog, pickQuickPickItem, tableRows, waitForQuickPick } from '../lib/workbench.mjs';

export const title = 'Prepare on photos + a spreadsheet: quick picks for the image, label and group columns; the Dataset panel shows its classes, split by patient';
export const timeoutMs = 180_000;

export async function setupWorkspace(dir) {
  const rows = ['Photo,Finding,Patient,Comment'];
  for (let p = 0; p < 8; p++) {
    for (let i = 0; i < 3; i++) {
      const folder = join(dir, 'clinic-export', `patient${p}`);
      mkdirSync(folder, { recursive: true });
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40 * i, g: 20 * p, b: 120 } } }).jpeg().toFile(join(folder, `IMG_000${i}.jpg`));
      rows.push(`patient${p}/IMG_000${i}.jpg,${['naevus', 'seborrhoeic keratosis', 'melanoma'][(p + i) % 3]},PT-${p},"seen, ${i}"`);
    }
  }
  writeFileSync(join(dir, 'clinic-export', 'findings.csv'), rows.join('\n') + '\n');
}

export async function run(t) {
  const { page, workspace } = t;
  await openViewContainer(page, 'Lesion Lab');
  await waitForText(await sidebarFrame(page), /No prepared dataset/, 60_000);
  await runCommand(page, 'Lesion Lab: Prepare Dataset…');
  await chooseFolderInDialog(page, join(workspace, 'clinic-export'));

  // The patient folders could be read as classes: Lesion Lab asks where the classes come from.
  let pick = await waitForQuickPick(page, 60_000);
  assert.match(pick.title, /where do the classes come from/, pick.title);
  assert.match(pick.rows[0], /^The folder names\s*patient0, patient1/, pick.rows.join(' | '));
  assert.match(pick.rows[1], /^A column of findings\.csv\s*Photo, Finding, Patient, Comment/, pick.rows.join(' | '));
  await t.screenshot(page, 'classes-from-pick');
  await pickQuickPickItem(page, 'A column of findings.csv');

  // 1/3: the image column. Every column is offered with its first values; the one holding file names first.
  pick = await waitForQuickPick(page);
  assert.match(pick.title, /read findings\.csv \(1\/3\)/, pick.title);
  assert.match(pick.rows[0], /^Photo\s*likely\s*patient0\/IMG_0000\.jpg, patient0\/IMG_0001\.jpg/, `the likely image column first, with a preview: ${pick.rows[0]}`);
  assert.equal(pick.rows.length, 4, `one row per column: ${pick.rows.join(' | ')}`);
  await t.screenshot(page, 'image-column-pick');
  await pickQuickPickItem(page, 'Photo');

  // 2/3: the label column ("Finding" is no name Lesion Lab knows, so no guess: the person picks it).
  pick = await waitForQuickPick(page);
  assert.match(pick.title, /\(2\/3\)/);
  assert.ok(!pick.rows.some((r) => /^Photo/.test(r)), 'the image column is not offered again');
  assert.ok(pick.rows.some((r) => /^Finding\s*naevus, seborrhoeic keratosis, melanoma/.test(r)), pick.rows.join(' | '));
  await pickQuickPickItem(page, 'Finding');

  // 3/3: the group column, with "none" offered and its consequence said.
  pick = await waitForQuickPick(page);
  assert.match(pick.title, /\(3\/3\)/);
  assert.match(pick.rows[0], /^Patient\s*likely/, `the likely group column first: ${pick.rows.join(' | ')}`);
  assert.ok(pick.rows.some((r) => /^No group column.*leakage cannot be ruled out/s.test(r)), pick.rows.join(' | '));
  await pickQuickPickItem(page, 'Patient');

  const panel = await panelFrame(page, 'Dataset', 120_000);
  const summary = preparedSummary(workspace);
  assert.equal(summary.layout, 'csv');
  assert.deepEqual(summary.classes.map((c) => c.name), ['melanoma', 'naevus', 'seborrhoeic keratosis']);
  assert.deepEqual(summary.grouping, { column: 'Patient', noun: 'patient', ungrouped: 0 });
  const rows = await tableRows(panel, 'table.data tbody tr');
  assert.deepEqual(rows.map((r) => r[0]), ['melanoma', 'naevus', 'seborrhoeic keratosis']);
  const head = (await tableRows(panel, 'table.data thead tr'))[0];
  assert.deepEqual(head.slice(0, 4), ['class', 'images', 'patients', 'images/patient']);
  await waitForText(panel, 'Split by patient (Patient): no patient has images in both train and val.');
  await t.screenshot(panel, 'dataset-panel-dark');
}
