/**
 * Readers for the metadata shapes: HAM10000's one row per image (`lesion_id,image_id,dx,…`, comma- or
 * tab-separated), ISIC 2018 Task 3's one-hot ground truth (`image,MEL,NV,…` with 1.0/0.0) plus its
 * optional lesion groupings file, ISIC 2019 Task 1's one-hot ground truth (with `AK`, `SCC` and `UNK`)
 * plus its metadata (`lesion_id` where known), and ISIC 2020's labels.
 */
import { promises as fs } from 'node:fs';
import type { ClassInfo } from '../../shared/classes';
import { LESION_CLASSES, LESION_CLASS_INFO, isLesionClass, knownClassLabel } from '../../shared/classes';
import type { LesionClass } from '../../shared/classes';
import { UserError } from '../errors';
import type { CsvTable } from './csv';
import { hasColumn, readCsvTable } from './csv';
import type { Diagnosis, MetadataRow } from './datasetIndex';
import { REASON } from './exclusionReasons';

export async function readTable(file: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`Could not read ${file} (${(err as Error).message}). Check that the file is readable.`);
  }
  return readCsvTable(text);
}

/** Case-insensitive: `MEL`, `mel` and ` Mel ` are all melanoma. */
export function diagnosisFromLabel(label: string): Diagnosis {
  const key = label.trim().toLowerCase();
  return isLesionClass(key) ? { ok: true, dx: key } : { ok: false, reason: REASON.unknownDiagnosis(label.trim()) };
}

function requireColumns(table: CsvTable, columns: string[], file: string, what: string): void {
  const missing = columns.filter((c) => !hasColumn(table, c));
  if (missing.length === 0) return;
  throw new UserError(
    `${file} has no ${missing.join(', ')} column (its columns are: ${table.header.join(', ') || 'none'}). ` +
      `Is this ${what}? Point --data at the original, unmodified dataset folder.`,
  );
}

/** HAM10000_metadata(.csv): lesion_id, image_id, dx, … in any order, extra columns ignored. */
export async function readHamMetadata(file: string, display: string): Promise<{ rows: MetadataRow[]; notes: string[]; grouped: boolean }> {
  const table = await readTable(file);
  requireColumns(table, ['image_id', 'dx'], file, 'the HAM10000 metadata file');
  const notes: string[] = [];
  const hasLesions = hasColumn(table, 'lesion_id');
  if (!hasLesions) notes.push(`${display} has no lesion_id column: each image counts as its own lesion, so a lesion split cannot prevent leakage.`);
  const rows: MetadataRow[] = [];
  for (const r of table.rows) {
    const imageId = r.get('image_id') ?? '';
    if (imageId === '') continue;
    const lesionId = hasLesions ? (r.get('lesion_id') ?? '') : '';
    rows.push({ imageId, lesionId: lesionId || imageId, ...(hasLesions && !lesionId ? { ungrouped: true } : {}), diagnosis: diagnosisFromLabel(r.get('dx') ?? ''), where: `${display}:${r.line}` });
  }
  return { rows, notes, grouped: hasLesions };
}

/** ISIC 2018 Task 3 ground truth: one column per diagnosis, 1.0 where it applies. */
export async function readIsicGroundTruth(file: string, display: string): Promise<MetadataRow[]> {
  const table = await readTable(file);
  requireColumns(table, ['image'], file, 'an ISIC 2018 Task 3 ground-truth file');
  const known = new Map<string, LesionClass>();
  for (const dx of LESION_CLASSES) known.set(LESION_CLASS_INFO[dx].isicColumn.toLowerCase(), dx);
  // Every other column is a diagnosis too (ISIC 2019 adds SCC and UNK): a 1 there is an unknown diagnosis.
  const diagnosisColumns = table.header.filter((h) => h.toLowerCase() !== 'image' && h !== '');
  if (!diagnosisColumns.some((c) => known.has(c.toLowerCase()))) {
    throw new UserError(
      `${file} has none of the diagnosis columns ${LESION_CLASSES.map((c) => LESION_CLASS_INFO[c].isicColumn).join(', ')} ` +
        `(its columns are: ${table.header.join(', ')}). Is this an ISIC 2018 Task 3 ground-truth file?`,
    );
  }
  const rows: MetadataRow[] = [];
  for (const r of table.rows) {
    const imageId = r.get('image') ?? '';
    if (imageId === '') continue;
    const positive = diagnosisColumns.filter((c) => Number(r.get(c)) >= 0.5);
    let diagnosis: Diagnosis;
    if (positive.length === 0) diagnosis = { ok: false, reason: REASON.noDiagnosis(diagnosisColumns) };
    else if (positive.length > 1) diagnosis = { ok: false, reason: REASON.ambiguousDiagnosis(positive) };
    else {
      const dx = known.get(positive[0]!.toLowerCase());
      diagnosis = dx ? { ok: true, dx } : diagnosisFromLabel(positive[0]!);
    }
    rows.push({ imageId, lesionId: imageId, diagnosis, where: `${display}:${r.line}` });
  }
  return rows;
}

/** ISIC2018_Task3_Training_LesionGroupings.csv: image → lesion_id. */
export function readIsicLesionGroupings(file: string): Promise<Map<string, string>> {
  return readLesionIds(file, 'the ISIC 2018 Task 3 lesion groupings file');
}

/** A table's `image` → `lesion_id`, for the images that have one (keys lower case). */
async function readLesionIds(file: string, what: string): Promise<Map<string, string>> {
  const table = await readTable(file);
  requireColumns(table, ['image', 'lesion_id'], file, what);
  const lesions = new Map<string, string>();
  for (const r of table.rows) {
    const image = r.get('image') ?? '';
    const lesion = r.get('lesion_id') ?? '';
    if (image !== '' && lesion !== '') lesions.set(image.toLowerCase(), lesion);
  }
  return lesions;
}

/** ISIC 2019 Task 1's one-hot columns, in its file's order (UNK: none of the others; no training image has it). */
export const ISIC2019_COLUMNS = ['MEL', 'NV', 'BCC', 'AK', 'BKL', 'DF', 'VASC', 'SCC', 'UNK'] as const;

/**
 * ISIC_2019_Training_GroundTruth.csv: one column per diagnosis, 1.0 where it applies. Every column is a
 * class, named by its lowercase abbreviation (`ak`, `scc` …), except `UNK` where no row has it.
 */
export async function readIsic2019GroundTruth(file: string, display: string): Promise<{ rows: MetadataRow[]; classes: ClassInfo[] }> {
  const table = await readTable(file);
  requireColumns(table, ['image'], file, 'the ISIC 2019 Task 1 ground-truth file');
  const columns = table.header.filter((h) => h.toLowerCase() !== 'image' && h !== '');
  const known = columns.filter((c) => (ISIC2019_COLUMNS as readonly string[]).includes(c.toUpperCase()));
  if (known.length === 0) {
    throw new UserError(`${file} has none of the diagnosis columns ${ISIC2019_COLUMNS.join(', ')} (its columns are: ${table.header.join(', ')}). Is this an ISIC 2019 Task 1 ground-truth file?`);
  }
  const rows: MetadataRow[] = [];
  const used = new Set<string>();
  for (const r of table.rows) {
    const imageId = r.get('image') ?? '';
    if (imageId === '') continue;
    const positive = columns.filter((c) => Number(r.get(c)) >= 0.5);
    let diagnosis: Diagnosis;
    if (positive.length === 0) diagnosis = { ok: false, reason: REASON.noDiagnosis(columns) };
    else if (positive.length > 1) diagnosis = { ok: false, reason: REASON.ambiguousDiagnosis(positive) };
    else {
      diagnosis = { ok: true, dx: positive[0]!.toLowerCase() };
      used.add(diagnosis.dx);
    }
    rows.push({ imageId, lesionId: imageId, ungrouped: true, diagnosis, where: `${display}:${r.line}` });
  }
  const names = columns.map((c) => c.toLowerCase()).filter((c) => c !== 'unk' || used.has(c)).sort();
  return { rows, classes: names.map((name) => ({ name, ...(knownClassLabel(name) ? { label: knownClassLabel(name) } : {}) })) };
}

/** ISIC_2019_Training_Metadata.csv: image → lesion_id, for the images that have one. */
export function readIsic2019Lesions(file: string): Promise<Map<string, string>> {
  return readLesionIds(file, 'the ISIC 2019 Task 1 metadata file');
}

export const ISIC2020_CLASSES: ClassInfo[] = [{ name: 'benign' }, { name: 'malignant' }];

/**
 * The column ISIC 2020 labels its images with, if `table` has ISIC 2020's columns: `benign_malignant`
 * (its words), else `target` (0 benign, 1 malignant).
 */
export function isic2020LabelColumn(table: CsvTable): 'benign_malignant' | 'target' | undefined {
  if (!hasColumn(table, 'image_name')) return undefined;
  if (hasColumn(table, 'benign_malignant')) return 'benign_malignant';
  return hasColumn(table, 'target') ? 'target' : undefined;
}

export function isic2020Diagnosis(column: 'benign_malignant' | 'target'): (value: string) => Diagnosis {
  return (value) => {
    const v = value.trim().toLowerCase();
    const dx = column === 'target' ? (v === '0' ? 'benign' : v === '1' ? 'malignant' : undefined) : v === 'benign' || v === 'malignant' ? v : undefined;
    return dx ? { ok: true, dx } : { ok: false, reason: REASON.unknownLabel(value.trim(), column === 'target' ? ['0', '1'] : ['benign', 'malignant']) };
  };
}
