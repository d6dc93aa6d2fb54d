import assert from 'node:assert/strict';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { countJoinedGroups, crossGroupPairs, joinGroups, pairClusters } from '../../../src/backend/dataset/nearDuplicates';
import { recordFoldScheme } from '../../../src/backend/dataset/foldScheme';
import { readManifest } from '../../../src/backend/dataset/manifest';
import { prepareDataset } from '../../../src/backend/dataset/prepare';
import type { SplitItem } from '../../../src/backend/dataset/split';
import { groupedSplit } from '../../../src/backend/dataset/split';
import type { PrepareOptions } from '../../../src/shared/protocol/jobs';
import { fakeImages, makeTempDir, recordingContext, writeLesionKaggle } from './fixtures';

/** A hash with the lowest `bits` bits flipped from all zeros (16 hex digits). */
const flipped = (bits: number): string => (bits === 0 ? 0n : (1n << BigInt(bits)) - 1n).toString(16).padStart(16, '0');

describe('dataset/nearDuplicates: pairs across groups, clusters, and the grouped split', () => {
  it('pairs images of different groups within the threshold (inclusive), skips same-group pairs and images without a hash', () => {
    const items = [
      { lesionId: 'L1', phash: flipped(0) },
      { lesionId: 'L2', phash: flipped(4) }, // 4 bits from item 0: at the threshold
      { lesionId: 'L3', phash: flipped(6) }, // 6 from item 0, 2 from item 1
      { lesionId: 'L1', phash: flipped(1) }, // same lesion as item 0: never a pair with it
      { lesionId: 'L4' }, // too uniform to hash
      { lesionId: 'L5', phash: 'ffffffffffffffff' },
    ];
    assert.deepEqual(crossGroupPairs(items, 4), [
      { a: 0, b: 1, distance: 4 },
      { a: 1, b: 2, distance: 2 },
      { a: 1, b: 3, distance: 3 },
    ]);
    assert.deepEqual(crossGroupPairs(items, 3), [
      { a: 1, b: 2, distance: 2 },
      { a: 1, b: 3, distance: 3 },
    ]);
    assert.deepEqual(crossGroupPairs(items, 0), []);
  });

  it('joins the groups a chain of pairs links into one, named after its smallest id; clusters are the linked images', () => {
    const groups = ['L5', 'L2', 'L9', 'L7', 'L2', 'L3'];
    const pairs = [
      { a: 0, b: 2, distance: 2 },
      { a: 2, b: 3, distance: 4 },
    ];
    assert.deepEqual(joinGroups(groups, pairs), ['L5', 'L2', 'L5', 'L5', 'L2', 'L3']);
    assert.equal(countJoinedGroups(groups, joinGroups(groups, pairs)), 3);
    assert.deepEqual(pairClusters(pairs), [[0, 2, 3]]);
    assert.deepEqual(pairClusters([{ a: 4, b: 5, distance: 0 }, ...pairs]), [
      [0, 2, 3],
      [4, 5],
    ]);
  });

  it('the split on joined groups keeps every cluster on one side, for every seed; the plain split does not', () => {
    const items: SplitItem[] = fakeImages(90, ['nv', 'mel']);
    // Three lesions of nv and one of mel are copies of each other: one cluster of four lesions.
    const lesions = ['HAM_0000002', 'HAM_0000010', 'HAM_0000030', 'HAM_0000007'];
    const members = items.flatMap((it, i) => (lesions.includes(it.lesionId) ? [i] : []));
    const pairs = members.slice(1).map((b, k) => ({ a: members[k]!, b, distance: 2 }));
    let plainSplitsIt = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const joined = joinGroups(items.map((i) => i.lesionId), pairs);
      const sides = groupedSplit(items.map((it, i) => ({ ...it, lesionId: joined[i]! })), 0.2, seed);
      assert.equal(new Set(members.map((i) => sides[i])).size, 1, `seed ${seed}: the cluster is on one side`);
      assert.ok(sides.includes('val') && sides.includes('train'), `seed ${seed}: both sides have images`);
      const plain = groupedSplit(items, 0.2, seed);
      if (new Set(members.map((i) => plain[i])).size > 1) plainSplitsIt++;
    }
    assert.ok(plainSplitsIt > 0, 'the plain split puts the cluster on both sides for some seed (else this test shows nothing)');
  });
});

describe('prepare with near-duplicates: the manifest, group vs ignore, and the folds', function () {
  this.timeout(120_000);
  let tmp: string;
  before(async () => {
    tmp = await makeTempDir('lesion-lab-neardup-');
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const opts = (data: string, out: string, o: Partial<PrepareOptions> = {}): PrepareOptions => ({ data, out, split: 'lesion', valFraction: 0.25, seed: 101, link: 'copy', ...o });

  it('ignore gives exactly the plain lesion split and reports the pair; group keeps it on one side; folds keep it in one fold', async () => {
    const data = path.join(tmp, 'data');
    const images = await writeLesionKaggle(data, fakeImages(24, ['nv', 'mel']), [{ of: 3, imageId: 'ISIC_0099999', lesionId: 'HAM_0099999' }]);
    // A seed whose plain split puts the copy and its original on different sides.
    const copy = images.length - 1;
    const seed = [...Array(50).keys()].find((s) => {
      const sides = groupedSplit(images, 0.25, s);
      return sides[3] !== sides[copy];
    });
    assert.ok(seed !== undefined, 'some seed separates the pair in the plain split');

    const ignored = path.join(tmp, 'ignored');
    await prepareDataset(opts(data, ignored, { seed, nearDuplicates: 'ignore' }), recordingContext());
    const m1 = await readManifest(ignored);
    const plain = groupedSplit(images, 0.25, seed);
    const sideOf1 = new Map(m1.images.map((i) => [i.imageId, i.split]));
    assert.deepEqual(images.map((i) => sideOf1.get(i.imageId)), plain, 'ignore: the plain split, image for image');
    assert.equal(m1.nearDuplicates?.mode, 'ignore');
    assert.deepEqual(m1.nearDuplicates?.pairs.map((p) => [p.a.imageId, p.b.imageId].sort()), [['ISIC_0024309', 'ISIC_0099999']]);
    assert.equal(m1.summary.nearDuplicates?.crossSplit, 1);
    assert.equal(m1.summary.nearDuplicates?.crossSplitPlain, 1);
    assert.ok(m1.notes.some((n) => /not grouped.*1 pair\(s\) are in different splits \(leakage/.test(n)), m1.notes.join('\n'));

    const grouped = path.join(tmp, 'grouped');
    const ctx = recordingContext();
    await prepareDataset(opts(data, grouped, { seed }), ctx);
    const m2 = await readManifest(grouped);
    assert.equal(m2.nearDuplicates?.mode, 'group');
    assert.equal(m2.nearDuplicates?.distance, 4);
    const [pair] = m2.nearDuplicates!.pairs;
    assert.equal(pair!.a.split, pair!.b.split, 'group: the pair is on one side');
    assert.ok(pair!.distance <= 4);
    assert.deepEqual(m2.nearDuplicates?.clusters, [[pair!.a.file, pair!.b.file].sort()]);
    assert.deepEqual({ ...m2.summary.nearDuplicates, shown: undefined }, { mode: 'group', distance: 4, hashed: 25, pairs: 1, clusters: 1, largestCluster: 2, crossSplit: 0, crossSplitPlain: 1, groupsJoined: 2, shown: undefined });
    assert.ok(m2.images.every((i) => /^[0-9a-f]{16}$/.test(i.phash ?? '')), 'every image has its hash in the manifest');
    assert.ok(ctx.events.some((e) => e.type === 'log' && /near-duplicates: 1 pair\(s\).*grouped: 2 group\(s\) joined.*1 pair\(s\) would have crossed/.test(e.message)));

    // K folds over the grouped dataset: the two lesions of the cluster share a fold, for every K and seed tried.
    for (const [k, foldSeed] of [[2, 1], [3, 2], [5, 3], [5, 4]] as const) {
      const { scheme } = await recordFoldScheme(grouped, k, foldSeed);
      assert.equal(scheme.assignment[pair!.a.file], scheme.assignment[pair!.b.file], `${k} folds, seed ${foldSeed}`);
    }
  });
});
