/**
 * Train/validation splits, pure and seeded.
 *
 * `lesionGroupedSplit` (the default) keeps every lesion on one side: HAM10000 has 10,015 images of
 * 7,470 lesions, and an image-level split puts photos of the same lesion in both sets, which flatters
 * validation accuracy. Per class, lesions are shuffled and packed first-fit into val until the class's
 * share of images reaches valFraction, so each class keeps its proportion.
 *
 * `groupedSplit` is the same for any group column: where a group can hold several classes (a patient with
 * a melanoma and a nevus, in ISIC 2020), groups go to val whole, in a seeded order, whenever that brings
 * every class's val count closer to its share.
 *
 * `imageStratifiedSplit` reproduces the reference workflow's
 * `train_test_split(test_size=0.2, stratify=dx, random_state=101)`: the same count of val images in all
 * (ceil(fraction · n)) and the same per-class allocation (sklearn's `_approximate_mode`: floor of the
 * proportional share, then the leftovers to the largest remainders). Which images are drawn differs —
 * sklearn permutes with numpy's MT19937, this uses mulberry32 — so exact parity with sklearn is NOT
 * attempted, only the semantics.
 */
import { compareClassNames } from '../../shared/classes';
import { createRng, deriveSeed, shuffle } from '../../shared/random';

export interface SplitItem {
  imageId: string;
  /** The group kept on one side: a lesion, a patient, or the image's own key. */
  lesionId: string;
  dx: string;
}

export type SplitSide = 'train' | 'val';

/** One side per item, in the items' order. Does not depend on the items' order, only on their content. */
export type SplitAssignment = SplitSide[];

/** `classes` fixes the order (and includes classes with no items); by default the items' classes, sorted. */
function indicesByClass(items: readonly SplitItem[], classes?: readonly string[]): Map<string, number[]> {
  const byClass = new Map<string, number[]>();
  for (const dx of classes ?? [...new Set(items.map((i) => i.dx))].sort(compareClassNames)) byClass.set(dx, []);
  items.forEach((item, i) => {
    const list = byClass.get(item.dx);
    if (list) list.push(i);
    else byClass.set(item.dx, [i]);
  });
  for (const list of byClass.values()) list.sort((a, b) => compare(items[a]!.imageId, items[b]!.imageId));
  return byClass;
}

export function lesionGroupedSplit(items: readonly SplitItem[], valFraction: number, seed: number): SplitAssignment {
  const sides: SplitAssignment = items.map(() => 'train');
  for (const [dx, indices] of indicesByClass(items)) {
    const lesions = new Map<string, number[]>();
    for (const i of indices) {
      const id = items[i]!.lesionId;
      const group = lesions.get(id);
      if (group) group.push(i);
      else lesions.set(id, [i]);
    }
    if (lesions.size < 2) continue; // one lesion cannot be split without leaking
    const groups = shuffle(
      createRng(deriveSeed(seed, 'lesion-split', dx)),
      [...lesions.entries()].sort(([a], [b]) => compare(a, b)).map(([, g]) => g),
    );
    const target = Math.round(valFraction * indices.length);
    const inVal = new Set<number[]>();
    let val = 0;
    for (const g of groups) {
      if (val + g.length <= target) {
        inVal.add(g);
        val += g.length;
      }
    }
    // Every group left is too big to fit; take the smallest if overshooting is closer than stopping short.
    const rest = groups.filter((g) => !inVal.has(g));
    const smallest = rest.reduce<number[] | undefined>((best, g) => (!best || g.length < best.length ? g : best), undefined);
    if (smallest && rest.length > 1 && target > 0 && val + smallest.length - target < target - val) inVal.add(smallest);
    for (const g of inVal) for (const i of g) sides[i] = 'val';
  }
  return sides;
}

/**
 * Keeps every group on one side. Groups of one class each (lesions) are split class by class, as
 * lesionGroupedSplit does; groups that hold several classes (patients) go by stratifiedGroupSplit.
 */
export function groupedSplit(items: readonly SplitItem[], valFraction: number, seed: number): SplitAssignment {
  const classOf = new Map<string, string>();
  for (const item of items) {
    const dx = classOf.get(item.lesionId);
    if (dx !== undefined && dx !== item.dx) return stratifiedGroupSplit(items, valFraction, seed);
    classOf.set(item.lesionId, item.dx);
  }
  return lesionGroupedSplit(items, valFraction, seed);
}

/**
 * Whole groups to val, largest first among equals in a seeded order, each one only if it brings the val
 * counts closer to valFraction of every class (squared error summed over classes) — a greedy form of
 * sklearn's StratifiedGroupKFold for one fold.
 */
export function stratifiedGroupSplit(items: readonly SplitItem[], valFraction: number, seed: number): SplitAssignment {
  const sides: SplitAssignment = items.map(() => 'train');
  const classes = [...new Set(items.map((i) => i.dx))].sort(compareClassNames);
  const classIndex = new Map(classes.map((c, k) => [c, k]));
  const groups = new Map<string, { members: number[]; counts: number[] }>();
  items.forEach((item, i) => {
    let g = groups.get(item.lesionId);
    if (!g) groups.set(item.lesionId, (g = { members: [], counts: classes.map(() => 0) }));
    g.members.push(i);
    g.counts[classIndex.get(item.dx)!]! += 1;
  });
  const totals = classes.map(() => 0);
  for (const item of items) totals[classIndex.get(item.dx)!]! += 1;
  const target = totals.map((n) => valFraction * n);
  const val = classes.map(() => 0);
  // Rare classes weigh as much as common ones: the error is counted in shares of each class.
  const cost = (counts: readonly number[]): number => counts.reduce((sum, v, k) => sum + ((v - target[k]!) / Math.max(1, totals[k]!)) ** 2, 0);
  const ordered = shuffle(createRng(deriveSeed(seed, 'group-split')), [...groups.keys()].sort(compare)).map((k) => groups.get(k)!);
  ordered.sort((a, b) => b.members.length - a.members.length);
  if (groups.size < 2) return sides;
  for (const g of ordered) {
    const withG = val.map((v, k) => v + g.counts[k]!);
    if (cost(withG) < cost(val)) {
      withG.forEach((v, k) => (val[k] = v));
      for (const i of g.members) sides[i] = 'val';
    }
  }
  return sides;
}

/** `classes`: the dataset's classes in order (the allocation's tie-breaking depends on it). */
export function imageStratifiedSplit(items: readonly SplitItem[], valFraction: number, seed: number, classes?: readonly string[]): SplitAssignment {
  const sides: SplitAssignment = items.map(() => 'train');
  const byClass = indicesByClass(items, classes);
  const order = [...byClass.keys()];
  const allocation = allocateProportionally(
    order.map((dx) => byClass.get(dx)!.length),
    Math.ceil(valFraction * items.length),
    createRng(deriveSeed(seed, 'image-split-allocation')),
  );
  order.forEach((dx, c) => {
    const indices = shuffle(createRng(deriveSeed(seed, 'image-split', dx)), [...byClass.get(dx)!]);
    for (const i of indices.slice(0, allocation[c])) sides[i] = 'val';
  });
  return sides;
}

/**
 * Splits `total` draws over classes in proportion to `counts` (sklearn's `_approximate_mode`): each
 * gets the floor of its share, the rest go one each to the largest remainders, ties in random order.
 * A class never gives away all its members.
 */
export function allocateProportionally(counts: readonly number[], total: number, rng: () => number): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return counts.map(() => 0);
  const exact = counts.map((c) => (total * c) / n);
  const alloc = exact.map((x, i) => Math.min(Math.floor(x), Math.max(0, counts[i]! - 1)));
  let left = total - alloc.reduce((a, b) => a + b, 0);
  const order = shuffle(rng, counts.map((_, i) => i)).sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)));
  for (let pass = 0; left > 0 && pass < 2; pass++) {
    for (const i of order) {
      if (left === 0) break;
      if (alloc[i]! < counts[i]! - 1) {
        alloc[i] = alloc[i]! + 1;
        left--;
      }
    }
  }
  return alloc;
}

/** Lesions with images on both sides: the leakage an image-level split causes. */
export function countStraddlingLesions(items: readonly SplitItem[], sides: SplitAssignment): number {
  const seen = new Map<string, Set<SplitSide>>();
  items.forEach((item, i) => {
    const set = seen.get(item.lesionId) ?? new Set<SplitSide>();
    set.add(sides[i]!);
    seen.set(item.lesionId, set);
  });
  let straddling = 0;
  for (const set of seen.values()) if (set.size > 1) straddling++;
  return straddling;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
