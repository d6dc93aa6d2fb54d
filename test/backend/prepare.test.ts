import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { assertBuilt, runCli, startCli } from '../helpers/cli';
import type { PreparedManifest } from '../../src/backend/dataset/manifest';
import { groupedSplit } from '../../src/backend/dataset/split';
import { fakeImages, hamCsv, jpegBytes, makeTempDir, treeFingerprint, writeKaggle, writeLesionKaggle } from '../unit/dataset/fixtures';

describe('backend process: prepare', function () {
  this.timeout(120000);
  let tmp: string;
  let data: string;
  let out: string;
  before(assertBuilt);
  beforeEach(async () => {
    tmp = await makeTempDir('lesion-lab-prepare-cli-');
    data = path.join(tmp, 'data');
    out = path.join(tmp, 'prepared');
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const types = (events: BackendEvent[]): string[] => events.map((e) => e.type);

  it('`prepare --json` reports every phase and finishes with a summary; exit 0', async () => {
    const images = fakeImages(30);
    await writeKaggle(data, images);
    await fs.writeFile(path.join(data, 'HAM10000_images_part_1', 'ISIC_9999999.jpg'), '');
    const before = await treeFingerprint(data);
    const r = await runCli(['prepare', '--data', data, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await treeFingerprint(data), before);
    const tasks = new Set(r.events.flatMap((e) => (e.type === 'progress' ? [e.task] : [])));
    assert.deepEqual([...tasks].sort(), ['index', 'link', 'split', 'validate']);
    const finish = r.events.find((e) => e.type === 'prepare/didFinish');
    assert.ok(finish && finish.type === 'prepare/didFinish', types(r.events).join(','));
    assert.equal(finish.out, out);
    assert.equal(finish.manifest, path.join(out, 'manifest.json'));
    assert.equal(finish.summary.layout, 'kaggle-ham10000');
    assert.equal(finish.summary.split, 'lesion');
    assert.equal(finish.summary.seed, 101);
    assert.equal(finish.summary.valFraction, 0.2);
    assert.equal(finish.summary.excludedCount, 1);
    assert.deepEqual(finish.summary.excluded, [{ file: 'HAM10000_images_part_1/ISIC_9999999.jpg', reason: 'image file not listed in metadata' }]);
    assert.equal(finish.summary.classes.reduce((n, c) => n + c.all.images, 0), 30);
    assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'done', exitCode: 0 });
    const manifest = JSON.parse(await fs.readFile(finish.manifest, 'utf8')) as { images: { file: string }[] };
    for (const m of manifest.images) await fs.access(path.join(out, m.file));
  });

  it('prepares the HAM10000_metadata.csv variant found on the web: image_id with .jpg, an 8th column, rows for absent augmented images', async () => {
    const images = fakeImages(30);
    await writeKaggle(data, images);
    const augmentedRows = Array.from({ length: 2000 }, (_, i) => ({ ...images[i % images.length]!, imageId: `${images[i % images.length]!.imageId}_aug_${i}` }));
    const columns = ['lesion_id', 'image_id', 'dx', 'dx_type', 'age', 'sex', 'localization', 'dataset'];
    await fs.writeFile(path.join(data, 'HAM10000_metadata.csv'), hamCsv([...images, ...augmentedRows].map((m) => ({ ...m, imageId: `${m.imageId}.jpg` })), { columns }));
    const r = await runCli(['prepare', '--data', data, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const finish = r.events.find((e) => e.type === 'prepare/didFinish');
    assert.ok(finish && finish.type === 'prepare/didFinish');
    assert.equal(finish.summary.classes.reduce((n, c) => n + c.all.images, 0), 30, 'every real image is used');
    assert.equal(finish.summary.excludedCount, 2000);
    const manifest = JSON.parse(await fs.readFile(finish.manifest, 'utf8')) as { images: { imageId: string }[]; excluded: { file: string; reason: string }[]; notes: string[] };
    assert.ok(manifest.images.every((m) => /^ISIC_\d{7}$/.test(m.imageId)), 'ids without the suffix');
    assert.ok(manifest.excluded.every((e) => e.reason === 'listed in metadata but no image file found' && /_aug_\d+\.jpg$/.test(e.file)));
    assert.ok(manifest.notes.some((n) => /image ids carry a file extension/.test(n)));
    assert.ok(manifest.notes.some((n) => /^2000 metadata row\(s\) name images that are not in the dataset folder/.test(n)));
  });

  it('when no metadata row matches a file, the error names the likely cause', async () => {
    const images = fakeImages(10);
    await writeKaggle(data, images);
    await fs.writeFile(path.join(data, 'HAM10000_metadata.csv'), hamCsv(images.map((m) => ({ ...m, imageId: m.imageId.replace('ISIC_', '') }))));
    const r = await runCli(['prepare', '--data', data, '--out', out, '--json']);
    assert.equal(r.code, 1);
    const error = r.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error');
    assert.match(error.message, /^None of the images in .* can be used: 20 file\(s\) excluded .*Likely cause: the image file names have 'ISIC_' before the metadata's image ids \(e\.g\. '0024306' in the metadata, a file named 'HAM10000_images_part_1\/ISIC_0024306\.jpg'\)/);
    await assert.rejects(fs.stat(out), /ENOENT/, 'and it leaves no --out folder behind');
  });

  it('a resized, re-encoded copy under another lesion id: the manifest lists the pair and both land in one split; with --near-duplicates ignore they need not', async () => {
    const images = await writeLesionKaggle(data, fakeImages(20, ['nv', 'bkl']), [{ of: 5, imageId: 'ISIC_0088888', lesionId: 'HAM_0088888' }]);
    const copy = images.length - 1;
    // A seed whose plain lesion split separates the copy from its original: what the grouping must prevent.
    const seed = [...Array(50).keys()].find((k) => {
      const sides = groupedSplit(images, 0.2, k);
      return sides[5] !== sides[copy];
    });
    assert.ok(seed !== undefined);
    const readPair = async (dir: string): Promise<PreparedManifest> => JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as PreparedManifest;

    const r = await runCli(['prepare', '--data', data, '--out', out, '--seed', String(seed)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /near-duplicates: 1 pair\(s\) of images from different groups within 4 bits of 64, in 1 cluster\(s\); grouped: 2 group\(s\) joined so each cluster sits on one side — 1 pair\(s\) would have crossed train\/val without it\./);
    const grouped = await readPair(out);
    assert.equal(grouped.nearDuplicates?.pairs.length, 1);
    const [pair] = grouped.nearDuplicates!.pairs;
    assert.deepEqual([pair!.a.imageId, pair!.b.imageId].sort(), [images[5]!.imageId, 'ISIC_0088888']);
    assert.deepEqual([pair!.a.lesionId, pair!.b.lesionId].sort(), [images[5]!.lesionId, 'HAM_0088888'].sort());
    assert.equal(pair!.a.split, pair!.b.split, 'grouped: one split');
    await fs.access(path.join(out, pair!.a.file));
    await fs.access(path.join(out, pair!.b.file));

    const ignoredOut = path.join(tmp, 'ignored');
    const r2 = await runCli(['prepare', '--data', data, '--out', ignoredOut, '--seed', String(seed), '--near-duplicates', 'ignore', '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    const ignored = await readPair(ignoredOut);
    assert.equal(ignored.nearDuplicates?.mode, 'ignore');
    const [p2] = ignored.nearDuplicates!.pairs;
    assert.notEqual(p2!.a.split, p2!.b.split, 'ignore: the plain split, which separates them at this seed');
    const warn = r2.events.find((e) => e.type === 'log' && e.level === 'warn' && /near-duplicates/.test(e.message));
    assert.ok(warn, 'ignore with a pair across the split warns');

    // A threshold of 0 bits finds nothing here (the copy is not bit-identical): the split is the plain one.
    const strictOut = path.join(tmp, 'strict');
    const r3 = await runCli(['prepare', '--data', data, '--out', strictOut, '--seed', String(seed), '--near-duplicate-distance', '0']);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stdout, /near-duplicates: none found among 21 hashed images \(perceptual hash within 0 bits of 64\)/);
  });

  it('prints a class table and the exclusion count for a person', async () => {
    await writeKaggle(data, fakeImages(14));
    await fs.writeFile(path.join(data, 'HAM10000_images_part_2', 'ISIC_0000001.jpg'), 'not a jpeg');
    const r = await runCli(['prepare', '--data', data, '--out', out, '--split', 'image', '--seed', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /prepared .* \(kaggle-ham10000, split by image, val fraction 0\.2, seed 5\)/);
    assert.match(r.stdout, /excluded: 1 file\(s\) — see manifest\.json › excluded/);
    assert.match(r.stderr, /excluded 1 file\(s\): 1 × image file not listed in metadata/);
    assert.match(r.stderr, /image-level split: \d+ lesion\(s\) have images in both train and val/);
  });

  it('exits 1 naming the table it found and the flags that read it when the folder holds no known layout', async () => {
    await fs.mkdir(data, { recursive: true });
    await fs.writeFile(path.join(data, 'notes.csv'), 'a,b\n');
    const r = await runCli(['prepare', '--data', data, '--out', out, '--json']);
    assert.equal(r.code, 1);
    const error = r.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error');
    assert.ok(error.message.startsWith('notes.csv is not a layout Lesion Lab knows by itself (its columns: a, b)'), error.message);
    assert.match(error.message, /--table "notes\.csv" --image-column <column> --label-column <column>/);
    assert.equal(error.detail, undefined, 'a user error carries no stack trace');
    assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'failed', exitCode: 1 });
  });

  it('exits 1 without writing anything when --out is inside the dataset folder', async () => {
    await writeKaggle(data, fakeImages(4));
    const before = await treeFingerprint(data);
    const r = await runCli(['prepare', '--data', data, '--out', path.join(data, 'prepared'), '--json']);
    assert.equal(r.code, 1);
    const error = r.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error' && /is inside the dataset folder/.test(error.message));
    assert.equal(await treeFingerprint(data), before);
  });

  it('SIGINT during validation exits 130 and keeps the previous prepared output', async () => {
    // Many identical tiny images: cheap to write, enough decoding to interrupt.
    const images = fakeImages(2500);
    await fs.mkdir(path.join(data, 'HAM10000_images_part_1'), { recursive: true });
    await fs.writeFile(path.join(data, 'HAM10000_metadata.csv'), hamCsv(images));
    const jpg = await jpegBytes(3, 64, 48);
    await Promise.all(images.map((img) => fs.writeFile(path.join(data, 'HAM10000_images_part_1', `${img.imageId}.jpg`), jpg)));
    const first = await runCli(['prepare', '--data', data, '--out', out, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const manifestBefore = await fs.readFile(path.join(out, 'manifest.json'), 'utf8');
    await fs.rm(path.join(out, '.prepare-cache'), { recursive: true }); // so the second run decodes again

    const cli = startCli(['prepare', '--data', data, '--out', out, '--seed', '9', '--json']);
    await cli.waitForEvent((e) => e.type === 'progress' && e.task === 'validate');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'cancelled', exitCode: 130 });
    assert.equal(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'), manifestBefore);
    assert.deepEqual((await fs.readdir(out)).filter((n) => n.startsWith('.prepare-staging')), []);
  });
});
