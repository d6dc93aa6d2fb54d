/**
 * Reads what `augment` needs from a prepared folder's manifest.json, and writes back its own part
 * (`augmentation`, `summary.classes[].augmented`) without disturbing anything else in the file.
 * Kept here, validated by hand, until the dataset stage exports a shared `readManifest()`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetSummary } from '../../shared/protocol';
import { arrayOf, literal, num, obj, optional, str } from '../../shared/validate';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';

export interface ManifestImage {
  imageId: string;
  lesionId: string;
  dx: string;
  split: 'train' | 'val' | 'test';
  /** Path relative to the prepared folder, e.g. `train/nv/ISIC_0024306.jpg`. */
  file: string;
}

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

export interface PreparedManifest {
  dir: string;
  file: string;
  summary: DatasetSummary;
  images: ManifestImage[];
  /** The parsed JSON as read, so a rewrite keeps fields this module does not know. */
  raw: Record<string, unknown>;
}

const manifestShape = obj({
  version: num,
  summary: obj({ classes: arrayOf(obj({ name: str, train: obj({ images: num }) })) }),
  images: arrayOf(
    obj({ imageId: str, lesionId: optional(str), dx: str, split: literal('train', 'val', 'test'), file: str }),
  ),
});

const prepareFirst = 'Run `lesion-lab prepare --data DATASET --out DIR` first, then pass that DIR as --prepared.';

export async function readPreparedManifest(dir: string): Promise<PreparedManifest> {
  const resolved = path.resolve(dir);
  const stat = await fs.stat(resolved).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`The prepared folder ${resolved} does not exist. ${prepareFirst}`);
  const file = path.join(resolved, 'manifest.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UserError(`${resolved} has no manifest.json, so it is not a prepared dataset. ${prepareFirst}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}). ${prepareFirst}`);
  }
  const problem = manifestShape(raw, 'manifest');
  if (problem) throw new UserError(`${file} is not a manifest Lesion Lab can read: ${problem}. ${prepareFirst}`);
  const rec = raw as Record<string, unknown> & { version: number; summary: DatasetSummary; images: ManifestImage[] };
  if (rec.version !== 1) {
    throw new UserError(`${file} has manifest version ${rec.version}; this Lesion Lab reads version 1. ${prepareFirst}`);
  }
  for (const image of rec.images) {
    if (path.isAbsolute(image.file) || image.file.split(/[\\/]/).includes('..')) {
      throw new UserError(`${file} lists ${JSON.stringify(image.file)}, which is outside the prepared folder. ${prepareFirst}`);
    }
  }
  return { dir: resolved, file, summary: rec.summary, images: rec.images, raw: rec };
}

/** Rewrites manifest.json atomically with the augmentation record and per-class augmented counts. */
export async function recordAugmentation(manifest: PreparedManifest, record: AugmentationRecord): Promise<void> {
  // Re-read so a concurrent edit of other fields is not lost between read and write.
  const current = JSON.parse(await fs.readFile(manifest.file, 'utf8')) as Record<string, unknown>;
  const summary = current.summary as DatasetSummary;
  for (const cls of summary.classes) {
    const counts = record.perClass[cls.name];
    if (counts) cls.augmented = counts.after - counts.before;
  }
  current.augmentation = record;
  await writeJsonAtomic(manifest.file, current);
}
