/**
 * Recognises which of the known layouts a dataset folder holds (nothing is configured) and indexes it:
 *   kaggle-ham10000          HAM10000_metadata.csv + HAM10000_images_part_1/, _part_2/
 *   dataverse-ham10000       HAM10000_metadata (maybe no extension, maybe tab-separated) + HAM10000_images_part_N.zip
 *   isic2018-task3-training  ISIC2018_Task3_Training_GroundTruth.csv (+ _LesionGroupings.csv) + ISIC2018_Task3_Training_Input/
 *   isic2018-task3-test      ISIC2018_Task3_Test_GroundTruth.csv + ISIC2018_Task3_Test_Input/ (only when no training data is there)
 * Zips are extracted into the output folder's cache (`<out>/.extracted/`), never next to the source.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExcludedFile } from '../../shared/protocol/results';
import { UserError } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { DatasetIndex, ImageFile, LayoutName, MetadataRow, TestSetInfo } from './datasetIndex';
import type { FolderScan, ImageSourceKind } from './folderScan';
import { ISIC_TEST_INPUT, ISIC_TRAIN_INPUT, displayPath, imageIdOf, isImageFileName, pickImageFolders, scanDataFolder } from './folderScan';
import { readHamMetadata, readIsicGroundTruth, readIsicLesionGroupings } from './metadataReaders';
import { extractZipSafely } from './zipExtract';

/** Where extracted zips are cached inside the output folder. */
export const EXTRACTED_DIR = '.extracted';

export async function indexDataset(root: string, out: string, ctx: JobContext): Promise<DatasetIndex> {
  const scan = await scanDataFolder(root, ctx.signal);
  const { ham, isicTrain, isicGroupings, isicTest } = scan.metadata;
  const notes: string[] = [];
  const ignoreOthers = (used: string, others: string[]): void => {
    for (const o of others) if (o !== used) notes.push(`ignored ${displayPath(root, o)}: using ${displayPath(root, used)}.`);
  };

  let layout: LayoutName;
  let rows: MetadataRow[];
  let sources: (k: ImageSourceKind) => boolean;
  let purpose: DatasetIndex['purpose'] = 'train-val';
  if (ham[0]) {
    const read = await readHamMetadata(ham[0], displayPath(root, ham[0]));
    rows = read.rows;
    notes.push(...read.notes);
    ignoreOthers(ham[0], ham);
    if (isicTrain[0]) notes.push(`ignored ${displayPath(root, isicTrain[0])}: ${displayPath(root, ham[0])} describes the same images.`);
    sources = (k) => k.key.startsWith('ham-part-');
    layout = 'kaggle-ham10000';
  } else if (isicTrain[0]) {
    rows = await readIsicGroundTruth(isicTrain[0], displayPath(root, isicTrain[0]));
    ignoreOthers(isicTrain[0], isicTrain);
    if (isicGroupings[0]) {
      const lesions = await readIsicLesionGroupings(isicGroupings[0]);
      let ungrouped = 0;
      for (const row of rows) {
        const lesion = lesions.get(row.imageId.toLowerCase());
        if (lesion) row.lesionId = lesion;
        else ungrouped++;
      }
      if (ungrouped > 0) notes.push(`${ungrouped} image(s) are not in ${displayPath(root, isicGroupings[0])}: each counts as its own lesion.`);
    } else {
      notes.push(
        `no ${'ISIC2018_Task3_Training_LesionGroupings.csv'} found: each image counts as its own lesion, so a lesion split cannot prevent leakage.`,
      );
    }
    sources = (k) => k.key === ISIC_TRAIN_INPUT.key;
    layout = 'isic2018-task3-training';
  } else if (isicTest[0]) {
    rows = await readIsicGroundTruth(isicTest[0], displayPath(root, isicTest[0]));
    ignoreOthers(isicTest[0], isicTest);
    sources = (k) => k.key === ISIC_TEST_INPUT.key;
    layout = 'isic2018-task3-test';
    purpose = 'test';
  } else {
    throw new UserError(
      `No HAM10000_metadata.csv, HAM10000_metadata or ISIC2018_Task3_Training_GroundTruth.csv in ${root} (searched 3 folder levels deep). ` +
        'Expected one of: the Kaggle HAM10000 download (HAM10000_metadata.csv + HAM10000_images_part_1/ and HAM10000_images_part_2/), ' +
        'the Harvard Dataverse download (HAM10000_metadata + HAM10000_images_part_1.zip and HAM10000_images_part_2.zip), ' +
        'ISIC 2018 Task 3 (ISIC2018_Task3_Training_GroundTruth.csv + ISIC2018_Task3_Training_Input/), ' +
        'or its test set (ISIC2018_Task3_Test_GroundTruth.csv + ISIC2018_Task3_Test_Input/). ' +
        'Point --data at the folder that holds them, or get a dataset with `lesion-lab download` or `lesion-lab demo-data`.',
    );
  }

  const images = await collectImages(scan, sources, out, ctx);
  if (images.files.length === 0 && images.excluded.length === 0) {
    const expected =
      layout === 'kaggle-ham10000'
        ? 'HAM10000_images_part_1/ and HAM10000_images_part_2/ (or HAM10000_images_part_1.zip and HAM10000_images_part_2.zip)'
        : `${(purpose === 'test' ? ISIC_TEST_INPUT : ISIC_TRAIN_INPUT).folderName}/ (or its .zip)`;
    throw new UserError(`Found the metadata of ${layout} in ${root} but no images: expected ${expected} there. Unpack or download the images and run prepare again.`);
  }
  if (layout === 'kaggle-ham10000' && images.fromZip) layout = 'dataverse-ham10000';
  notes.push(...images.notes);

  let testSet: TestSetInfo | undefined;
  if (purpose === 'train-val' && isicTest[0]) {
    const input = scan.folders.find((f) => f.kind.key === ISIC_TEST_INPUT.key && f.images.length > 0);
    const testRows = await readIsicGroundTruth(isicTest[0], displayPath(root, isicTest[0]));
    testSet = { path: path.dirname(input?.path ?? isicTest[0]), groundTruth: isicTest[0], input: input?.path, images: testRows.length };
    notes.push(
      `the ISIC 2018 Task 3 test set (${testRows.length} images) is in ${displayPath(root, isicTest[0])}; it is not part of train/val (see manifest.json › testSet).`,
    );
  }
  return { layout, root, purpose, rows, files: images.files, excluded: images.excluded, notes, testSet };
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
