/**
 * Datasets described by a table of image, label and (optionally) group columns: ISIC 2020's ground truth
 * and any CSV of the user's. The images are wherever they are under the dataset folder: a row names its
 * image by file name, by id (the name without extension), or by a path relative to the table or the
 * dataset folder. Folders that hold none of the listed images (ISIC 2020's test/, say) are left alone.
 */
import path from 'node:path';
import type { ClassInfo } from '../../shared/classes';
import type { ExcludedFile, SplitGrouping } from '../../shared/protocol/results';
import { UserError } from '../errors';
import type { CsvRow, CsvTable } from './csv';
import { hasColumn } from './csv';
import type { Diagnosis, ImageFile, MetadataRow } from './datasetIndex';
import { REASON } from './exclusionReasons';
import { IMAGE_EXTENSIONS, displayPath, imageIdOf, isImageFileName } from './folderScan';
import type { TreeImage } from './imageTree';

/** Which column holds what; `group` is optional. */
export interface TableColumns {
  image: string;
  label: string;
  group?: string;
}

const IMAGE_COLUMN_NAMES = ['image', 'image_id', 'image_name', 'imageid', 'isic_id', 'file', 'filename', 'file_name', 'filepath', 'file_path', 'path', 'img', 'name'];
const LABEL_COLUMN_NAMES = ['label', 'dx', 'diagnosis', 'class', 'class_name', 'category', 'target', 'benign_malignant', 'y'];
const GROUP_COLUMN_NAMES = ['lesion_id', 'patient_id', 'patient', 'subject_id', 'subject', 'group', 'group_id', 'lesion', 'case_id', 'case'];

/** A first guess at the columns, for the extension's picks and the CLI's error message. */
export function guessColumns(table: Pick<CsvTable, 'header' | 'rows'>): Partial<TableColumns> {
  const lower = table.header.map((h) => h.toLowerCase());
  const byName = (names: readonly string[]): string | undefined => {
    for (const n of names) {
      const i = lower.indexOf(n);
      if (i >= 0) return table.header[i];
    }
    return undefined;
  };
  const sample = table.rows.slice(0, 20);
  // Failing a known name: the column whose values look like image files.
  const image =
    byName(IMAGE_COLUMN_NAMES) ??
    table.header.find((h) => sample.length > 0 && sample.every((r) => isImageFileName(r.get(h) ?? '')));
  const label = byName(LABEL_COLUMN_NAMES);
  const group = byName(GROUP_COLUMN_NAMES);
  return { ...(image ? { image } : {}), ...(label && label !== image ? { label } : {}), ...(group && group !== image && group !== label ? { group } : {}) };
}

/** What one group is, from the group column's name. */
export function groupNoun(column: string): SplitGrouping['noun'] {
  if (/lesion/i.test(column)) return 'lesion';
  if (/patient|subject/i.test(column)) return 'patient';
  return 'group';
}

export type Resolved = { file: TreeImage } | { ambiguous: TreeImage[] } | undefined;

/**
 * Finds the file a table names. Ids that several files share get ids of their path instead
 * (`a/x.jpg` and `b/x.jpg` become `a__x` and `b__x`), so every image keeps a name of its own.
 */
export class ImageResolver {
  private readonly byRel = new Map<string, TreeImage>();
  private readonly byId = new Map<string, TreeImage[]>();

  constructor(readonly images: readonly TreeImage[]) {
    for (const img of images) {
      this.byRel.set(img.rel.toLowerCase(), img);
      const id = imageIdOf(img.rel).toLowerCase();
      this.byId.set(id, [...(this.byId.get(id) ?? []), img]);
    }
  }

  /** `value` as written in the table; `base` the table's folder, relative to the walked folder ('' at its top). */
  resolve(value: string, base = ''): Resolved {
    const name = value.trim().replace(/\\/g, '/').replace(/^\.\//, '');
    if (name === '') return undefined;
    const tries = [path.posix.normalize(path.posix.join(base, name)), path.posix.normalize(name)];
    for (const rel of tries) {
      const key = rel.toLowerCase();
      const hit = this.byRel.get(key) ?? (isImageFileName(key) ? undefined : IMAGE_EXTENSIONS.map((e) => this.byRel.get(key + e)).find(Boolean));
      if (hit) return { file: hit };
    }
    if (name.includes('/')) return undefined;
    const matches = this.byId.get((isImageFileName(name) ? imageIdOf(name) : name).toLowerCase()) ?? [];
    const exact = isImageFileName(name) ? matches.filter((m) => path.posix.basename(m.rel).toLowerCase() === name.toLowerCase()) : matches;
    if (exact.length === 1) return { file: exact[0]! };
    return exact.length > 1 ? { ambiguous: exact } : undefined;
  }

  /** The image's id: its file name without extension, or, where another file has that name, its path. */
  idOf(img: TreeImage): string {
    const id = imageIdOf(img.rel);
    if ((this.byId.get(id.toLowerCase())?.length ?? 0) <= 1) return id;
    return img.rel.slice(0, img.rel.length - path.posix.extname(img.rel).length).split('/').join('__');
  }
}

export interface TableIndex {
  rows: MetadataRow[];
  /** Images in the folders the table's images are in that it does not list. */
  files: ImageFile[];
  excluded: ExcludedFile[];
  notes: string[];
  grouping?: Omit<SplitGrouping, 'ungrouped'>;
  classes?: ClassInfo[];
}

export interface TableOptions {
  /** The diagnosis a label value stands for; by default the value itself (trimmed), empty ones excluded. */
  labelOf?: (value: string) => Diagnosis;
  /** The layout's own classes (ISIC 2020: benign, malignant); by default every label found. */
  classes?: ClassInfo[];
}

/** Reads the rows of `table` (the file `tableFile`) against the images under `root`. */
export function indexTable(root: string, tableFile: string, table: CsvTable, images: readonly TreeImage[], columns: TableColumns, o: TableOptions = {}): TableIndex {
  const display = displayPath(root, tableFile);
  const wanted = [columns.image, columns.label, ...(columns.group ? [columns.group] : [])];
  const missing = wanted.filter((c) => !hasColumn(table, c));
  if (missing.length > 0) {
    throw new UserError(`${display} has no ${missing.map((c) => `"${c}"`).join(', ')} column. Its columns are: ${table.header.join(', ') || 'none'}. Name the image, label and group columns as they are written there.`);
  }
  const resolver = new ImageResolver(images);
  const base = displayPath(root, path.dirname(tableFile)).replace(/^\.$/, '');
  const labelOf = o.labelOf ?? ((v: string): Diagnosis => (v.trim() === '' ? { ok: false, reason: REASON.noLabel(columns.label) } : { ok: true, dx: v.trim().normalize('NFC') }));
  const rows: MetadataRow[] = [];
  const excluded: ExcludedFile[] = [];
  const used = new Set<string>();
  let ungrouped = 0;
  for (const r of table.rows) {
    const value = r.get(columns.image) ?? '';
    if (value === '') continue;
    const where = `${display}:${r.line}`;
    const found = resolver.resolve(value, base);
    if (found && 'ambiguous' in found) {
      excluded.push({ file: where, reason: REASON.ambiguousImage(found.ambiguous.map((f) => f.rel)) });
      continue;
    }
    const group = columns.group ? (r.get(columns.group) ?? '') : '';
    const file = found?.file;
    const imageId = file ? resolver.idOf(file) : value.trim();
    if (file) used.add(file.path);
    if (group === '') ungrouped++;
    rows.push({
      imageId,
      lesionId: group !== '' ? group : `image ${file?.rel ?? value.trim()}`,
      ...(group === '' ? { ungrouped: true } : {}),
      diagnosis: labelOf(r.get(columns.label) ?? ''),
      where,
      ...(file ? { file: { imageId, path: file.path, display: file.rel } } : {}),
    });
  }
  const notes: string[] = [];
  if (!o.labelOf) notes.push(...mergeLabelSpellings(rows));
  const usedFolders = new Set([...images.filter((i) => used.has(i.path))].map((i) => path.posix.dirname(i.rel)));
  const files: ImageFile[] = [];
  const elsewhere = new Map<string, number>();
  for (const img of images) {
    if (used.has(img.path)) continue;
    const folder = path.posix.dirname(img.rel);
    if (usedFolders.has(folder)) files.push({ imageId: resolver.idOf(img), path: img.path, display: img.rel });
    else elsewhere.set(folder, (elsewhere.get(folder) ?? 0) + 1);
  }
  if (elsewhere.size > 0) {
    const folders = [...elsewhere.entries()].map(([f, n]) => `${f === '.' ? 'the top folder' : `${f}/`} (${n})`);
    notes.push(`ignored ${[...elsewhere.values()].reduce((a, b) => a + b, 0)} image(s) in ${folders.slice(0, 5).join(', ')}${folders.length > 5 ? ' …' : ''}: ${display} lists none of the images there.`);
  }
  if (columns.group && ungrouped > 0) notes.push(`${ungrouped} row(s) of ${display} have no ${columns.group}: each of those images is split on its own.`);
  return {
    rows,
    files,
    excluded,
    notes,
    ...(columns.group ? { grouping: { column: columns.group, noun: groupNoun(columns.group) } } : {}),
    ...(o.classes ? { classes: o.classes } : {}),
  };
}

/** `Benign` on 3 rows and `benign` on 40 are one class, spelled as most rows spell it. */
function mergeLabelSpellings(rows: MetadataRow[]): string[] {
  const spellings = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!r.diagnosis.ok) continue;
    const key = r.diagnosis.dx.toLowerCase();
    const counts = spellings.get(key) ?? new Map<string, number>();
    counts.set(r.diagnosis.dx, (counts.get(r.diagnosis.dx) ?? 0) + 1);
    spellings.set(key, counts);
  }
  const notes: string[] = [];
  const canonical = new Map<string, string>();
  for (const counts of spellings.values()) {
    if (counts.size < 2) continue;
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const [best] = ranked[0]!;
    for (const [spelling] of ranked) canonical.set(spelling, best);
    notes.push(`labels ${ranked.map(([s, n]) => `'${s}' (${n})`).join(', ')} differ only in letter case: all are '${best}'.`);
  }
  for (const r of rows) if (r.diagnosis.ok && canonical.has(r.diagnosis.dx)) r.diagnosis = { ok: true, dx: canonical.get(r.diagnosis.dx)! };
  return notes;
}

/** The first rows of a table as text, for a preview. */
export function previewRows(table: CsvTable, count: number): string[][] {
  return table.rows.slice(0, count).map((r: CsvRow) => table.header.map((h) => r.get(h) ?? ''));
}
