/**
 * Cross-validation folds as the prepared manifest records them: made once per (K, seed) by `cv` or `sweep`
 * and read by every fold run, so the folds of a study never change under it.
 */
import { promises as fs } from 'node:fs';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { FoldItem } from './folds';
import { foldCounts, groupedStratifiedFolds } from './folds';
import type { FoldScheme, ManifestImage, PreparedManifest } from './manifest';
import { manifestClasses, manifestPath, readManifest } from './manifest';

/** The images folds are made of: training and validation, never the test set. */
export function foldableImages(manifest: PreparedManifest): ManifestImage[] {
  return manifest.images.filter((i) => i.split !== 'test');
}

/** In group mode, the images of a near-duplicate cluster are linked: their groups share a fold, as they share a split side. */
function foldItems(images: readonly ManifestImage[], manifest: PreparedManifest): FoldItem[] {
  const nd = manifest.nearDuplicates;
  const clusterOf = new Map<string, string>();
  if (nd?.mode === 'group') nd.clusters.forEach((files, k) => files.forEach((f) => clusterOf.set(f, `near-duplicates ${k}`)));
  return images.map((i) => {
    const cluster = clusterOf.get(i.file);
    return { key: i.file, group: i.lesionId, dx: i.dx, ...(cluster ? { linked: [cluster] } : {}) };
  });
}

/** What a fold keeps whole, in the data's words. */
function groupedBy(manifest: PreparedManifest): string {
  const s = manifest.summary;
  if (s.grouping) return s.grouping.column;
  return s.leakage ? 'image' : 'lesion_id';
}

/** The recorded scheme for K folds: the one with `seed`, or, without a seed, the only one for K. */
export function findFoldScheme(manifest: PreparedManifest, folds: number, seed?: number): FoldScheme | undefined {
  const schemes = (manifest.crossValidation ?? []).filter((s) => s.folds === folds && (seed === undefined || s.seed === seed));
  if (seed === undefined && schemes.length > 1) {
    throw new UserError(`The prepared manifest records ${schemes.length} sets of ${folds} folds (seeds ${schemes.map((s) => s.seed).join(', ')}); say which with --fold-seed.`);
  }
  return schemes[0];
}

/** Makes the folds for (K, seed) if the manifest does not have them yet, and records them atomically; returns them. */
export async function recordFoldScheme(prepared: string, folds: number, seed: number): Promise<{ scheme: FoldScheme; created: boolean }> {
  const manifest = await readManifest(prepared);
  const existing = findFoldScheme(manifest, folds, seed);
  if (existing) return { scheme: existing, created: false };
  const images = foldableImages(manifest);
  const groups = new Set(images.map((i) => i.lesionId)).size;
  if (groups < folds) throw new UserError(`${folds} folds need at least ${folds} ${groupedBy(manifest)} groups, and ${prepared} has ${groups}. Use fewer --folds.`);
  const items = foldItems(images, manifest);
  const assigned = groupedStratifiedFolds(items, folds, seed);
  const classes = manifestClasses(manifest).map((c) => c.name);
  const scheme: FoldScheme = {
    folds,
    seed,
    groupedBy: groupedBy(manifest),
    createdAt: new Date().toISOString(),
    counts: foldCounts(items, assigned, folds, classes),
    assignment: Object.fromEntries(images.map((img, i) => [img.file, assigned[i]!])),
  };
  // Re-read just before writing so that a field another stage wrote since (augmentation) is kept.
  const file = manifestPath(prepared);
  const current = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  current.crossValidation = [...((current.crossValidation as FoldScheme[] | undefined) ?? []), scheme];
  await writeJsonAtomic(file, current);
  return { scheme, created: true };
}

/** Fold `fold` (1-based) of a scheme: its images are the validation set, the other folds' the training set. */
export function foldSplit(manifest: PreparedManifest, scheme: FoldScheme, fold: number): { train: ManifestImage[]; val: ManifestImage[] } {
  if (!Number.isInteger(fold) || fold < 1 || fold > scheme.folds) throw new UserError(`--fold must be between 1 and ${scheme.folds}, got ${fold}.`);
  const train: ManifestImage[] = [];
  const val: ManifestImage[] = [];
  const missing: string[] = [];
  for (const img of foldableImages(manifest)) {
    const f = scheme.assignment[img.file];
    if (f === undefined) missing.push(img.file);
    else (f === fold - 1 ? val : train).push(img);
  }
  if (missing.length > 0) {
    throw new UserError(
      `The ${scheme.folds} folds recorded in the prepared manifest do not cover ${missing.length} of its images (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): the dataset changed after the folds were made. Prepare it again (that clears the folds) and start the cross-validation again.`,
    );
  }
  return { train, val };
}
