import assert from 'node:assert/strict';
import { LESION_CLASSES, LESION_CLASS_INFO } from '../../../src/shared/classes';
import type { LesionClass } from '../../../src/shared/classes';
import { createRng, shuffle } from '../../../src/shared/random';
import type { SplitAssignment, SplitItem } from '../../../src/backend/dataset/split';
import { allocateProportionally, countStraddlingLesions, groupedSplit, imageStratifiedSplit, lesionGroupedSplit, stratifiedGroupSplit } from '../../../src/backend/dataset/split';

/** HAM10000's lesions per class (7,470 in all); image counts come from LESION_CLASS_INFO (10,015). */
const HAM_LESIONS: Record<LesionClass, number> = { akiec: 228, bcc: 327, bkl: 727, df: 73, mel: 614, nv: 5403, vasc: 98 };

/** A synthetic index with HAM10000's class and lesion counts: 1 to 6 images per lesion. */
function hamLikeIndex(): SplitItem[] {
  const rng = createRng(7);
  const items: SplitItem[] = [];
  let lesionNo = 0;
  let imageNo = 0;
  for (const dx of LESION_CLASSES) {
    const lesions = HAM_LESIONS[dx];
    const sizes = new Array<number>(lesions).fill(1);
    for (let extra = LESION_CLASS_INFO[dx].ham10000Images - lesions; extra > 0; ) {
      const i = Math.floor(rng() * lesions);
      if (sizes[i]! < 6) {
        sizes[i]!++;
        extra--;
      }
    }
    for (const size of sizes) {
      const lesionId = `HAM_${String(lesionNo++).padStart(7, '0')}`;
      for (let k = 0; k < size; k++) items.push({ imageId: `ISIC_${String(imageNo++).padStart(7, '0')}`, lesionId, dx });
    }
  }
  return items;
}

function valFractionByClass(items: SplitItem[], sides: SplitAssignment): Map<LesionClass, number> {
  const result = new Map<LesionClass, number>();
  for (const dx of LESION_CLASSES) {
    const idx = items.map((it, i) => (it.dx === dx ? i : -1)).filter((i) => i >= 0);
    result.set(dx, idx.filter((i) => sides[i] === 'val').length / idx.length);
  }
  return result;
}

describe('dataset split', () => {
  const items = hamLikeIndex();

  it('builds a HAM-like index: 10,015 images of 7,470 lesions', () => {
    assert.equal(items.length, 10015);
    assert.equal(new Set(items.map((i) => i.lesionId)).size, 7470);
  });

  describe('lesionGroupedSplit', () => {
    const sides = lesionGroupedSplit(items, 0.2, 101);

    it('never puts one lesion in both train and val', () => {
      assert.equal(countStraddlingLesions(items, sides), 0);
    });

    it('keeps every class within 2 points of the requested val fraction, and the whole within 0.5 points', () => {
      for (const [dx, fraction] of valFractionByClass(items, sides)) {
        assert.ok(Math.abs(fraction - 0.2) <= 0.02, `${dx}: val fraction ${fraction.toFixed(4)}`);
      }
      const overall = sides.filter((s) => s === 'val').length / items.length;
      assert.ok(Math.abs(overall - 0.2) <= 0.005, `overall ${overall}`);
    });

    it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
      assert.deepEqual(lesionGroupedSplit(items, 0.2, 101), sides);
      const order = shuffle(createRng(3), items.map((_, i) => i));
      const shuffled = order.map((i) => items[i]!);
      const again = lesionGroupedSplit(shuffled, 0.2, 101);
      order.forEach((orig, k) => assert.equal(again[k], sides[orig]));
      const other = lesionGroupedSplit(items, 0.2, 102);
      assert.notDeepEqual(other, sides);
      assert.equal(countStraddlingLesions(items, other), 0);
    });

    it('honours other fractions', () => {
      const s = lesionGroupedSplit(items, 0.35, 5);
      for (const [dx, fraction] of valFractionByClass(items, s)) assert.ok(Math.abs(fraction - 0.35) <= 0.02, `${dx}: ${fraction}`);
    });

    it('keeps a class with a single lesion in train, and gives a class with two lesions one val lesion', () => {
      const tiny: SplitItem[] = [
        { imageId: 'a1', lesionId: 'A', dx: 'df' },
        { imageId: 'a2', lesionId: 'A', dx: 'df' },
        { imageId: 'b1', lesionId: 'B', dx: 'vasc' },
        { imageId: 'c1', lesionId: 'C', dx: 'vasc' },
        { imageId: 'c2', lesionId: 'C', dx: 'vasc' },
        { imageId: 'c3', lesionId: 'C', dx: 'vasc' },
        { imageId: 'c4', lesionId: 'C', dx: 'vasc' },
      ];
      const s = lesionGroupedSplit(tiny, 0.2, 1);
      assert.deepEqual(s, ['train', 'train', 'val', 'train', 'train', 'train', 'train']);
    });
  });

  describe('imageStratifiedSplit', () => {
    const sides = imageStratifiedSplit(items, 0.2, 101);

    it("holds out ceil(0.2 · n) images with sklearn's per-class allocation", () => {
      assert.equal(sides.filter((s) => s === 'val').length, Math.ceil(0.2 * 10015));
      const perClass = LESION_CLASSES.map((dx) => items.filter((it, i) => it.dx === dx && sides[i] === 'val').length);
      // floor(2003 · n_c / 10015) = floor(n_c / 5) for these counts, and the 3 leftovers go to the largest remainders.
      const floors = LESION_CLASSES.map((dx) => Math.floor(LESION_CLASS_INFO[dx].ham10000Images / 5));
      assert.equal(perClass.reduce((a, b) => a + b, 0), 2003);
      perClass.forEach((n, c) => assert.ok(n === floors[c] || n === floors[c]! + 1, `${LESION_CLASSES[c]}: ${n}`));
    });

    it('lets lesions straddle the two sets, and counts them', () => {
      const straddling = countStraddlingLesions(items, sides);
      assert.ok(straddling > 300, `only ${straddling} straddling lesions`);
    });

    it('is deterministic for a seed', () => {
      assert.deepEqual(imageStratifiedSplit(items, 0.2, 101), sides);
      assert.notDeepEqual(imageStratifiedSplit(items, 0.2, 7), sides);
    });
  });

  describe('groupedSplit: any group column', () => {
    /** ISIC 2020-like: 2,000 patients with 1 to 30 images each, 2% malignant, a malignant patient's other lesions benign. */
    function patients(): SplitItem[] {
      const rng = createRng(11);
      const out: SplitItem[] = [];
      for (let p = 0; p < 2000; p++) {
        const n = 1 + Math.floor(rng() * rng() * 30);
        for (let i = 0; i < n; i++) out.push({ imageId: `ISIC_${p}_${i}`, lesionId: `IP_${p}`, dx: rng() < 0.02 ? 'malignant' : 'benign' });
      }
      return out;
    }
    const byPatient = patients();

    it('is the lesion split, image for image, where every group has one class (HAM10000 unchanged)', () => {
      assert.deepEqual(groupedSplit(items, 0.2, 101), lesionGroupedSplit(items, 0.2, 101));
    });

    it('keeps every patient on one side even when a patient has several classes, with each class near its share', () => {
      const sides = groupedSplit(byPatient, 0.2, 101);
      assert.deepEqual(sides, stratifiedGroupSplit(byPatient, 0.2, 101));
      assert.equal(countStraddlingLesions(byPatient, sides), 0);
      for (const dx of ['benign', 'malignant']) {
        const idx = byPatient.map((it, i) => (it.dx === dx ? i : -1)).filter((i) => i >= 0);
        const share = idx.filter((i) => sides[i] === 'val').length / idx.length;
        assert.ok(Math.abs(share - 0.2) < 0.02, `${dx}: ${(100 * share).toFixed(1)}% of ${idx.length} in val`);
      }
    });

    it('is deterministic for a seed and independent of the items’ order', () => {
      const sides = stratifiedGroupSplit(byPatient, 0.2, 101);
      const order = shuffle(createRng(3), byPatient.map((_, i) => i));
      const again = stratifiedGroupSplit(order.map((i) => byPatient[i]!), 0.2, 101);
      order.forEach((i, k) => assert.equal(again[k], sides[i]));
      assert.notDeepEqual(stratifiedGroupSplit(byPatient, 0.2, 102), sides);
    });
  });

  it('allocateProportionally gives floors plus leftovers to the largest remainders', () => {
    // 10 of [5, 3, 2] → exact [5, 3, 2]; of 7: exact [3.5, 2.1, 1.4] → floors [3, 2, 1] + 1 to the 0.5 remainder
    assert.deepEqual(allocateProportionally([5, 3, 2], 7, createRng(1)), [4, 2, 1]);
    assert.deepEqual(allocateProportionally([1, 1, 8], 3, createRng(1)), [0, 0, 3], 'a one-member class keeps its member');
    assert.deepEqual(allocateProportionally([0, 0], 0, createRng(1)), [0, 0]);
  });
});
