/**
 * A prepared dataset's identity as a run sees it: the images it reads (path in the prepared folder, class,
 * split) and each file's size and a digest of its first and last 4 KiB. That costs one small read per image (a
 * second or two for HAM10000's 10,015) and catches a re-split, a relabelled or replaced image, and a re-run of
 * `augment`. It does not depend on modification times or absolute paths, so a prepared folder moved or copied
 * elsewhere (by any tool) keeps its fingerprint, and so does preparing the same data again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetFingerprint } from '../../shared/runConfig';
import { UserError } from '../errors';
import type { LabeledImage } from './imagePipeline';

const READS_IN_FLIGHT = 16;
/** Bytes read from each end of a file: a JPEG's headers and first scan lines, and its last ones. */
const EDGE = 4096;

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
  const stats = new Array<{ size: number; digest: string } | undefined>(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const k = next++;
      stats[k] = await fileIdentity(rows[k]!.file).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, rows.length) }, worker));
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
    files.update(`${r.key}\t${stats[k]!.size}\t${stats[k]!.digest}\n`);
  });
  return { labels: labels.digest('hex'), files: files.digest('hex'), images: rows.length };
}

/** Size and a digest of the first and last EDGE bytes (the whole file when it is small). */
async function fileIdentity(file: string): Promise<{ size: number; digest: string }> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const hash = createHash('sha256');
    const read = async (position: number, length: number): Promise<void> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      hash.update(buffer.subarray(0, bytesRead));
    };
    if (size <= 2 * EDGE) await read(0, size);
    else {
      await read(0, EDGE);
      await read(size - EDGE, EDGE);
    }
    return { size, digest: hash.digest('hex').slice(0, 16) };
  } finally {
    await handle.close();
  }
}

/** Why `now` is not the dataset a run started from, in words; undefined when it is the same. */
export function describeDatasetChange(then: DatasetFingerprint, now: DatasetFingerprint): string | undefined {
  if (then.labels !== now.labels) {
    return then.images !== now.images
      ? `it now holds ${now.images} images where the run started with ${then.images}`
      : 'its images, their classes or the train/val split differ from when the run started';
  }
  if (then.files !== now.files) return 'the same images and labels, but some of the image files themselves were replaced since the run started (their sizes or contents differ)';
  return undefined;
}
