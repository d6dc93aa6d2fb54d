/**
 * Recognises which of the known layouts a dataset folder holds (nothing is configured) and indexes it:
 *   kaggle-ham10000          HAM10000_metadata.csv + HAM10000_images_part_1/, _part_2/
 *   dataverse-ham10000       HAM10000_metadata (maybe no extension, maybe tab-separated) + HAM10000_images_part_N.zip
 *   isic2019-task1-training  ISIC_2019_Training_GroundTruth.csv (one-hot, with UNK) + _Metadata.csv (lesion_id) + ISIC_2019_Training_Input/
 *   isic2018-task3-training  ISIC2018_Task3_Training_GroundTruth.csv (+ _LesionGroupings.csv) + ISIC2018_Task3_Training_Input/
 *   isic2020-training        ISIC_2020_Training_GroundTruth(_v2).csv or Kaggle's train.csv (benign_malignant or target, patient_id) + the images
 *   isic2018-task3-test      ISIC2018_Task3_Test_GroundTruth.csv + ISIC2018_Task3_Test_Input/ (only when no training data is there)
 *   folder-per-class         <class name>/**\/*.jpg (optionally a table giving each image a group)
 *   csv                      a table whose image, label and group columns the user names (PrepareOptions.table)
 * Zips are extracted into the output folder's cache (`<out>/.extracted/`), never next to the source.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { assertNever } from '../../shared/assertNever';
import { LESION_CLASSES, LESION_CLASS_INFO } from '../../shared/classes';
import type { ClassInfo } from '../../shared/classes';
import type { TableSpec } from '../../shared/protocol/jobs';
import type { ExcludedFile } from '../../shared/protocol/results';
import { UserError } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { CsvTable } from './csv';
import type { DatasetIndex, ImageFile, LayoutName, MetadataRow, TestSetInfo } from './datasetIndex';
import type { FolderScan, ImageSourceKind } from './folderScan';
import { ISIC2019_TRAIN_INPUT, ISIC_TEST_INPUT, ISIC_TRAIN_INPUT, displayPath, imageIdOf, isImageFileName, pickImageFolders, scanDataFolder } from './folderScan';
import type { ClassTree } from './folderPerClass';
import { findClassTree, indexClassTree } from './folderPerClass';
import { listImageTree } from './imageTree';
import {
  ISIC2020_CLASSES,
  isic2020Diagnosis,
  isic2020LabelColumn,
  readHamMetadata,
  readIsic2019GroundTruth,
  readIsic2019Lesions,
  readIsicGroundTruth,
  readIsicLesionGroupings,
  readTable,
} from './metadataReaders';
import { guessColumns, indexTable } from './tableLayout';
import { extractZipSafely } from './zipExtract';

/** Where extracted zips are cached inside the output folder. */
export const EXTRACTED_DIR = '.extracted';

/** The seven classes of the HAM10000 and ISIC 2018 layouts, whether or not the data has images of each. */
const HAM_CLASSES: ClassInfo[] = LESION_CLASSES.map((name) => ({ name, label: LESION_CLASS_INFO[name].label }));
const LESION_GROUPS = { column: 'lesion_id', noun: 'lesion' } as const;

/** What a dataset folder holds, decided from its file names (and, for ISIC 2020 and tables, their columns). */
export type DetectedLayout =
  | { kind: 'ham'; metadata: string }
  | { kind: 'isic2019'; groundTruth: string; metadata?: string }
  | { kind: 'isic2018'; groundTruth: string; groupings?: string }
  | { kind: 'isic2020'; groundTruth: string; table: CsvTable; labelColumn: 'benign_malignant' | 'target' }
  | { kind: 'isic2018-test'; groundTruth: string }
  | { kind: 'folders'; tree: ClassTree }
  | { kind: 'table'; file: string; table: CsvTable; columns: Required<Pick<TableSpec, 'image' | 'label'>> & Pick<TableSpec, 'group'> }
  | { kind: 'none'; tables: { file: string; table: CsvTable }[] };

export async function detectLayout(scan: FolderScan, signal: AbortSignal, spec?: TableSpec): Promise<DetectedLayout> {
  const { ham, isicTrain, isicGroupings, isicTest, isic2019Train, isic2019Metadata, isic2020 } = scan.metadata;
  if (spec) return userTable(scan, spec);
  if (ham[0]) return { kind: 'ham', metadata: ham[0] };
  if (isic2019Train[0]) return { kind: 'isic2019', groundTruth: isic2019Train[0], metadata: isic2019Metadata[0] };
  if (isicTrain[0]) return { kind: 'isic2018', groundTruth: isicTrain[0], groupings: isicGroupings[0] };
  const otherTables: { file: string; table: CsvTable }[] = [];
  for (const file of isic2020) {
    const table = await readTable(file);
    const labelColumn = isic2020LabelColumn(table);
    if (labelColumn) return { kind: 'isic2020', groundTruth: file, table, labelColumn };
    otherTables.push({ file, table }); // a train.csv of someone else's
  }
  if (isicTest[0]) return { kind: 'isic2018-test', groundTruth: isicTest[0] };
  for (const file of scan.tables) otherTables.push({ file, table: await readTable(file) });
  let tree: ClassTree | undefined;
  let treeProblem: UserError | undefined;
  try {
    tree = await findClassTree(scan.root, signal);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    treeProblem = err;
  }
  // A table that labels images is the user's say on the classes, whatever folders the images are in (a
  // patient per folder, say): which columns to read is theirs to name. One that only groups images (an
  // image and a lesion or patient column) groups a folder per class.
  const naming = otherTables.filter((t) => guessColumns(t.table).image !== undefined);
  const labelling = naming.filter((t) => guessColumns(t.table).label !== undefined);
  if (tree && labelling.length === 0) return { kind: 'folders', tree };
  if (labelling.length > 0) return { kind: 'none', tables: labelling };
  if (naming.length > 0) return { kind: 'none', tables: naming };
  if (treeProblem) throw treeProblem;
  return { kind: 'none', tables: otherTables };
}

async function userTable(scan: FolderScan, spec: TableSpec): Promise<DetectedLayout> {
  const columns = { image: spec.image, label: spec.label, ...(spec.group ? { group: spec.group } : {}) };
  if (spec.file) {
    const file = path.resolve(scan.root, spec.file);
    return { kind: 'table', file, table: await readTable(file), columns };
  }
  const candidates = [...new Set([...scan.tables, ...Object.values(scan.metadata).flat()])];
  const fitting: { file: string; table: CsvTable }[] = [];
  for (const file of candidates) {
    const table = await readTable(file);
    const lower = table.header.map((h) => h.toLowerCase());
    if ([spec.image, spec.label, ...(spec.group ? [spec.group] : [])].every((c) => lower.includes(c.toLowerCase()))) fitting.push({ file, table });
  }
  const [first, ...more] = fitting;
  if (!first) {
    throw new UserError(
      `No table in ${scan.root} (or one folder down) has the columns ${[spec.image, spec.label, spec.group].filter(Boolean).join(', ')}` +
        `${candidates.length ? `; the tables there are ${candidates.map((c) => displayPath(scan.root, c)).join(', ')}` : ''}. Name the table with --table FILE, or check the column names.`,
    );
  }
  if (more.length > 0) {
    throw new UserError(`Several tables in ${scan.root} have those columns (${fitting.map((f) => displayPath(scan.root, f.file)).join(', ')}). Say which one with --table FILE.`);
  }
  return { kind: 'table', file: first.file, table: first.table, columns };
}

export async function indexDataset(root: string, out: string, ctx: JobContext, spec?: TableSpec): Promise<DatasetIndex> {
  const scan = await scanDataFolder(root, ctx.signal);
  const detected = await detectLayout(scan, ctx.signal, spec);
  switch (detected.kind) {
    case 'ham':
    case 'isic2018':
    case 'isic2018-test':
    case 'isic2019':
      return indexFixedLayout(scan, detected, out, ctx);
    case 'isic2020': {
      const images = await listImageTree(root, ctx.signal);
      const display = displayPath(root, detected.groundTruth);
      const group = detected.table.header.find((h) => h.toLowerCase() === 'patient_id');
      const indexed = indexTable(root, detected.groundTruth, detected.table, images, { image: 'image_name', label: detected.labelColumn, ...(group ? { group } : {}) }, {
        labelOf: isic2020Diagnosis(detected.labelColumn),
        classes: ISIC2020_CLASSES,
      });
      const notes = [...ignoredBeside(root, scan, detected.groundTruth), `labels from ${display} › ${detected.labelColumn}.`, ...indexed.notes];
      if (!group) notes.push(`${display} has no patient_id column: each image is split on its own.`);
      return { layout: 'isic2020-training', root, purpose: 'train-val', ...indexed, notes };
    }
    case 'folders':
      return { layout: 'folder-per-class', root, purpose: 'train-val', ...(await indexClassTree(root, detected.tree, scan.tables)) };
    case 'table': {
      const images = await listImageTree(root, ctx.signal);
      const indexed = indexTable(root, detected.file, detected.table, images, detected.columns);
      if (indexed.rows.length === 0) throw new UserError(`${displayPath(root, detected.file)} has no rows with a value in its ${detected.columns.image} column.`);
      return { layout: 'csv', root, purpose: 'train-val', ...indexed };
    }
    case 'none':
      throw noLayoutError(root, detected.tables);
    default:
      return assertNever(detected, 'layout');
  }
}

function ignoredBeside(root: string, scan: FolderScan, used: string): string[] {
  return scan.metadata.isic2020.filter((f) => f !== used && path.basename(f).toLowerCase() !== 'train.csv').map((f) => `ignored ${displayPath(root, f)}: using ${displayPath(root, used)}.`);
}

/** Nothing recognised: say what would be, and for a table, the command that reads it. */
function noLayoutError(root: string, tables: { file: string; table: CsvTable }[]): UserError {
  const table = tables[0];
  if (table) {
    const guess = guessColumns(table.table);
    const display = displayPath(root, table.file);
    const flag = (name: string, value: string | undefined): string => `--${name}-column ${value ? JSON.stringify(value) : '<column>'}`;
    return new UserError(
      `${display} is not a layout Lesion Lab knows by itself (its columns: ${table.table.header.join(', ')}). ` +
        `Say which columns hold the image and the label, e.g. \`lesion-lab prepare --data ${root} --out <folder> --table ${JSON.stringify(display)} ${flag('image', guess.image)} ${flag('label', guess.label)}` +
        `${guess.group ? ` ${flag('group', guess.group)}` : ''}\` (the group column, such as a lesion or patient id, keeps a lesion's images on one side of the split).`,
    );
  }
  return new UserError(
    `No dataset found in ${root}: no class folders with images, no table, no HAM10000 or ISIC file (searched 3 folder levels deep). ` +
      'Lesion Lab reads: a folder per class (benign/, malignant/ … holding JPEG or PNG images); a CSV naming each image and its label; ' +
      'HAM10000 (Kaggle or Harvard Dataverse); ISIC 2018 Task 3, ISIC 2019 Task 1 or ISIC 2020 as downloaded. ' +
      'Point --data at the folder that holds them, or get one with `lesion-lab download` or `lesion-lab demo-data`.',
  );
}

/** The layouts whose file and folder names are fixed: HAM10000, ISIC 2018 Task 3, ISIC 2019 Task 1. */
async function indexFixedLayout(
  scan: FolderScan,
  detected: Extract<DetectedLayout, { kind: 'ham' | 'isic2018' | 'isic2018-test' | 'isic2019' }>,
  out: string,
  ctx: JobContext,
): Promise<DatasetIndex> {
  const root = scan.root;
  const { ham, isicTrain, isicTest, isic2019Train } = scan.metadata;
  const notes: string[] = [];
  const ignoreOthers = (used: string, others: string[]): void => {
    for (const o of others) if (o !== used) notes.push(`ignored ${displayPath(root, o)}: using ${displayPath(root, used)}.`);
  };

  let layout: LayoutName;
  let rows: MetadataRow[];
  let sources: (k: ImageSourceKind) => boolean;
  let purpose: DatasetIndex['purpose'] = 'train-val';
  let classes = HAM_CLASSES;
  let grouping: DatasetIndex['grouping'] = LESION_GROUPS;
  if (detected.kind === 'ham') {
    const read = await readHamMetadata(detected.metadata, displayPath(root, detected.metadata));
    rows = read.rows;
    notes.push(...read.notes);
    if (!read.grouped) grouping = undefined;
    ignoreOthers(detected.metadata, ham);
    if (isicTrain[0]) notes.push(`ignored ${displayPath(root, isicTrain[0])}: ${displayPath(root, detected.metadata)} describes the same images.`);
    sources = (k) => k.key.startsWith('ham-part-');
    layout = 'kaggle-ham10000';
  } else if (detected.kind === 'isic2019') {
    const read = await readIsic2019GroundTruth(detected.groundTruth, displayPath(root, detected.groundTruth));
    rows = read.rows;
    classes = read.classes;
    ignoreOthers(detected.groundTruth, isic2019Train);
    if (isicTrain[0]) notes.push(`ignored ${displayPath(root, isicTrain[0])}: ISIC 2019's training data includes ISIC 2018's.`);
    if (detected.metadata) {
      const lesions = await readIsic2019Lesions(detected.metadata);
      let ungrouped = 0;
      for (const row of rows) {
        const lesion = lesions.get(row.imageId.toLowerCase());
        if (lesion) {
          row.lesionId = lesion;
          delete row.ungrouped;
        } else ungrouped++;
      }
      if (ungrouped > 0) notes.push(`${ungrouped} image(s) have no lesion_id in ${displayPath(root, detected.metadata)}: each is split on its own.`);
    } else {
      grouping = undefined;
      notes.push(`no ISIC_2019_Training_Metadata.csv found: it holds the lesion_id of each image, so without it the split cannot keep a lesion's images together.`);
    }
    sources = (k) => k.key === ISIC2019_TRAIN_INPUT.key;
    layout = 'isic2019-task1-training';
  } else if (detected.kind === 'isic2018') {
    rows = await readIsicGroundTruth(detected.groundTruth, displayPath(root, detected.groundTruth));
    ignoreOthers(detected.groundTruth, isicTrain);
    if (detected.groupings) {
      const lesions = await readIsicLesionGroupings(detected.groupings);
      let ungrouped = 0;
      for (const row of rows) {
        const lesion = lesions.get(row.imageId.toLowerCase());
        if (lesion) row.lesionId = lesion;
        else {
          row.ungrouped = true;
          ungrouped++;
        }
      }
      if (ungrouped > 0) notes.push(`${ungrouped} image(s) are not in ${displayPath(root, detected.groupings)}: each counts as its own lesion.`);
    } else {
      grouping = undefined;
      notes.push(
        `no ${'ISIC2018_Task3_Training_LesionGroupings.csv'} found: each image counts as its own lesion, so a lesion split cannot prevent leakage.`,
      );
    }
    sources = (k) => k.key === ISIC_TRAIN_INPUT.key;
    layout = 'isic2018-task3-training';
  } else {
    rows = await readIsicGroundTruth(detected.groundTruth, displayPath(root, detected.groundTruth));
    ignoreOthers(detected.groundTruth, isicTest);
    sources = (k) => k.key === ISIC_TEST_INPUT.key;
    layout = 'isic2018-task3-test';
    purpose = 'test';
  }

  const images = await collectImages(scan, sources, out, ctx);
  if (images.files.length === 0 && images.excluded.length === 0) {
    const expected =
      layout === 'kaggle-ham10000'
        ? 'HAM10000_images_part_1/ and HAM10000_images_part_2/ (or HAM10000_images_part_1.zip and HAM10000_images_part_2.zip)'
        : `${(purpose === 'test' ? ISIC_TEST_INPUT : layout === 'isic2019-task1-training' ? ISIC2019_TRAIN_INPUT : ISIC_TRAIN_INPUT).folderName}/ (or its .zip)`;
    throw new UserError(`Found the metadata of ${layout} in ${root} but no images: expected ${expected} there. Unpack or download the images and run prepare again.`);
  }
  if (layout === 'kaggle-ham10000' && images.fromZip) layout = 'dataverse-ham10000';
  notes.push(...images.notes);

  let testSet: TestSetInfo | undefined;
  let test: DatasetIndex['test'];
  if (purpose === 'train-val' && layout !== 'isic2019-task1-training' && isicTest[0]) {
    const input = scan.folders.find((f) => f.kind.key === ISIC_TEST_INPUT.key && f.images.length > 0);
    const testRows = await readIsicGroundTruth(isicTest[0], displayPath(root, isicTest[0]));
    testSet = { path: path.dirname(input?.path ?? isicTest[0]), groundTruth: isicTest[0], input: input?.path, images: testRows.length };
    // Held out whole, as test/<dx>/: never trained on, never chooses a checkpoint.
    const testImages = await collectImages(scan, (k) => k.key === ISIC_TEST_INPUT.key, out, ctx);
    notes.push(...testImages.notes);
    if (testImages.files.length > 0) {
      test = { rows: testRows, files: testImages.files, excluded: testImages.excluded };
      notes.push(`the ISIC 2018 Task 3 test set (${testRows.length} images) in ${displayPath(root, isicTest[0])} is held out as test/: evaluate it with \`lesion-lab evaluate --split test\`.`);
    } else {
      notes.push(`the ISIC 2018 Task 3 test set's ground truth is in ${displayPath(root, isicTest[0])}, but not its images (${ISIC_TEST_INPUT.folderName}/): no test split (see manifest.json › testSet).`);
    }
  }
  return { layout, root, purpose, classes, ...(grouping ? { grouping } : {}), rows, files: images.files, excluded: images.excluded, notes, testSet, ...(test ? { test } : {}) };
}

interface CollectedImages {
  files: ImageFile[];
  excluded: ExcludedFile[];
  notes: string[];
  fromZip: boolean;
}

/** Folders first; a kind of source found only as a zip is extracted (once; later runs reuse the cache). */
async function collectImages(scan: FolderScan, wanted: (k: ImageSourceKind) => boolean, out: string, ctx: JobContext): Promise<CollectedImages> {
  const folders = scan.folders.filter((f) => wanted(f.kind));
  const picked = pickImageFolders(scan.root, folders);
  const result: CollectedImages = { ...picked, fromZip: false };
  const kindsWithFolder = new Set(folders.filter((f) => f.images.length > 0).map((f) => f.kind.key));
  const zipKinds = [...scan.zips.entries()].filter(([, zips]) => wanted(zips[0]!.kind)).sort(([a], [b]) => a.localeCompare(b));
  for (const [key, zips] of zipKinds) {
    const zip = zips[0]!;
    const zipDisplay = displayPath(scan.root, zip.path);
    if (kindsWithFolder.has(key)) {
      result.notes.push(`ignored ${zipDisplay}: the ${zip.kind.folderName}/ folder is already unpacked.`);
      continue;
    }
    for (const other of zips.slice(1)) result.notes.push(`ignored ${displayPath(scan.root, other.path)}: using ${zipDisplay}.`);
    const extracted = await extractCached(zip.path, zipDisplay, out, ctx);
    result.files.push(...extracted.files);
    result.excluded.push(...extracted.excluded);
    result.fromZip = true;
  }
  return result;
}

interface ExtractionRecord {
  version: 1;
  zip: string;
  size: number;
  mtimeMs: number;
  files: string[];
  excluded: { entry: string; reason: string }[];
}

async function extractCached(zipPath: string, zipDisplay: string, out: string, ctx: JobContext): Promise<{ files: ImageFile[]; excluded: ExcludedFile[] }> {
  const name = path.basename(zipPath, path.extname(zipPath));
  const dest = path.join(out, EXTRACTED_DIR, name);
  const recordPath = `${dest}.json`;
  const stat = await fs.stat(zipPath);
  let record = await readExtractionRecord(recordPath);
  const fresh = record && record.zip === zipPath && record.size === stat.size && record.mtimeMs === stat.mtimeMs;
  if (!record || !fresh || !(await exists(dest))) {
    let reporter: ProgressReporter | undefined;
    const extraction = await extractZipSafely(zipPath, dest, ctx.signal, {
      onProgress: (done, total) => {
        reporter ??= new ProgressReporter(ctx.emit, `extract ${path.basename(zipPath)}`, total, 'file');
        reporter.update(done);
      },
    });
    record = { version: 1, zip: zipPath, size: stat.size, mtimeMs: stat.mtimeMs, ...extraction };
    await fs.writeFile(recordPath, JSON.stringify(record));
  }
  const files = record.files
    .filter((f) => isImageFileName(f))
    .sort()
    .map((f) => ({ imageId: imageIdOf(f), path: path.join(dest, ...f.split('/')), display: `${zipDisplay}:${f}` }));
  return { files, excluded: record.excluded.map((e) => ({ file: `${zipDisplay}:${e.entry}`, reason: e.reason })) };
}

async function readExtractionRecord(file: string): Promise<ExtractionRecord | undefined> {
  try {
    const value = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<ExtractionRecord>;
    return value.version === 1 && Array.isArray(value.files) && Array.isArray(value.excluded) ? (value as ExtractionRecord) : undefined;
  } catch {
    return undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
