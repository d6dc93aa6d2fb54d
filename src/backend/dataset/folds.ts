/**
 * K-fold cross-validation folds, pure and seeded: every image in exactly one fold, every group (a lesion, a
 * patient, and any near-duplicate cluster that joins groups) whole in one fold, and each class spread evenly.
 *
 * Groups of one class each (HAM10000's lesions) are dealt class by class, largest first, each to the fold that
 * has the fewest images of that class so far (ties: fewest images in all, then a seeded order). That is the
 * longest-processing-time rule: a fold's count of a class ends at most one group's size from another's, so
 * with single-image groups last (most lesions have one image) each class is within one image of n/K per fold.
 *
 * Groups that hold several classes (an ISIC 2020 patient with a melanoma and a nevus) go, largest first, to the
 * fold where they leave the per-class counts closest to n_c/K (squared error in shares of each class) — the idea
 * of scikit-learn's StratifiedGroupKFold.
 */
import { compareClassNames } from '../../shared/classes';
import { createRng, deriveSeed, shuffle } from '../../shared/random';
import { UnionFind } from '../../shared/unionFind';

export interface FoldItem {
  /** A key unique to the image (its file in the prepared folder). */
  key: string;
  /** The group kept in one fold: lesion, patient, or the image itself. */
  group: string;
  dx: string;
  /** Further keys whose images must share a fold with this one (near-duplicate clusters). */
  linked?: readonly string[];
}

/** The fold (0-based) of each item, in the items' order. Depends on the items' content, not their order. */
export type FoldAssignment = number[];

export function groupedStratifiedFolds(items: readonly FoldItem[], k: number, seed: number): FoldAssignment {
  if (!Number.isInteger(k) || k < 2) throw new Error(`folds: k must be a whole number of at least 2, got ${k}`);
  const groups = joinedGroups(items);
  const classes = [...new Set(items.map((i) => i.dx))].sort(compareClassNames);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const byClass = classes.map(() => new Array<number>(k).fill(0));
  const totals = new Array<number>(k).fill(0);
  const folds = new Array<number>(items.length).fill(-1);
  const rng = createRng(deriveSeed(seed, 'cv-folds', k));
  // A seeded tie-break order of the folds, fixed for the whole assignment.
  const foldRank = shuffle(rng, Array.from({ length: k }, (_, f) => f));
  const place = (g: Group, f: number): void => {
    for (const i of g.members) {
      folds[i] = f;
      byClass[classIndex.get(items[i]!.dx)!]![f]!++;
      totals[f]!++;
    }
  };
  const ordered = (list: Group[], salt: string): Group[] =>
    shuffle(createRng(deriveSeed(seed, 'cv-order', k, salt)), [...list].sort((a, b) => compare(a.id, b.id))).sort((a, b) => b.members.length - a.members.length);

  const singleClass = groups.filter((g) => g.classes.size === 1);
  const mixed = groups.filter((g) => g.classes.size > 1);
  // Mixed groups first: they are the hard ones, and the single-class ones fill in around them.
  const classTotals = classes.map((c) => items.filter((i) => i.dx === c).length);
  for (const g of ordered(mixed, 'mixed')) {
    const counts = classes.map((c) => g.members.filter((i) => items[i]!.dx === c).length);
    let best = -1;
    let bestCost = Infinity;
    for (const f of foldRank) {
      const cost = classes.reduce((sum, _, c) => {
        let s = 0;
        for (let h = 0; h < k; h++) {
          const v = byClass[c]![h]! + (h === f ? counts[c]! : 0);
          s += ((v - classTotals[c]! / k) / Math.max(1, classTotals[c]!)) ** 2;
        }
        return sum + s;
      }, 0);
      if (cost < bestCost - 1e-12) {
        best = f;
        bestCost = cost;
      }
    }
    place(g, best);
  }
  for (const dx of classes) {
    const c = classIndex.get(dx)!;
    for (const g of ordered(singleClass.filter((g) => g.classes.has(dx)), dx)) {
      let best = foldRank[0]!;
      for (const f of foldRank) {
        const [a, b] = [byClass[c]![f]!, byClass[c]![best]!];
        if (a < b || (a === b && totals[f]! < totals[best]!)) best = f;
      }
      place(g, best);
    }
  }
  return folds;
}

interface Group {
  id: string;
  members: number[];
  classes: Set<string>;
}

/** Groups joined through shared `linked` keys (union–find), each with its members and classes. */
function joinedGroups(items: readonly FoldItem[]): Group[] {
  const sets = new UnionFind();
  for (const item of items) {
    const g = `g:${item.group}`;
    sets.add(g);
    for (const link of item.linked ?? []) sets.union(g, `l:${link}`);
  }
  const groups = new Map<string, Group>();
  items.forEach((item, i) => {
    const id = sets.find(`g:${item.group}`);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { id, members: [], classes: new Set() }));
    g.members.push(i);
    g.classes.add(item.dx);
  });
  return [...groups.values()];
}

/** Images per fold and class: `counts[fold][class]`, classes in `classes` order. */
export function foldCounts(items: readonly FoldItem[], folds: FoldAssignment, k: number, classes: readonly string[]): number[][] {
  const index = new Map(classes.map((c, i) => [c, i]));
  const counts = Array.from({ length: k }, () => new Array<number>(classes.length).fill(0));
  items.forEach((item, i) => {
    const c = index.get(item.dx);
    if (c !== undefined) counts[folds[i]!]![c]!++;
  });
  return counts;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
