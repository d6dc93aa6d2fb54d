/**
 * Near-duplicates across the split. HAM10000 holds the same lesion under different lesion ids (Abhishek, Jain &
 * Hamarneh, Scientific Data 2025): a split by lesion id then puts one photo, resized or re-encoded, in both
 * train and val. Prepare hashes every image during validation's decode (perceptualHash.ts), pairs the images of
 * different groups whose hashes are within a Hamming threshold, and in `group` mode joins those groups
 * (union–find over group ids and pairs) before the grouped split, so that a cluster sits on one side.
 */
import type { NearDuplicateImage, NearDuplicatePair, NearDuplicateSummary } from '../../shared/protocol/results';
import { UnionFind } from '../../shared/unionFind';
import type { NearDuplicateRecord } from './manifest';
import { pairsWithin } from './perceptualHash';

export const NEAR_DUPLICATE_HASH = 'DCT hash of the 32×32 grey image, 64 bits (as imagehash.phash)';
/** Pairs the summary (and so the Dataset panel) carries; manifest.json has more. */
export const SHOWN_PAIRS = 24;
/** Pairs manifest.json lists at most (cross-split ones first): a folder of many copies of one image makes n²/2. */
export const RECORDED_PAIRS = 5000;

/** Two items (indices, a < b) and the bits their hashes differ in. */
export interface IndexPair {
  a: number;
  b: number;
  distance: number;
}

/** Pairs of items within `distance` bits whose groups differ; items of one group are kept together already. */
export function crossGroupPairs(items: readonly { lesionId: string; phash?: string }[], distance: number): IndexPair[] {
  return pairsWithin(
    items.map((i) => i.phash),
    distance,
  ).filter((p) => items[p.a]!.lesionId !== items[p.b]!.lesionId);
}

/** Each item's group once every two groups a pair links are one: the joined group is named after its smallest id. */
export function joinGroups(groups: readonly string[], pairs: readonly IndexPair[]): string[] {
  const sets = new UnionFind();
  for (const p of pairs) sets.union(groups[p.a]!, groups[p.b]!);
  return groups.map((g) => sets.find(g));
}

/** The sets of items the pairs link (two or more each), indices ascending, in the order of their first index. */
export function pairClusters(pairs: readonly IndexPair[]): number[][] {
  const sets = new UnionFind();
  for (const p of pairs) sets.union(key(p.a), key(p.b));
  const byRoot = new Map<string, number[]>();
  for (const i of [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort((x, y) => x - y)) {
    const root = sets.find(key(i));
    const list = byRoot.get(root);
    if (list) list.push(i);
    else byRoot.set(root, [i]);
  }
  return [...byRoot.values()].sort((x, y) => x[0]! - y[0]!);
}

// Fixed-width keys, so that the smallest key (the set's name) is the smallest index.
const key = (i: number): string => String(i).padStart(10, '0');

/** Groups that were joined with at least one other. */
export function countJoinedGroups(groups: readonly string[], joined: readonly string[]): number {
  const members = new Map<string, Set<string>>();
  groups.forEach((g, i) => {
    const set = members.get(joined[i]!) ?? new Set<string>();
    set.add(g);
    members.set(joined[i]!, set);
  });
  let n = 0;
  for (const set of members.values()) if (set.size > 1) n += set.size;
  return n;
}

export interface NearDuplicateReport {
  record: NearDuplicateRecord;
  summary: NearDuplicateSummary;
}

/**
 * The manifest's record and the summary's counts. `images` are all prepared images (train, val and test) with
 * their final split and file; `pairs` index them; `plainSides` is the split without grouping (train/val images).
 */
export function nearDuplicateReport(
  images: readonly NearDuplicateImage[],
  pairs: readonly IndexPair[],
  o: { mode: 'group' | 'ignore'; distance: number; hashed: number; crossSplitPlain: number; groupsJoined: number },
): NearDuplicateReport {
  const shown = ({ file, imageId, lesionId, dx, split }: NearDuplicateImage): NearDuplicateImage => ({ file, imageId, lesionId, dx, split });
  const all: NearDuplicatePair[] = pairs.map((p) => {
    const [a, b] = [shown(images[p.a]!), shown(images[p.b]!)];
    return a.file <= b.file ? { a, b, distance: p.distance } : { a: b, b: a, distance: p.distance };
  });
  const crosses = (p: NearDuplicatePair): boolean => p.a.split !== p.b.split;
  all.sort((x, y) => Number(crosses(y)) - Number(crosses(x)) || x.distance - y.distance || compare(x.a.file, y.a.file) || compare(x.b.file, y.b.file));
  const clusters = pairClusters(pairs)
    .map((c) => c.map((i) => images[i]!.file).sort(compare))
    .sort((x, y) => compare(x[0]!, y[0]!));
  return {
    record: { mode: o.mode, distance: o.distance, hash: NEAR_DUPLICATE_HASH, pairs: all.slice(0, RECORDED_PAIRS), clusters },
    summary: {
      mode: o.mode,
      distance: o.distance,
      hashed: o.hashed,
      pairs: all.length,
      clusters: clusters.length,
      largestCluster: Math.max(0, ...clusters.map((c) => c.length)),
      crossSplit: all.filter(crosses).length,
      crossSplitPlain: o.crossSplitPlain,
      groupsJoined: o.groupsJoined,
      shown: all.slice(0, SHOWN_PAIRS),
    },
  };
}

/** Pairs of train/val items that a train/val assignment puts on different sides. */
export function countCrossing(pairs: readonly IndexPair[], sides: readonly string[]): number {
  return pairs.filter((p) => sides[p.a] !== undefined && sides[p.b] !== undefined && sides[p.a] !== sides[p.b]).length;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
