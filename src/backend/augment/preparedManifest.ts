/**
 * What `augment` needs from a prepared folder's manifest.json (read and checked by the dataset stage's
 * `readManifest`), and how it writes back its own part (`augmentation`, `summary.classes[].augmented`)
 * without disturbing anything else in the file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetSummary } from '../../shared/protocol/results';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { ManifestImage } from '../dataset/manifest';
import { manifestPath, readManifest } from '../dataset/manifest';

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
}

const prepareFirst = 'Run `lesion-lab prepare --data DATASET --out DIR` first, then pass that DIR as --prepared.';

export async function readPreparedManifest(dir: string): Promise<PreparedManifest> {
  const resolved = path.resolve(dir);
  const stat = await fs.stat(resolved).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`The prepared folder ${resolved} does not exist. ${prepareFirst}`);
  const manifest = await readManifest(resolved);
  const file = manifestPath(resolved);
  for (const image of manifest.images) {
    if (path.isAbsolute(image.file) || image.file.split(/[\\/]/).includes('..')) {
      throw new UserError(`${file} lists ${JSON.stringify(image.file)}, which is outside the prepared folder. ${prepareFirst}`);
    }
  }
  return { dir: resolved, file, summary: manifest.summary, images: manifest.images };
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
