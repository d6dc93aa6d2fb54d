/** The labelled image lists training and evaluation read from a prepared folder. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PreparedManifest } from '../dataset/manifest';
import { manifestClasses } from '../dataset/manifest';
import type { LabeledImage } from './imagePipeline';

/** Labels are indices into `classes` (a run's class order); an image of a class the run does not have gets -1. */
export function splitImages(manifest: PreparedManifest, preparedDir: string, classes: readonly string[]): Record<'train' | 'val' | 'test', LabeledImage[]> {
  const out: Record<'train' | 'val' | 'test', LabeledImage[]> = { train: [], val: [], test: [] };
  for (const img of manifest.images) {
    out[img.split].push({ file: path.join(preparedDir, ...img.file.split('/')), label: classes.indexOf(img.dx) });
  }
  return out;
}

/** Augmented training images written by `lesion-lab augment` (aug/<class folder>/*.jpg), in a stable order. */
export async function listAugmentedImages(preparedDir: string, manifest: PreparedManifest, classes: readonly string[]): Promise<LabeledImage[]> {
  const out: LabeledImage[] = [];
  const folders = new Map(manifestClasses(manifest).map((c) => [c.name, c.folder]));
  for (const [label, dx] of classes.entries()) {
    const folder = folders.get(dx);
    if (folder === undefined) continue;
    const dir = path.join(preparedDir, 'aug', folder);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => /\.jpe?g$/i.test(n) && !n.startsWith('.')).sort()) out.push({ file: path.join(dir, name), label });
  }
  return out;
}
