import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createRng } from '../../../src/shared/random';
import type { PrepareOptions } from '../../../src/shared/protocol/jobs';
import { readManifest } from '../../../src/backend/dataset/manifest';
import type { PreparedManifest } from '../../../src/backend/dataset/manifest';
import { prepareDataset } from '../../../src/backend/dataset/prepare';
import { CancelledError, UserError } from '../../../src/backend/errors';
import type { FakeImage } from './fixtures';
import { fakeImages, hamCsv, jpegBytes, makeTempDir, recordingContext, treeFingerprint, writeJpeg, writeKaggle, writeZip } from './fixtures';

const ALL_CLASSES = 'akiec, bcc, bkl, df, mel, nv, vasc';

describe('prepareDataset', function () {
  this.timeout(60000);
  let tmp: string;
  let data: string;
  let out: string;
  const opts = (o: Partial<PrepareOptions> = {}): PrepareOptions => ({ data, out, split: 'lesion', valFraction: 0.2, seed: 101, link: 'hard', ...o });

  beforeEach(async () => {
    tmp = await makeTempDir();
    data = path.join(tmp, 'data');
    out = path.join(tmp, 'prepared');
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Every file under train/, val/ and test/, relative to out. */
  async function listSplitFiles(): Promise<string[]> {
    const files: string[] = [];
    for (const split of ['train', 'val', 'test']) {
      const splitDir = path.join(out, split);
      for (const dx of await fs.readdir(splitDir).catch(() => [] as string[])) {
        for (const f of await fs.readdir(path.join(splitDir, dx))) files.push(`${split}/${dx}/${f}`);
      }
    }
    return files.sort();
  }

  async function assertLayoutMatches(manifest: PreparedManifest): Promise<void> {
    assert.deepEqual(await listSplitFiles(), manifest.images.map((m) => m.file).sort());
    const lesionSides = new Map<string, Set<string>>();
    for (const m of manifest.images) lesionSides.set(m.lesionId, (lesionSides.get(m.lesionId) ?? new Set()).add(m.split));
    if (manifest.summary.split === 'lesion') for (const [lesion, sides] of lesionSides) assert.equal(sides.size, 1, `lesion ${lesion} in ${[...sides]}`);
  }

  it('prepares the Kaggle layout: reordered and extra columns, BOM + CRLF, a lowercase folder name; originals untouched, hard-linked', async () => {
    const images = fakeImages(21);
    await writeKaggle(data, images, {
      columns: ['image_id', 'extra_col', 'dx', 'localization', 'lesion_id', 'age'],
      bom: true,
      eol: '\r\n',
      parts: ['HAM10000_images_part_1', 'ham10000_images_part_2'],
    });
    const before = await treeFingerprint(data);
    const ctx = recordingContext();
    await prepareDataset(opts(), ctx);
    assert.equal(await treeFingerprint(data), before, 'the dataset folder changed');

    const manifest = await readManifest(out);
    assert.equal(manifest.summary.layout, 'kaggle-ham10000');
    assert.equal(manifest.images.length, 21);
    assert.deepEqual(manifest.excluded, []);
    assert.equal(manifest.materialisedWith, 'hard');
    assert.ok(manifest.notes.some((n) => n.includes('ham10000_images_part_2/ differs in letter case from HAM10000_images_part_2/')));
    await assertLayoutMatches(manifest);
    for (const m of manifest.images) {
      const img = images.find((i) => i.imageId === m.imageId)!;
      assert.equal(m.dx, img.dx);
      assert.equal(m.lesionId, img.lesionId);
      assert.equal(m.file, `${m.split}/${m.dx}/${m.imageId}.jpg`);
      assert.ok(path.isAbsolute(m.source) && m.source.startsWith(data));
      const [a, b] = await Promise.all([fs.stat(m.source), fs.stat(path.join(out, m.file))]);
      assert.equal(a.ino, b.ino, 'hard link shares the inode');
    }
    const finish = ctx.events.find((e) => e.type === 'prepare/didFinish');
    assert.ok(finish && finish.type === 'prepare/didFinish');
    assert.equal(finish.manifest, path.join(out, 'manifest.json'));
    assert.deepEqual(finish.summary, manifest.summary);
    const total = finish.summary.classes.reduce((n, c) => n + c.train.images + c.val.images, 0);
    assert.equal(total, 21);
    const tasks = new Set(ctx.events.flatMap((e) => (e.type === 'progress' ? [e.task] : [])));
    for (const t of ['index', 'validate', 'split', 'link']) assert.ok(tasks.has(t), `no ${t} progress`);
  });

  it('uses one copy of image folders that exist twice (both letter cases, and nested) and records the others', async () => {
    const images = fakeImages(10);
    await writeKaggle(data, images);
    await fs.cp(path.join(data, 'HAM10000_images_part_1'), path.join(data, 'ham10000_images_part_1'), { recursive: true });
    await fs.cp(path.join(data, 'HAM10000_images_part_2'), path.join(tmp, 'copy'), { recursive: true });
    await fs.rename(path.join(tmp, 'copy'), path.join(data, 'HAM10000_images_part_2', 'HAM10000_images_part_2'));
    await prepareDataset(opts(), recordingContext());
    const manifest = await readManifest(out);
    assert.equal(manifest.images.length, 10);
    assert.deepEqual(manifest.excluded, [
      {
        file: 'HAM10000_images_part_2/HAM10000_images_part_2/',
        reason: 'duplicate folder: a second copy of HAM10000_images_part_2/ (5 image files with the same names); HAM10000_images_part_2/ is used',
      },
      {
        file: 'ham10000_images_part_1/',
        reason: 'duplicate folder: a second copy of HAM10000_images_part_1/ (5 image files with the same names); HAM10000_images_part_1/ is used',
      },
    ]);
    assert.ok(manifest.images.every((m) => /\/HAM10000_images_part_[12]\/ISIC_\d+\.jpg$/.test(m.source)));
  });

  it('excludes every kind of bad input with its exact reason, and never crashes', async () => {
    const good = fakeImages(12, ['mel', 'nv']);
    const extra: FakeImage[] = [
      { lesionId: 'HAM_M', imageId: 'ISIC_MISSING', dx: 'nv' },
      { lesionId: 'HAM_D', imageId: 'ISIC_DUP', dx: 'nv' },
      { lesionId: 'HAM_T', imageId: 'ISIC_TWICE', dx: 'bkl' },
      { lesionId: 'HAM_T', imageId: 'ISIC_TWICE', dx: 'bkl' },
      { lesionId: 'HAM_X', imageId: 'ISIC_CLASH', dx: 'bkl' },
      { lesionId: 'HAM_X', imageId: 'ISIC_CLASH', dx: 'mel' },
      { lesionId: 'HAM_F', imageId: 'ISIC_FOO', dx: 'Foo' },
      { lesionId: 'HAM_Z', imageId: 'ISIC_ZERO', dx: 'nv' },
      { lesionId: 'HAM_R', imageId: 'ISIC_TRUNC', dx: 'nv' },
      { lesionId: 'HAM_Q', imageId: 'ISIC_CUT', dx: 'nv' },
      { lesionId: 'HAM_S', imageId: 'ISIC_TEXT', dx: 'nv' },
      { lesionId: 'HAM_C', imageId: 'ISIC_C1', dx: 'mel' },
      { lesionId: 'HAM_C', imageId: 'ISIC_C2', dx: 'nv' },
      { lesionId: 'HAM_U', imageId: 'ISIC_UPPER', dx: ' BCC ' },
    ];
    await writeKaggle(data, good);
    await fs.writeFile(path.join(data, 'HAM10000_metadata.csv'), hamCsv([...good, ...extra]));
    const p1 = path.join(data, 'HAM10000_images_part_1');
    const p2 = path.join(data, 'HAM10000_images_part_2');
    for (const [i, id] of ['ISIC_DUP', 'ISIC_TWICE', 'ISIC_CLASH', 'ISIC_FOO', 'ISIC_C1', 'ISIC_C2', 'ISIC_UNLISTED', 'ISIC_UPPER'].entries()) {
      await writeJpeg(path.join(p1, `${id}.jpg`), 100 + i);
    }
    await writeJpeg(path.join(p2, 'ISIC_DUP.jpg'), 200);
    await fs.writeFile(path.join(p1, 'ISIC_ZERO.jpg'), '');
    // Deterministic noise, so the truncated half always fails the same way.
    const rng = createRng(11);
    const pixels = Buffer.from(Array.from({ length: 200 * 150 * 3 }, () => Math.floor(rng() * 256)));
    const big = await sharp(pixels, { raw: { width: 200, height: 150, channels: 3 } }).jpeg().toBuffer();
    await fs.writeFile(path.join(p2, 'ISIC_TRUNC.jpg'), big.subarray(0, big.length >> 1));
    await fs.writeFile(path.join(p2, 'ISIC_CUT.jpg'), big.subarray(0, big.length - 2)); // only the end marker missing
    await fs.writeFile(path.join(p2, 'ISIC_TEXT.jpg'), 'lesion_id,image_id\nnot an image\n');
    await fs.writeFile(path.join(p1, 'readme.txt'), 'ignored: not an image file name');
    const before = await treeFingerprint(data);

    const ctx = recordingContext();
    await prepareDataset(opts(), ctx);
    assert.equal(await treeFingerprint(data), before);
    const manifest = await readManifest(out);
    const line = (id: string, nth = 0): number => 2 + [...good, ...extra].findIndex((img, i, all) => img.imageId === id && all.slice(0, i).filter((x) => x.imageId === id).length === nth);
    assert.deepEqual(manifest.excluded, [
      { file: `HAM10000_images_part_1/ISIC_C1.jpg`, reason: 'lesion HAM_C has images with different diagnoses (mel, nv)' },
      { file: `HAM10000_images_part_1/ISIC_C2.jpg`, reason: 'lesion HAM_C has images with different diagnoses (mel, nv)' },
      {
        file: 'HAM10000_images_part_1/ISIC_CLASH.jpg',
        reason: `listed more than once with different diagnoses (bkl, mel at HAM10000_metadata.csv:${line('ISIC_CLASH')}, HAM10000_metadata.csv:${line('ISIC_CLASH', 1)})`,
      },
      { file: 'HAM10000_images_part_1/ISIC_FOO.jpg', reason: `unknown diagnosis 'Foo' (expected one of ${ALL_CLASSES})` },
      { file: 'HAM10000_images_part_1/ISIC_UNLISTED.jpg', reason: 'image file not listed in metadata' },
      { file: 'HAM10000_images_part_1/ISIC_ZERO.jpg', reason: 'zero-byte file' },
      { file: 'HAM10000_images_part_2/ISIC_CUT.jpg', reason: 'not a decodable image: damaged or truncated image data' },
      { file: 'HAM10000_images_part_2/ISIC_DUP.jpg', reason: 'duplicate image id: also at HAM10000_images_part_1/ISIC_DUP.jpg' },
      { file: 'HAM10000_images_part_2/ISIC_TEXT.jpg', reason: 'not a decodable image: Input file contains unsupported image format' },
      { file: 'HAM10000_images_part_2/ISIC_TRUNC.jpg', reason: 'not a decodable image: damaged or truncated image data' },
      {
        file: `HAM10000_metadata.csv:${line('ISIC_TWICE', 1)}`,
        reason: `duplicate image id: also listed at HAM10000_metadata.csv:${line('ISIC_TWICE')}`,
      },
      { file: 'ISIC_MISSING', reason: 'listed in metadata but no image file found' },
    ]);
    const ids = manifest.images.map((m) => m.imageId).sort();
    assert.deepEqual(ids, [...good.map((g) => g.imageId), 'ISIC_DUP', 'ISIC_TWICE', 'ISIC_UPPER'].sort());
    assert.equal(manifest.images.find((m) => m.imageId === 'ISIC_UPPER')!.dx, 'bcc', 'diagnosis labels are case-insensitive');
    assert.equal(manifest.summary.excludedCount, 12);
    await assertLayoutMatches(manifest);
    const summaryLog = ctx.events.find((e) => e.type === 'log' && e.message.startsWith('excluded 12 file(s):'));
    assert.ok(summaryLog && summaryLog.type === 'log');
    assert.match(summaryLog.message, /2 × lesion HAM_C has images with different diagnoses/);
    assert.match(summaryLog.message, /3 × not a decodable image/);
  });

  it('prepares the Harvard Dataverse layout: tab-separated metadata without extension, images in zips, hostile entries refused', async () => {
    const images = fakeImages(14);
    await fs.mkdir(data, { recursive: true });
    await fs.writeFile(path.join(data, 'HAM10000_metadata'), hamCsv(images, { delimiter: '\t', quoteAll: true }));
    const part = async (n: number): Promise<{ name: string; data: Buffer }[]> =>
      Promise.all(images.filter((_, i) => i % 2 === n - 1).map(async (img, i) => ({ name: `${img.imageId}.jpg`, data: await jpegBytes(i + n * 50) })));
    await writeZip(path.join(data, 'HAM10000_images_part_1.zip'), [...(await part(1)), { name: 'aa/evil.jpg', data: await jpegBytes(9) }], {
      'aa/evil.jpg': '../evil.jpg',
    });
    await writeZip(path.join(data, 'HAM10000_images_part_2.zip'), await part(2));
    const before = await treeFingerprint(data);

    await prepareDataset(opts(), recordingContext());
    assert.equal(await treeFingerprint(data), before);
    const manifest = await readManifest(out);
    assert.equal(manifest.summary.layout, 'dataverse-ham10000');
    assert.equal(manifest.images.length, 14);
    assert.deepEqual(manifest.excluded, [{ file: 'HAM10000_images_part_1.zip:../evil.jpg', reason: 'unsafe zip entry: path leads outside the folder' }]);
    for (const m of manifest.images) {
      assert.ok(m.source.startsWith(path.join(out, '.extracted') + path.sep), m.source);
      assert.equal((await fs.stat(m.source)).ino, (await fs.stat(path.join(out, m.file))).ino);
    }
    for (const where of [tmp, out, path.join(out, '.extracted')]) await assert.rejects(fs.stat(path.join(where, 'evil.jpg')), /ENOENT/);
    await assertLayoutMatches(manifest);

    // A second run reuses the extraction instead of unpacking again.
    const first = manifest.images[0]!;
    const inode = (await fs.stat(first.source)).ino;
    const ctx = recordingContext();
    await prepareDataset(opts(), ctx);
    assert.equal((await fs.stat(first.source)).ino, inode);
    assert.ok(!ctx.events.some((e) => e.type === 'progress' && e.task.startsWith('extract')));
    assert.deepEqual((await readManifest(out)).excluded, manifest.excluded);
  });

  it('prepares ISIC 2018 Task 3 training data (one-hot ground truth + lesion groupings) and holds the test set beside it out as test/<dx>/', async () => {
    const columns = ['MEL', 'NV', 'BCC', 'AKIEC', 'BKL', 'DF', 'VASC'];
    const oneHot = (dx: string): string => columns.map((c) => (c.toLowerCase() === dx ? '1.0' : '0.0')).join(',');
    const images = fakeImages(14);
    const gtDir = path.join(data, 'ISIC2018_Task3_Training_GroundTruth');
    await fs.mkdir(gtDir, { recursive: true });
    await fs.writeFile(
      path.join(gtDir, 'ISIC2018_Task3_Training_GroundTruth.csv'),
      ['image,' + columns.join(','), ...images.map((i) => `${i.imageId},${oneHot(i.dx)}`), 'ISIC_NONE,' + columns.map(() => '0.0').join(',')].join('\n') + '\n',
    );
    await fs.writeFile(
      path.join(data, 'ISIC2018_Task3_Training_LesionGroupings.csv'),
      ['image,lesion_id,diagnosis_confirm_type', ...images.map((i) => `${i.imageId},${i.lesionId},histopathology`)].join('\n') + '\n',
    );
    const input = path.join(data, 'ISIC2018_Task3_Training_Input');
    await Promise.all([...images.map((img, i) => writeJpeg(path.join(input, `${img.imageId}.jpg`), i)), writeJpeg(path.join(input, 'ISIC_NONE.jpg'), 99)]);
    await fs.writeFile(path.join(input, 'LICENSE.txt'), 'CC BY-NC 4.0');
    await fs.writeFile(path.join(data, 'ISIC2018_Task3_Test_GroundTruth.csv'), `image,${columns.join(',')}\nISIC_9000001,${oneHot('nv')}\nISIC_9000002,${oneHot('mel')}\n`);
    await writeJpeg(path.join(data, 'ISIC2018_Task3_Test_Input', 'ISIC_9000001.jpg'), 1);
    await writeJpeg(path.join(data, 'ISIC2018_Task3_Test_Input', 'ISIC_9000002.jpg'), 2);

    await prepareDataset(opts(), recordingContext());
    const manifest = await readManifest(out);
    assert.equal(manifest.summary.layout, 'isic2018-task3-training');
    assert.equal(manifest.images.length, 16);
    const test = manifest.images.filter((m) => m.split === 'test');
    assert.deepEqual(test.map((m) => [m.file, m.dx]), [['test/mel/ISIC_9000002.jpg', 'mel'], ['test/nv/ISIC_9000001.jpg', 'nv']]);
    assert.deepEqual(manifest.summary.classes.map((c) => c.test?.images), [0, 0, 0, 0, 1, 1, 0], 'test counts per class');
    assert.equal(manifest.summary.classes.reduce((a, c) => a + c.train.images + c.val.images, 0), 14, 'the test images are in neither train nor val');
    for (const m of manifest.images.filter((i) => i.split !== 'test')) {
      const img = images.find((i) => i.imageId === m.imageId)!;
      assert.equal(m.lesionId, img.lesionId, 'lesion ids come from the groupings file');
      assert.equal(m.dx, img.dx);
    }
    assert.deepEqual(manifest.excluded, [{ file: 'ISIC2018_Task3_Training_Input/ISIC_NONE.jpg', reason: 'no diagnosis: none of MEL, NV, BCC, AKIEC, BKL, DF, VASC is 1' }]);
    assert.deepEqual(manifest.testSet, {
      path: data,
      groundTruth: path.join(data, 'ISIC2018_Task3_Test_GroundTruth.csv'),
      input: path.join(data, 'ISIC2018_Task3_Test_Input'),
      images: 2,
    });
    assert.deepEqual((await listSplitFiles()).filter((f) => f.startsWith('test/')), ['test/mel/ISIC_9000002.jpg', 'test/nv/ISIC_9000001.jpg']);
    await assertLayoutMatches(manifest);
  });

  it('prepares an ISIC 2018 test set on its own into test/<dx>/', async () => {
    await fs.mkdir(data, { recursive: true });
    await fs.writeFile(
      path.join(data, 'ISIC2018_Task3_Test_GroundTruth.csv'),
      'image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_1,0,1,0,0,0,0,0\nISIC_2,1,0,0,0,0,0,0\nISIC_3,0,0,0,0,0,0,1\n',
    );
    for (let i = 1; i <= 3; i++) await writeJpeg(path.join(data, 'ISIC2018_Task3_Test_Input', `ISIC_${i}.jpg`), i);
    await prepareDataset(opts(), recordingContext());
    const manifest = await readManifest(out);
    assert.equal(manifest.summary.layout, 'isic2018-task3-test');
    assert.deepEqual(await listSplitFiles(), ['test/mel/ISIC_2.jpg', 'test/nv/ISIC_1.jpg', 'test/vasc/ISIC_3.jpg']);
    assert.ok(manifest.images.every((m) => m.split === 'test'));
  });

  it('refuses an output folder that is, lies inside or contains the dataset folder, or belongs to something else', async () => {
    await writeKaggle(data, fakeImages(4));
    const before = await treeFingerprint(data);
    const refused = async (o: Partial<PrepareOptions>, pattern: RegExp): Promise<void> => {
      await assert.rejects(prepareDataset(opts(o), recordingContext()), (err: Error) => {
        assert.ok(err instanceof UserError, String(err));
        assert.match(err.message, pattern);
        return true;
      });
    };
    await refused({ out: data }, /is the dataset folder itself/);
    await refused({ out: path.join(data, 'prepared') }, /is inside the dataset folder .* never writes into the dataset/);
    await refused({ out: path.join(data, 'HAM10000_images_part_1', 'x', '..') }, /is inside the dataset folder/);
    await refused({ out: tmp }, /contains the dataset folder/);
    await fs.mkdir(path.join(tmp, 'busy'));
    await fs.writeFile(path.join(tmp, 'busy', 'notes.txt'), 'mine');
    await refused({ out: path.join(tmp, 'busy') }, /already holds other files \(notes\.txt\) and is not a prepared dataset/);
    await refused({ data: path.join(tmp, 'nope') }, /does not exist/);
    assert.equal(await treeFingerprint(data), before);
  });

  it('says what it reads when the folder holds no known layout, and that one folder of images is one class', async () => {
    await fs.mkdir(data, { recursive: true });
    await fs.writeFile(path.join(data, 'readme.txt'), 'nothing here');
    await assert.rejects(prepareDataset(opts(), recordingContext()), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.ok(err.message.startsWith(`No dataset found in ${data}`), err.message);
      assert.match(err.message, /a folder per class .*a CSV naming each image and its label.*HAM10000.*ISIC 2018 Task 3, ISIC 2019 Task 1 or ISIC 2020/);
      return true;
    });
    await fs.mkdir(path.join(data, 'images'), { recursive: true });
    await writeJpeg(path.join(data, 'images', 'a.jpg'), 1);
    await assert.rejects(prepareDataset(opts(), recordingContext()), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /^images\/ is the only folder of images in .*: a folder per class needs at least two class folders/);
      return true;
    });
  });

  it('is idempotent, keeps aug/ for the same split, and replaces the split (dropping aug/) when parameters change', async () => {
    await writeKaggle(data, fakeImages(40));
    await prepareDataset(opts(), recordingContext());
    const first = await readManifest(out);
    await fs.mkdir(path.join(out, 'aug', 'mel'), { recursive: true });
    await fs.writeFile(path.join(out, 'aug', 'mel', 'aug_1.jpg'), await jpegBytes(5));

    await prepareDataset(opts(), recordingContext());
    const second = await readManifest(out);
    assert.deepEqual(second.images, first.images);
    assert.deepEqual({ ...second.summary, preparedAt: '' }, { ...first.summary, preparedAt: '' });
    assert.ok(await fs.stat(path.join(out, 'aug', 'mel', 'aug_1.jpg')), 'aug/ kept for an unchanged split');
    await assertLayoutMatches(second);

    await prepareDataset(opts({ seed: 7, split: 'image', valFraction: 0.3 }), recordingContext());
    const third = await readManifest(out);
    assert.notDeepEqual(
      third.images.map((m) => m.file),
      first.images.map((m) => m.file),
    );
    assert.equal(third.summary.seed, 7);
    assert.equal(third.summary.split, 'image');
    assert.equal(typeof third.summary.straddlingLesions, 'number');
    assert.equal(third.images.filter((m) => m.split === 'val').length, Math.ceil(0.3 * 40));
    await assertLayoutMatches(third);
    await assert.rejects(fs.stat(path.join(out, 'aug')), /ENOENT/);
    assert.ok(third.notes.some((n) => n.startsWith('removed the previous aug/')));
    assert.deepEqual(
      (await fs.readdir(out)).filter((n) => !n.startsWith('.')).sort(),
      ['manifest.json', 'train', 'val'],
    );
  });

  it('leaves the previous prepared output intact when cancelled mid-way', async () => {
    await writeKaggle(data, fakeImages(30));
    await prepareDataset(opts(), recordingContext());
    const manifestBefore = await fs.readFile(path.join(out, 'manifest.json'), 'utf8');
    const filesBefore = await listSplitFiles();

    for (const task of ['validate', 'link']) {
      const controller = new AbortController();
      const ctx = recordingContext(controller.signal);
      const emit = ctx.emit;
      ctx.emit = (e) => {
        emit(e);
        if (e.type === 'progress' && e.task === task) controller.abort();
      };
      await assert.rejects(prepareDataset(opts({ seed: 3 }), ctx), CancelledError);
      assert.equal(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'), manifestBefore);
      assert.deepEqual(await listSplitFiles(), filesBefore);
      assert.deepEqual((await fs.readdir(out)).filter((n) => n.startsWith('.prepare-staging') || n.startsWith('.prepare-previous')), []);
    }
  });

  it('materialises with symbolic links or copies on request', async () => {
    await writeKaggle(data, fakeImages(6));
    await prepareDataset(opts({ link: 'symlink' }), recordingContext());
    let manifest = await readManifest(out);
    assert.equal(manifest.materialisedWith, 'symlink');
    for (const m of manifest.images) {
      assert.ok((await fs.lstat(path.join(out, m.file))).isSymbolicLink());
      assert.equal(await fs.readlink(path.join(out, m.file)), m.source);
    }
    await prepareDataset(opts({ link: 'copy' }), recordingContext());
    manifest = await readManifest(out);
    assert.equal(manifest.materialisedWith, 'copy');
    assert.equal(manifest.summary.link, 'copy');
    for (const m of manifest.images) {
      const [a, b] = await Promise.all([fs.stat(m.source), fs.lstat(path.join(out, m.file))]);
      assert.ok(b.isFile());
      assert.notEqual(a.ino, b.ino);
      assert.equal(a.size, b.size);
    }
  });

  it('readManifest tells the user to run prepare when the manifest is missing or damaged', async () => {
    await fs.mkdir(out, { recursive: true });
    await assert.rejects(readManifest(out), (err: Error) => err instanceof UserError && /has no manifest\.json\. Run `lesion-lab prepare/.test(err.message));
    await fs.writeFile(path.join(out, 'manifest.json'), '{"version": 1, "images": [');
    await assert.rejects(readManifest(out), (err: Error) => err instanceof UserError && /is damaged .* Run `lesion-lab prepare/.test(err.message));
    await fs.writeFile(path.join(out, 'manifest.json'), '{"version": 1, "images": []}');
    await assert.rejects(readManifest(out), (err: Error) => err instanceof UserError && /not a valid Lesion Lab manifest \(manifest\.summary/.test(err.message));
  });
});
