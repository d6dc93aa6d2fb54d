/** The labelled image lists training and evaluation read from a prepared folder. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FoldScheme, ManifestImage, PreparedManifest } from '../dataset/manifest';
import { findFoldScheme, foldSplit } from '../dataset/foldScheme';
import type { RunConfig } from '../../shared/runConfig';
import { UserError } from '../errors';
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

/**
 * The images of a run's own splits: its fold's training and validation images for a cross-validation run, else the
 * prepared split's. Evaluating a fold run on its prepared folder validates on its fold, never on images it trained on.
 */
export function runSplitImages(manifest: PreparedManifest, preparedDir: string, config: Pick<RunConfig, 'classes' | 'options'>): Record<'train' | 'val' | 'test', LabeledImage[]> {
  const splits = splitImages(manifest, preparedDir, config.classes);
  const o = config.options;
  if (o.folds === undefined || o.fold === undefined) return splits;
  const scheme = findFoldScheme(manifest, o.folds, o.foldSeed);
  if (!scheme) throw new UserError(`The run was trained on fold ${o.fold} of ${o.folds}, and ${preparedDir}'s manifest no longer records those folds (was it prepared again?). Evaluate it with --data on another prepared dataset.`);
  const { train, val } = foldImages(manifest, preparedDir, config.classes, scheme, o.fold);
  return { train, val, test: splits.test };
}

/** A cross-validation fold's images: `fold` (1-based) validates, the other folds train; `trainIds` names the training images. */
export function foldImages(manifest: PreparedManifest, preparedDir: string, classes: readonly string[], scheme: FoldScheme, fold: number): { train: LabeledImage[]; val: LabeledImage[]; trainIds: Set<string> } {
  const { train, val } = foldSplit(manifest, scheme, fold);
  const labeled = (list: ManifestImage[]): LabeledImage[] => list.map((img) => ({ file: path.join(preparedDir, ...img.file.split('/')), label: classes.indexOf(img.dx) }));
  return { train: labeled(train), val: labeled(val), trainIds: new Set(train.map((i) => i.imageId)) };
}

/** The image an augmented file was made from (`aug/<class>/<imageId>_aug<k>.jpg`, as augment names them). */
export function augmentedSourceId(file: string): string | undefined {
  return /^(.+)_aug\d+\.jpe?g$/i.exec(path.basename(file))?.[1];
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
