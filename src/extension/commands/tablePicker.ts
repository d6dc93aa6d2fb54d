/**
 * Prepare on a folder whose layout the backend does not recognise by itself but that holds a table:
 * three short quick picks — the image column, the label column, the group column (or none) — each column
 * shown with its first values, so a person sees which one holds what.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import type { InspectedTable } from '../../shared/protocol/backend';
import type { TableSpec } from '../../shared/protocol/jobs';

interface ColumnItem extends vscode.QuickPickItem {
  column?: string;
}

/** The first values of a column, for a person to recognise it: "ISIC_0000001, ISIC_0000002, … (5 rows)". */
function preview(table: InspectedTable, column: string): string {
  const i = table.columns.indexOf(column);
  const values = table.rows.map((r) => r[i] ?? '').filter((v) => v !== '');
  return values.length ? values.slice(0, 4).join(', ') + (values.length > 4 ? ', …' : '') : '(empty in the first rows)';
}

async function pickColumn(table: InspectedTable, step: number, question: string, guess: string | undefined, taken: readonly string[], none?: ColumnItem): Promise<ColumnItem | undefined> {
  const columns = table.columns.filter((c) => !taken.includes(c));
  // The guess first, so that Enter accepts it.
  const ordered = guess && columns.includes(guess) ? [guess, ...columns.filter((c) => c !== guess)] : columns;
  const items: ColumnItem[] = ordered.map((c) => ({ label: c, description: c === guess ? 'likely' : undefined, detail: preview(table, c), column: c }));
  // Without a likely group column, "none" comes first: a wrong group is worse than none.
  const all = !none ? items : guess && columns.includes(guess) ? [...items, none] : [none, ...items];
  return vscode.window.showQuickPick(all, {
    title: `Lesion Lab: read ${path.basename(table.file)} (${step}/3)`,
    placeHolder: question,
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
}

/** Which table, and which of its columns hold the image, the label and the group; undefined when cancelled. */
export async function askTableColumns(data: string, tables: readonly InspectedTable[]): Promise<TableSpec | undefined> {
  let table = tables[0];
  if (tables.length > 1) {
    const picked = await vscode.window.showQuickPick(
      tables.map((t) => ({ label: path.relative(data, t.file), description: `${t.columns.length} columns`, detail: t.columns.join(', '), table: t })),
      { title: 'Lesion Lab: which table describes the images?', ignoreFocusOut: true },
    );
    table = picked?.table;
  }
  if (!table) return undefined;
  const image = await pickColumn(table, 1, 'Which column names each image (its file name, id or path)?', table.guess.image, []);
  if (!image?.column) return undefined;
  const label = await pickColumn(table, 2, 'Which column holds each image’s class (its label)?', table.guess.label, [image.column]);
  if (!label?.column) return undefined;
  const none: ColumnItem = { label: 'No group column', detail: 'Each image is split on its own: images of one lesion or patient may land in both train and val (leakage cannot be ruled out).' };
  const group = await pickColumn(table, 3, 'Which column keeps images together in the split (a lesion or patient id)?', table.guess.group, [image.column, label.column], none);
  if (!group) return undefined;
  return { file: table.file, image: image.column, label: label.column, ...(group.column ? { group: group.column } : {}) };
}
