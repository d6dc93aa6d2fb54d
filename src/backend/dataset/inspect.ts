/**
 * `lesion-lab inspect-dataset`: which layout prepare would read in a folder, decided the way prepare
 * decides it, without reading any image. Where it recognises nothing but tables — or class folders beside
 * a table that names the images — it lists the tables' columns and first rows, so that the extension can
 * ask where the classes come from and which column holds what.
 */
import path from 'node:path';
import { assertNever } from '../../shared/assertNever';
import type { InspectedTable } from '../../shared/protocol/backend';
import { UserError } from '../errors';
import type { JobContext } from '../job';
import type { CsvTable } from './csv';
import { displayPath, scanDataFolder } from './folderScan';
import { readTable } from './metadataReaders';
import type { DetectedLayout } from './layouts';
import { detectLayout } from './layouts';
import { guessColumns, previewRows } from './tableLayout';

const PREVIEW_ROWS = 5;

export async function inspectDataset(data: string, ctx: JobContext): Promise<void> {
  const root = path.resolve(data);
  const scan = await scanDataFolder(root, ctx.signal);
  let detected: DetectedLayout;
  try {
    detected = await detectLayout(scan, ctx.signal);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    ctx.emit({ type: 'dataset/didInspect', data: root, problem: err.message, tables: [] });
    return;
  }
  if (detected.kind === 'folders') {
    // Class folders beside a table that names the images: the folders may be patients or visits, and the
    // table may hold the labels. Prepare reads the folders (and groups by the table); the extension asks.
    const naming = await namingTables(scan.tables);
    ctx.emit({ type: 'dataset/didInspect', data: root, layout: describeLayout(root, detected), tables: naming.map(inspected) });
    return;
  }
  if (detected.kind !== 'none') {
    ctx.emit({ type: 'dataset/didInspect', data: root, layout: describeLayout(root, detected), tables: [] });
    return;
  }
  const tables: InspectedTable[] = detected.tables.filter((t) => t.table.header.length >= 2).map(inspected);
  ctx.emit({
    type: 'dataset/didInspect',
    data: root,
    ...(tables.length === 0 ? { problem: `No dataset found in ${root}: no class folders with images, no table with at least two columns, no HAM10000 or ISIC file.` } : {}),
    tables,
  });
}

function inspected(t: { file: string; table: CsvTable }): InspectedTable {
  return { file: t.file, columns: t.table.header, rows: previewRows(t.table, PREVIEW_ROWS), guess: guessColumns(t.table) };
}

async function namingTables(files: readonly string[]): Promise<{ file: string; table: CsvTable }[]> {
  const out: { file: string; table: CsvTable }[] = [];
  for (const file of files) {
    const table = await readTable(file);
    if (table.header.length >= 2 && guessColumns(table).image !== undefined) out.push({ file, table });
  }
  return out;
}

function describeLayout(root: string, d: Exclude<DetectedLayout, { kind: 'none' }>): string {
  switch (d.kind) {
    case 'ham':
      return `HAM10000 (${displayPath(root, d.metadata)})`;
    case 'isic2019':
      return `ISIC 2019 Task 1 (${displayPath(root, d.groundTruth)})`;
    case 'isic2018':
      return `ISIC 2018 Task 3 (${displayPath(root, d.groundTruth)})`;
    case 'isic2018-test':
      return `ISIC 2018 Task 3 test set (${displayPath(root, d.groundTruth)})`;
    case 'isic2020':
      return `ISIC 2020 (${displayPath(root, d.groundTruth)})`;
    case 'folders':
      return `a folder per class: ${[...d.tree.classes.keys()].join(', ')}`;
    case 'table':
      return `a table (${displayPath(root, d.file)})`;
    default:
      return assertNever(d, 'layout');
  }
}
