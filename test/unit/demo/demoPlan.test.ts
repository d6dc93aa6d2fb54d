import assert from 'node:assert/strict';
import { HAM10000_TOTAL_IMAGES, LESION_CLASSES, LESION_CLASS_INFO } from '../../../src/shared/classes';
import { UserError } from '../../../src/backend/errors';
import { DEFAULT_DEMO_TOTAL, METADATA_HEADER, MIN_DEMO_IMAGES_PER_CLASS, demoClassCounts, metadataCsv, planDemoDataset } from '../../../src/backend/demo/demoPlan';

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

describe('demoClassCounts', () => {
  it('reproduces HAM10000 exactly at --total 10015', () => {
    const counts = demoClassCounts({ total: HAM10000_TOTAL_IMAGES });
    for (const c of LESION_CLASSES) assert.equal(counts[c], LESION_CLASS_INFO[c].ham10000Images, c);
    assert.deepEqual(counts, { akiec: 327, bcc: 514, bkl: 1099, df: 115, mel: 1113, nv: 6705, vasc: 142 });
  });

  it('gives N of every class with --per-class N', () => {
    assert.deepEqual(demoClassCounts({ perClass: 5 }), { akiec: 5, bcc: 5, bkl: 5, df: 5, mel: 5, nv: 5, vasc: 5 });
  });

  it('sums exactly to --total, keeps every class at the floor, and rounds the rest by largest remainder', () => {
    for (let total = 21; total <= 3000; total += 7) {
      const counts = demoClassCounts({ total });
      assert.equal(sum(counts), total, `total ${total}`);
      for (const c of LESION_CLASSES) assert.ok(counts[c] >= MIN_DEMO_IMAGES_PER_CLASS, `${c} at total ${total}`);
      // Classes above the floor are within one image of their exact share of what the floor leaves.
      const free = LESION_CLASSES.filter((c) => counts[c] > MIN_DEMO_IMAGES_PER_CLASS);
      const budget = total - MIN_DEMO_IMAGES_PER_CLASS * (LESION_CLASSES.length - free.length);
      const weight = free.reduce((s, c) => s + LESION_CLASS_INFO[c].ham10000Images, 0);
      for (const c of free) {
        const share = (budget * LESION_CLASS_INFO[c].ham10000Images) / weight;
        assert.ok(Math.abs(counts[c] - share) < 1, `${c} ${counts[c]} vs ${share.toFixed(2)} at total ${total}`);
      }
    }
  });

  it('keeps the HAM10000 order of class sizes at --total 700', () => {
    const c = demoClassCounts({ total: 700 });
    // Quotas 22.86, 35.93, 76.81, 8.04, 77.79, 468.64, 9.93: the five largest remainders round up.
    assert.deepEqual(c, { akiec: 23, bcc: 36, bkl: 77, df: 8, mel: 78, nv: 468, vasc: 10 });
    assert.ok(c.nv > c.mel && c.mel >= c.bkl && c.bkl > c.bcc && c.bcc > c.akiec && c.akiec > c.vasc && c.vasc > c.df);
  });

  it('lifts tiny classes to the floor and takes the images from the others', () => {
    const c = demoClassCounts({ total: 30 });
    assert.equal(sum(c), 30);
    assert.equal(c.df, 3);
    assert.equal(c.vasc, 3);
    assert.ok(c.nv > 3);
    assert.deepEqual(demoClassCounts({ total: 21 }), { akiec: 3, bcc: 3, bkl: 3, df: 3, mel: 3, nv: 3, vasc: 3 });
  });

  it('defaults to DEFAULT_DEMO_TOTAL images', () => {
    assert.equal(sum(demoClassCounts({})), DEFAULT_DEMO_TOTAL);
  });

  it('refuses both options, or a total too small for the floor, with a UserError that says what to do', () => {
    assert.throws(() => demoClassCounts({ total: 100, perClass: 3 }), (e: unknown) => e instanceof UserError && /not both/.test(e.message));
    assert.throws(() => demoClassCounts({ total: 20 }), (e: unknown) => e instanceof UserError && /--total 21 or more/.test(e.message));
    assert.throws(() => demoClassCounts({ perClass: 0 }), UserError);
  });
});

describe('planDemoDataset', () => {
  const counts = demoClassCounts({ total: HAM10000_TOTAL_IMAGES });
  const plan = planDemoDataset(counts, 1);

  it('has the requested images per class, with unique HAM-style ids', () => {
    for (const c of LESION_CLASSES) assert.equal(plan.images.filter((im) => im.lesion.dx === c).length, counts[c]);
    const imageIds = plan.images.map((im) => im.imageId);
    assert.equal(new Set(imageIds).size, imageIds.length);
    for (const id of imageIds) assert.match(id, /^ISIC_\d{7}$/);
    const numbers = imageIds.map((id) => Number(id.slice(5))).sort((a, b) => a - b);
    assert.equal(numbers[0], 24306);
    assert.equal(numbers.at(-1), 24306 + HAM10000_TOTAL_IMAGES - 1);
    const lesionIds = plan.lesions.map((l) => l.lesionId);
    assert.equal(new Set(lesionIds).size, lesionIds.length);
    for (const id of lesionIds) assert.match(id, /^HAM_\d{7}$/);
  });

  it('groups 1–4 images per lesion, about 1.34 on average like HAM10000, a lesion’s images adjacent', () => {
    const perLesion = new Map<string, number>();
    let previous = '';
    const closed = new Set<string>();
    for (const im of plan.images) {
      const id = im.lesion.lesionId;
      if (id !== previous) {
        assert.ok(!closed.has(id), `${id} images are not adjacent`);
        if (previous) closed.add(previous);
        previous = id;
      }
      perLesion.set(id, (perLesion.get(id) ?? 0) + 1);
    }
    for (const n of perLesion.values()) assert.ok(n >= 1 && n <= 4);
    const mean = plan.images.length / plan.lesions.length;
    assert.ok(mean > 1.25 && mean < 1.45, `mean ${mean.toFixed(3)} images per lesion`);
  });

  it('puts the lower ids in part_1 (5,000 of 10,015, as on Kaggle)', () => {
    const part1 = plan.images.filter((im) => im.part === 1);
    assert.equal(part1.length, 5000);
    const maxPart1 = Math.max(...part1.map((im) => Number(im.imageId.slice(5))));
    const minPart2 = Math.min(...plan.images.filter((im) => im.part === 2).map((im) => Number(im.imageId.slice(5))));
    assert.ok(maxPart1 < minPart2);
    // Both parts hold every class (ids are not in class order).
    for (const c of LESION_CLASSES) assert.ok(part1.some((im) => im.lesion.dx === c), c);
  });

  it('gives even the smallest class several lesions', () => {
    const small = planDemoDataset(demoClassCounts({ perClass: 3 }), 9);
    for (const c of LESION_CLASSES) assert.equal(small.lesions.filter((l) => l.dx === c).length, 3, c);
  });

  it('is deterministic in the seed', () => {
    const again = planDemoDataset(counts, 1);
    assert.deepEqual(again.images.map((im) => [im.imageId, im.lesion.lesionId, im.seed]), plan.images.map((im) => [im.imageId, im.lesion.lesionId, im.seed]));
    const other = planDemoDataset(counts, 2);
    assert.notDeepEqual(other.images.map((im) => im.imageId), plan.images.map((im) => im.imageId));
  });

  it('writes the HAM10000 metadata header and plausible values', () => {
    const csv = metadataCsv(plan).trimEnd().split('\n');
    assert.equal(csv[0], METADATA_HEADER);
    assert.equal(csv.length, HAM10000_TOTAL_IMAGES + 1);
    const sites = new Set<string>();
    for (const line of csv.slice(1)) {
      const [lesionId, imageId, dx, dxType, age, sex, site, extra] = line.split(',');
      assert.match(lesionId!, /^HAM_\d{7}$/);
      assert.match(imageId!, /^ISIC_\d{7}$/);
      assert.ok((LESION_CLASSES as readonly string[]).includes(dx!));
      assert.ok(['histo', 'follow_up', 'consensus', 'confocal'].includes(dxType!), dxType);
      const a = Number(age);
      assert.ok(a >= 5 && a <= 85 && a % 5 === 0, age);
      assert.ok(sex === 'male' || sex === 'female');
      assert.ok(site && site.length > 0);
      assert.equal(extra, undefined);
      sites.add(site!);
    }
    assert.ok(sites.has('back') && sites.has('lower extremity') && sites.has('face'));
  });
});
