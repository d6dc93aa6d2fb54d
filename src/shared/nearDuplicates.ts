/** What prepare found and did about near-duplicates, in words for the CLI, the manifest's notes and the Dataset panel. */
import type { NearDuplicateSummary } from './protocol/results';

/**
 * A cluster much larger than a lesion's few photos is a chain of look-alikes (A near B near C …) rather than
 * copies of one: say so, with what to do.
 */
export function chainWarning(s: NearDuplicateSummary, images: number): string | undefined {
  if (s.largestCluster <= Math.max(10, 0.01 * images)) return undefined;
  return (
    `the largest near-duplicate cluster holds ${s.largestCluster} images: look-alikes chained together (A near B near C …) rather than copies of one lesion. ` +
    `Look at the pairs (Dataset panel, or manifest.json › nearDuplicates); prepare with a smaller --near-duplicate-distance (now ${s.distance}) or --near-duplicates ignore if they are not copies.`
  );
}

/** The statement for people: what was found and what was done. */
export function describeNearDuplicates(s: NearDuplicateSummary): string {
  const within = `within ${s.distance} bit${s.distance === 1 ? '' : 's'} of 64`;
  if (s.pairs === 0) return `near-duplicates: none found among ${s.hashed} hashed images (perceptual hash ${within}).`;
  const found = `near-duplicates: ${s.pairs} pair(s) of images from different groups ${within}, in ${s.clusters} cluster(s)`;
  if (s.mode === 'group') {
    return `${found}; grouped: ${s.groupsJoined} group(s) joined so each cluster sits on one side — ${s.crossSplitPlain} pair(s) would have crossed train/val without it${s.crossSplit > 0 ? `, ${s.crossSplit} pair(s) still cross into the held-out test set (it is fixed)` : ''}.`;
  }
  return `${found}; not grouped (--near-duplicates ignore): ${s.crossSplit} pair(s) are in different splits (leakage${s.crossSplit > 0 ? ': validation figures are optimistic' : ''}).`;
}
