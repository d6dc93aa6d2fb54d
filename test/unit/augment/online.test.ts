import assert from 'node:assert/strict';
import { augmentForTraining, classBalancedSampler, takeSamples } from '../../../src/backend/augment/online';
import { KERAS_REFERENCE_RANGES } from '../../../src/backend/augment/kerasAffine';
import { createRng } from '../../../src/shared/random';

const items = [
  ...Array.from({ length: 2 }, (_, i) => ({ dx: 'df', file: `df/${i}.jpg` })),
  ...Array.from({ length: 7 }, (_, i) => ({ dx: 'mel', file: `mel/${i}.jpg` })),
  ...Array.from({ length: 60 }, (_, i) => ({ dx: 'nv', file: `nv/${i}.jpg` })),
];

describe('online: classBalancedSampler', () => {
  it('draws every class equally often, in every round of K draws', () => {
    const draws = takeSamples(classBalancedSampler(items, createRng(1)), 3 * 1000);
    const perClass = new Map<string, number>();
    for (const d of draws) perClass.set(d.dx, (perClass.get(d.dx) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perClass), { df: 1000, mel: 1000, nv: 1000 });
    for (let i = 0; i < draws.length; i += 3) {
      assert.deepEqual(draws.slice(i, i + 3).map((d) => d.dx).sort(), ['df', 'mel', 'nv'], `round ${i / 3}`);
    }
  });

  it('within a class, uses every item once before repeating any', () => {
    const draws = takeSamples(classBalancedSampler(items, createRng(2)), 3 * 120);
    const nv = draws.filter((d) => d.dx === 'nv').map((d) => d.file);
    assert.equal(new Set(nv.slice(0, 60)).size, 60);
    assert.equal(new Set(nv.slice(60, 120)).size, 60);
    const df = draws.filter((d) => d.dx === 'df').map((d) => d.file);
    for (let i = 0; i < df.length; i += 2) assert.equal(new Set(df.slice(i, i + 2)).size, 2);
  });

  it('is reproducible from its seed, and the order of classes varies between rounds', () => {
    const a = takeSamples(classBalancedSampler(items, createRng(3)), 300).map((d) => d.file);
    const b = takeSamples(classBalancedSampler(items, createRng(3)), 300).map((d) => d.file);
    const c = takeSamples(classBalancedSampler(items, createRng(4)), 300).map((d) => d.file);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const firsts = new Set<string>();
    for (let i = 0; i < a.length; i += 3) firsts.add(a[i]!.split('/')[0]!);
    assert.equal(firsts.size, 3);
  });

  it('refuses an empty list', () => {
    assert.throws(() => classBalancedSampler([], createRng(1)).next());
  });
});

describe('online: augmentForTraining', () => {
  const w = 32;
  const h = 24;
  const raw = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 11) % 256);
  it('returns a transformed image of the same shape, reproducible from the rng', () => {
    const a = augmentForTraining(raw, w, h, createRng(8));
    const b = augmentForTraining(raw, w, h, createRng(8));
    assert.equal(a.length, raw.length);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, raw);
  });
  it('with all ranges at zero and no flips it is the identity', () => {
    const none = { ...KERAS_REFERENCE_RANGES, rotationDeg: 0, widthShift: 0, heightShift: 0, zoom: 0, horizontalFlip: false, verticalFlip: false };
    assert.deepEqual(augmentForTraining(raw, w, h, createRng(8), none), raw);
  });
});
