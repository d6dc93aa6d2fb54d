/**
 * `manifest.json`: what `prepare` produced, the contract that augment, train and evaluate read.
 *
 *   { version: 1,
 *     summary: DatasetSummary            (protocol.ts; its `excluded` holds the first 50),
 *     classes: [{ name, folder, label? }] (the model's outputs, in order; absent in manifests written
 *                                          before classes came from the data: then the summary's names),
 *     images: [{ imageId, lesionId (the image's group: lesion, patient …), dx (a class name), split: train|val|test,
 *                source: absolute original, file: "train/nv/ISIC_0024306.jpg", phash?: 16 hex digits }],
 *     excluded: [{ file, reason }]       (all of them; reasons in exclusionReasons.ts),
 *     testSet?: { path, groundTruth, input?, images }   (an ISIC 2018 test set found beside training data),
 *     nearDuplicates?: { mode: group|ignore, distance, hash, pairs: [{ a, b, distance }], clusters: [[file…]…] }
 *                                         (pairs of images of different groups within `distance` bits; a
 *                                          cluster is a connected set of them, whole in one split and fold
 *                                          in group mode),
 *     materialisedWith: hard|symlink|copy,
 *     notes: string[],
 *     augmentation?: AugmentationRecord  (written by `augment`),
 *     crossValidation?: FoldScheme[]     (written by `cv` / `sweep`: the folds every run of that K uses) }
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PreparedClass } from '../../shared/classes';
import { preparedClasses } from '../../shared/classes';
import type { LinkMode } from '../../shared/protocol/jobs';
import type { DatasetSummary, ExcludedFile, NearDuplicatePair } from '../../shared/protocol/results';
import { nearDuplicatePair, nearDuplicateSummary } from '../../shared/protocol/results';
import type { Check } from '../../shared/validate';
import { arrayOf, bool, literal, num, obj, optional, recordOf, str } from '../../shared/validate';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;
/** How many exclusions the summary (and so every event and view) carries; the manifest has all. */
export const SUMMARY_EXCLUDED_LIMIT = 50;

export type ManifestSplit = 'train' | 'val' | 'test';

export type ManifestClass = PreparedClass;

export interface ManifestImage {
  imageId: string;
  /** The group the split keeps together: a lesion, a patient, or the image itself where the data has no group. */
  lesionId: string;
  /** The class name. */
  dx: string;
  split: ManifestSplit;
  /** Absolute path of the original (inside the dataset folder, or extracted from its zip into `<out>/.extracted/`). */
  source: string;
  /** Relative to the prepared folder, `/`-separated. */
  file: string;
  /** The 64-bit perceptual hash (perceptualHash.ts), 16 hex digits; absent in manifests from before it. */
  phash?: string;
}

/** Near-duplicates as prepare found them and what it did (the summary has the counts and the first pairs). */
export interface NearDuplicateRecord {
  mode: 'group' | 'ignore';
  distance: number;
  /** Which hash: the DCT hash of a 32×32 grey image, 64 bits (as imagehash.phash). */
  hash: string;
  pairs: NearDuplicatePair[];
  /** Each cluster's files (sorted); clusters sorted by their first file. */
  clusters: string[][];
}

export interface ManifestTestSet {
  /** The folder holding the ISIC 2018 Task 3 test set. */
  path: string;
  groundTruth: string;
  input?: string;
  images: number;
}

/** What `augment` last wrote into `aug/`, and with which parameters. */
export interface AugmentationRecord {
  target: number;
  skip: string[];
  size: number;
  seed: number;
  quality: number;
  fillMode: string;
  contrastStretch: boolean;
  perClass: Record<string, { before: number; after: number }>;
  updatedAt: string;
}

/**
 * K cross-validation folds over the training and validation images (test images are never in a fold), each
 * group whole in one fold: recorded once, so every fold run and every later sweep with K folds uses the same.
 */
export interface FoldScheme {
  folds: number;
  seed: number;
  /** What stayed whole: the group column (lesion_id, patient_id …), or `image` when the data has none. */
  groupedBy: string;
  createdAt: string;
  /** Images per fold and class: `counts[fold][class]`, classes in the manifest's order. */
  counts: number[][];
  /** Each image's fold (0-based), by its `file`. */
  assignment: Record<string, number>;
}

export interface PreparedManifest {
  version: typeof MANIFEST_VERSION;
  summary: DatasetSummary;
  classes?: ManifestClass[];
  images: ManifestImage[];
  excluded: ExcludedFile[];
  testSet?: ManifestTestSet;
  nearDuplicates?: NearDuplicateRecord;
  materialisedWith: LinkMode;
  notes: string[];
  augmentation?: AugmentationRecord;
  crossValidation?: FoldScheme[];
}

const linkMode = literal('hard', 'symlink', 'copy');
const classCount = obj({ images: num, lesions: num });
const summaryCheck = obj({
  sourcePath: str,
  layout: str,
  split: literal('lesion', 'image'),
  valFraction: num,
  seed: num,
  link: linkMode,
  straddlingLesions: optional(num),
  grouping: optional(obj({ column: str, noun: literal('lesion', 'patient', 'group'), ungrouped: num })),
  leakage: optional(str),
  synthetic: optional(bool),
  nearDuplicates: optional(nearDuplicateSummary),
  classes: arrayOf(obj({ name: str, label: optional(str), all: classCount, train: classCount, val: classCount, augmented: optional(num) })),
  excludedCount: num,
  excluded: arrayOf(obj({ file: str, reason: str })),
  preparedAt: str,
});
const manifestCheck: Check = obj({
  version: literal(MANIFEST_VERSION),
  summary: summaryCheck,
  classes: optional(arrayOf(obj({ name: str, folder: str, label: optional(str) }))),
  images: arrayOf(obj({ imageId: str, lesionId: str, dx: str, split: literal('train', 'val', 'test'), source: str, file: str, phash: optional(str) })),
  excluded: arrayOf(obj({ file: str, reason: str })),
  testSet: optional(obj({ path: str, groundTruth: str, input: optional(str), images: num })),
  nearDuplicates: optional(obj({ mode: literal('group', 'ignore'), distance: num, hash: str, pairs: arrayOf(nearDuplicatePair), clusters: arrayOf(arrayOf(str)) })),
  materialisedWith: linkMode,
  notes: arrayOf(str),
  crossValidation: optional(arrayOf(obj({ folds: num, seed: num, groupedBy: str, createdAt: str, counts: arrayOf(arrayOf(num)), assignment: recordOf(num) }))),
});

export function validateManifest(value: unknown): string | undefined {
  return manifestCheck(value, 'manifest');
}

export function manifestPath(preparedDir: string): string {
  return path.join(preparedDir, MANIFEST_FILE);
}

/**
 * Reads and checks `<preparedDir>/manifest.json`; a missing or damaged one is a UserError that says to run
 * prepare. Every image path must stay inside the prepared folder: augment, train and evaluate join them to
 * it, so a hand-edited `../../…` would otherwise read (or, for augment, write beside) files elsewhere.
 */
export async function readManifest(preparedDir: string): Promise<PreparedManifest> {
  const file = manifestPath(preparedDir);
  const rerun = `Run \`lesion-lab prepare --data <dataset folder> --out ${preparedDir}\` first.`;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const isDir = await fs.stat(preparedDir).then((st) => st.isDirectory(), () => false);
      if (!isDir) throw new UserError(`The prepared folder ${preparedDir} does not exist. ${rerun}`);
      // A folder with files but no manifest is most likely the dataset itself: prepare never writes into it.
      const holdsFiles = (await fs.readdir(preparedDir).catch(() => [] as string[])).some((n) => !n.startsWith('.'));
      if (holdsFiles) {
        throw new UserError(
          `${preparedDir} is not a prepared dataset: it has no ${MANIFEST_FILE}. If it is the dataset itself, prepare it into a new folder first: ` +
            `\`lesion-lab prepare --data ${preparedDir} --out ${preparedDir.replace(/[\\/]+$/, '')}-prepared\`, then use that folder.`,
        );
      }
      throw new UserError(`${preparedDir} is not a prepared dataset: it has no ${MANIFEST_FILE}. ${rerun}`);
    }
    throw new UserError(`Could not read ${file} (${(err as Error).message}). Check its permissions, or ${rerun.charAt(0).toLowerCase()}${rerun.slice(1)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is damaged (${(err as Error).message}). ${rerun}`);
  }
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== MANIFEST_VERSION) {
    throw new UserError(`${file} was written by another version of Lesion Lab (manifest version ${version}, expected ${MANIFEST_VERSION}). ${rerun}`);
  }
  const problem = validateManifest(value);
  if (problem) throw new UserError(`${file} is not a valid Lesion Lab manifest (${problem}). ${rerun}`);
  const manifest = value as PreparedManifest;
  const classes = manifestClasses(manifest);
  const names = new Set(classes.map((c) => c.name));
  for (const c of classes) {
    if (!insidePreparedFolder(c.folder) || c.folder.includes('/') || c.folder.includes('\\') || c.folder === '.' || c.folder === '') {
      throw new UserError(`${file} gives class ${JSON.stringify(c.name)} the folder ${JSON.stringify(c.folder)}, which is not a folder name. ${rerun}`);
    }
  }
  for (const image of manifest.images) {
    if (!insidePreparedFolder(image.file)) throw new UserError(`${file} lists ${JSON.stringify(image.file)}, which is outside the prepared folder. ${rerun}`);
    if (!names.has(image.dx)) throw new UserError(`${file} lists ${image.file} as class ${JSON.stringify(image.dx)}, which is not one of its classes. ${rerun}`);
  }
  return manifest;
}

/** The prepared dataset's classes, in the model's output order (see preparedClasses). */
export function manifestClasses(manifest: Pick<PreparedManifest, 'classes' | 'summary'>): ManifestClass[] {
  return preparedClasses(manifest);
}

/** A manifest path is relative and never climbs out (`..` with either separator; a drive letter counts as absolute). */
export function insidePreparedFolder(file: string): boolean {
  return !path.isAbsolute(file) && !path.win32.isAbsolute(file) && !file.split(/[\\/]/).includes('..');
}

/**
 * Rewrites manifest.json atomically with the augmentation record and per-class augmented counts, keeping
 * every other field as it is on disk now (re-read, so an edit since `readManifest` is not lost).
 */
export async function recordAugmentation(preparedDir: string, record: AugmentationRecord): Promise<void> {
  const file = manifestPath(preparedDir);
  const current = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  const summary = current.summary as DatasetSummary;
  for (const cls of summary.classes) {
    const counts = record.perClass[cls.name];
    if (counts) cls.augmented = counts.after - counts.before;
  }
  current.augmentation = record;
  await writeJsonAtomic(file, current);
}
