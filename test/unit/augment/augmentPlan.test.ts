import assert from 'node:assert/strict';
import { outputsNeeded, planClass } from '../../../src/backend/augment/augmentPlan';

const sources = (n: number): { imageId: string; path: string }[] =>
  Array.from({ length: n }, (_, i) => ({ imageId: `ISIC_${String(i).padStart(7, '0')}`, path: `/p/train/df/ISIC_${i}.jpg` }));

describe('augmentPlan', () => {
  it('spreads outputs over sources round-robin: counts differ by at most one', () => {
    const plan = planClass('df', sources(92), 6000, 1, false);
    assert.equal(plan.outputs.length, 6000 - 92);
    const counts = new Map<string, number>();
    for (const o of plan.outputs) counts.set(o.source.imageId, (counts.get(o.source.imageId) ?? 0) + 1);
    assert.equal(counts.size, 92);
    assert.deepEqual(new Set(counts.values()), new Set([64, 65])); // 5908 = 92 · 64 + 20
    assert.equal(new Set(plan.outputs.map((o) => o.name)).size, plan.outputs.length, 'names are unique');
  });

  it('a lower target plans a subset of a higher one, with the same seeds', () => {
    const hi = planClass('df', sources(10), 57, 3, false);
    const lo = planClass('df', sources(10), 23, 3, false);
    const byName = new Map(hi.outputs.map((o) => [o.name, o.seed]));
    for (const o of lo.outputs) assert.equal(byName.get(o.name), o.seed, o.name);
  });

  it('does not depend on the order sources are listed in', () => {
    const a = planClass('df', sources(7), 20, 3, false);
    const b = planClass('df', sources(7).reverse(), 20, 3, false);
    assert.deepEqual(a.outputs.map((o) => o.name), b.outputs.map((o) => o.name));
  });

  it('fewer outputs than sources: one each for a seed-chosen subset, not the lowest IDs', () => {
    const plan = planClass('bkl', sources(100), 130, 3, false);
    assert.equal(plan.outputs.length, 30);
    assert.ok(plan.outputs.every((o) => o.index === 0));
    const ids = plan.outputs.map((o) => Number(o.source.imageId.slice(5))).sort((x, y) => x - y);
    assert.notDeepEqual(ids, Array.from({ length: 30 }, (_, i) => i));
  });

  it('needs nothing when skipped, at or over target, or without sources', () => {
    assert.equal(outputsNeeded(10, 6000, true), 0);
    assert.equal(outputsNeeded(6705, 6000, false), 0);
    assert.equal(outputsNeeded(0, 6000, false), 0);
    assert.equal(planClass('nv', sources(5), 100, 1, true).outputs.length, 0);
  });
});
