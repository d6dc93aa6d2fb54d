/**
 * A prepared dataset's identity as a run sees it: the images it reads (path in the prepared folder, class,
 * split) and each file's size and modification time. Computing it costs one stat per image (a tenth of a second
 * for HAM10000), and it catches a re-split, a relabelled or replaced image, and a re-run of `augment`. Paths are
 * relative, so a prepared folder moved or copied with its timestamps keeps its fingerprint; preparing the same
 * data again with hard links (the default) links the same files and keeps it too.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetFingerprint } from '../../shared/runConfig';
import { UserError } from '../errors';
import type { LabeledImage } from './imagePipeline';

const STATS_IN_FLIGHT = 32;

export interface FingerprintInput {
  prepared: string;
  classes: readonly string[];
  train: readonly LabeledImage[];
  val: readonly LabeledImage[];
}

export async function datasetFingerprint(input: FingerprintInput): Promise<DatasetFingerprint> {
  const rows = [...input.train.map((i) => ({ i, split: 'train' })), ...input.val.map((i) => ({ i, split: 'val' }))].map(({ i, split }) => ({
    file: i.file,
    key: `${path.relative(input.prepared, i.file).split(path.sep).join('/')}\t${input.classes[i.label] ?? i.label}\t${split}`,
  }));
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const stats = new Array<{ size: number; mtime: number } | undefined>(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const k = next++;
      const st = await fs.stat(rows[k]!.file).catch(() => undefined);
      stats[k] = st && { size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATS_IN_FLIGHT, rows.length) }, worker));
  const missing = rows.filter((_, k) => !stats[k]).map((r) => path.relative(input.prepared, r.file));
  if (missing.length > 0) {
    throw new UserError(
      `${missing.length} image(s) that ${path.join(input.prepared, 'manifest.json')} lists are missing from the prepared folder (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}). ` +
        'Prepare the dataset again (and augment it again with --augment disk).',
    );
  }
  const labels = createHash('sha256');
  const files = createHash('sha256');
  rows.forEach((r, k) => {
    labels.update(`${r.key}\n`);
    files.update(`${r.key}\t${stats[k]!.size}\t${stats[k]!.mtime}\n`);
  });
  return { labels: labels.digest('hex'), files: files.digest('hex'), images: rows.length };
}

/** Why `now` is not the dataset a run started from, in words; undefined when it is the same. */
export function describeDatasetChange(then: DatasetFingerprint, now: DatasetFingerprint): string | undefined {
  if (then.labels !== now.labels) {
    return then.images !== now.images
      ? `it now holds ${now.images} images where the run started with ${then.images}`
      : 'its images, their classes or the train/val split differ from when the run started';
  }
  if (then.files !== now.files) return 'the same images and labels, but some files were replaced or rewritten since the run started (their sizes or modification times differ)';
  return undefined;
}
