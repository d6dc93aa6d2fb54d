import assert from 'node:assert/strict';
import { createRng, shuffle } from '../../../src/shared/random';
import type { FoldItem } from '../../../src/backend/dataset/folds';
import { foldCounts, groupedStratifiedFolds } from '../../../src/backend/dataset/folds';

const CLASSES = ['akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc'];
/** HAM10000's lesions and images per class. */
const HAM: Record<string, [lesions: number, images: number]> = { akiec: [228, 327], bcc: [327, 514], bkl: [727, 1099], df: [73, 115], mel: [614, 1113], nv: [5403, 6705], vasc: [98, 142] };

/** HAM10000's class, lesion and image counts, 1 to 6 images per lesion. */
function hamLike(): FoldItem[] {
  const rng = createRng(11);
  const items: FoldItem[] = [];
  let lesionNo = 0;
  for (const dx of CLASSES) {
    const [lesions, images] = HAM[dx]!;
    const sizes = new Array<number>(lesions).fill(1);
    for (let extra = images - lesions; extra > 0; ) {
      const i = Math.floor(rng() * lesions);
      if (sizes[i]! < 6) {
        sizes[i]!++;
        extra--;
      }
    }
    for (const size of sizes) {
      const group = `HAM_${lesionNo++}`;
      for (let k = 0; k < size; k++) items.push({ key: `${dx}/${group}_${k}.jpg`, group, dx });
    }
  }
  return items;
}

function assertGroupsWhole(items: readonly FoldItem[], folds: readonly number[]): void {
  const foldOf = new Map<string, number>();
  items.forEach((item, i) => {
    const seen = foldOf.get(item.group);
    assert.ok(seen === undefined || seen === folds[i], `group ${item.group} is in folds ${seen} and ${folds[i]}`);
    foldOf.set(item.group, folds[i]!);
  });
}

describe('cross-validation folds', () => {
  const items = hamLike();

  for (const k of [2, 5, 10]) {
    it(`${k} folds: every image in exactly one fold, no lesion in two, each class within one image of n/${k} per fold`, () => {
      const folds = groupedStratifiedFolds(items, k, 101);
      assert.equal(folds.length, items.length);
      for (const f of folds) assert.ok(Number.isInteger(f) && f >= 0 && f < k, `fold ${f}`);
      const counts = foldCounts(items, folds, k, CLASSES);
      assert.equal(counts.flat().reduce((a, b) => a + b, 0), items.length);
      assertGroupsWhole(items, folds);
      CLASSES.forEach((dx, c) => {
        const share = HAM[dx]![1] / k;
        for (let f = 0; f < k; f++) assert.ok(Math.abs(counts[f]![c]! - share) < 1 + 1e-9, `${dx} in fold ${f}: ${counts[f]![c]} images, n/k = ${share}`);
      });
    });
  }

  it('is deterministic for a seed, independent of the order of the images, and changes with the seed', () => {
    const folds = groupedStratifiedFolds(items, 5, 101);
    assert.deepEqual(groupedStratifiedFolds(items, 5, 101), folds);
    const order = shuffle(createRng(3), items.map((_, i) => i));
    const again = groupedStratifiedFolds(order.map((i) => items[i]!), 5, 101);
    order.forEach((orig, j) => assert.equal(again[j], folds[orig]));
    const other = groupedStratifiedFolds(items, 5, 102);
    assert.notDeepEqual(other, folds);
    assertGroupsWhole(items, other);
  });

  it('keeps near-duplicate clusters whole: groups linked by a shared key land in one fold', () => {
    const linked = items.map((item, i) => (i % 97 === 0 || i % 97 === 1 ? { ...item, linked: [`cluster-${Math.floor(i / 97)}`] } : item));
    const folds = groupedStratifiedFolds(linked, 5, 7);
    for (let i = 0; i + 1 < linked.length; i += 97) assert.equal(folds[i], folds[i + 1], `cluster ${i / 97}`);
    assertGroupsWhole(linked, folds);
  });

  it('with a big group, a class stays within that group’s size of n/k', () => {
    const skewed: FoldItem[] = [
      ...Array.from({ length: 6 }, (_, i) => ({ key: `big${i}`, group: 'big', dx: 'mel' })),
      ...Array.from({ length: 14 }, (_, i) => ({ key: `m${i}`, group: `m${i}`, dx: 'mel' })),
      ...Array.from({ length: 10 }, (_, i) => ({ key: `n${i}`, group: `n${i}`, dx: 'nv' })),
    ];
    const folds = groupedStratifiedFolds(skewed, 4, 1);
    assertGroupsWhole(skewed, folds);
    const counts = foldCounts(skewed, folds, 4, ['mel', 'nv']);
    for (const row of counts) assert.ok(Math.abs(row[0]! - 5) <= 6 - 1 + 1e-9, `mel ${row[0]}`);
    // The other mel images fill in around the big lesion: 6 in its fold, 14 spread over three.
    assert.deepEqual(counts.map((r) => r[0]).sort(), [4, 5, 5, 6]);
    for (const row of counts) assert.ok(Math.abs(row[1]! - 2.5) < 1, `nv ${row[1]}`);
  });

  it('stratifies groups that span classes (patients) and keeps them whole', () => {
    const rng = createRng(5);
    const patients: FoldItem[] = [];
    for (let p = 0; p < 400; p++) {
      const n = 1 + Math.floor(rng() * 4);
      for (let j = 0; j < n; j++) patients.push({ key: `p${p}_${j}`, group: `p${p}`, dx: rng() < 0.1 ? 'malignant' : 'benign' });
    }
    const folds = groupedStratifiedFolds(patients, 5, 3);
    assertGroupsWhole(patients, folds);
    const counts = foldCounts(patients, folds, 5, ['benign', 'malignant']);
    const totals = [0, 1].map((c) => counts.reduce((a, r) => a + r[c]!, 0));
    for (const row of counts) [0, 1].forEach((c) => assert.ok(Math.abs(row[c]! - totals[c]! / 5) <= 4, `class ${c}: ${row[c]} vs ${totals[c]! / 5}`));
  });

  it('refuses fewer than two folds', () => {
    assert.throws(() => groupedStratifiedFolds(items, 1, 1), /at least 2/);
  });
});
