import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { AugmentRunOptions } from '../../../src/backend/augment/augment';
import { augmentDataset } from '../../../src/backend/augment/augment';
import { CancelledError, UserError } from '../../../src/backend/errors';
import type { JobContext } from '../../../src/backend/job';
import type { BackendEvent } from '../../../src/shared/protocol/backend';
import { readManifest } from '../../../src/backend/dataset/manifest';
import { prepareDataset } from '../../../src/backend/dataset/prepare';
import { recordingContext, writeJpeg } from '../dataset/fixtures';
import { listTree, makePreparedFolder } from './preparedFixture';

const SIZE = 48;

function collect(signal = new AbortController().signal): { ctx: JobContext; events: BackendEvent[] } {
  const events: BackendEvent[] = [];
  return { ctx: { emit: (e) => events.push(e), signal }, events };
}

async function hashTree(dir: string, sub: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listTree(path.join(dir, sub))) {
    out[f] = createHash('sha256').update(await fs.readFile(path.join(dir, sub, f))).digest('hex');
  }
  return out;
}

const augFiles = async (dir: string, dx: string): Promise<string[]> =>
  (await fs.readdir(path.join(dir, 'aug', dx)).catch(() => [] as string[])).sort();

describe('augmentDataset (in process, real JPEGs)', function () {
  this.timeout(60_000);
  let tmp: string;
  const classes = { akiec: { train: 4, val: 1 }, df: { train: 3, val: 1 }, nv: { train: 9, val: 2 } };
  const base = (prepared: string, o: Partial<AugmentRunOptions> = {}): AugmentRunOptions => ({
    prepared,
    target: 10,
    skip: ['nv'],
    size: SIZE,
    seed: 5,
    concurrency: 3,
    ...o,
  });

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-augment-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes target − train per class, round-robin over sources, and records it in the manifest', async () => {
    const dir = path.join(tmp, 'p');
    await makePreparedFolder(dir, classes);
    const valBefore = await hashTree(dir, 'val');
    const trainBefore = await hashTree(dir, 'train');
    const { ctx, events } = collect();
    await augmentDataset(base(dir), ctx);

    const akiec = await augFiles(dir, 'akiec');
    const df = await augFiles(dir, 'df');
    assert.equal(akiec.length, 6);
    assert.equal(df.length, 7);
    assert.deepEqual(await augFiles(dir, 'nv'), []);
    // 7 outputs over 3 sources: 3, 2, 2; names <imageId>_aug<k>.jpg with k from 0.
    const perSource = new Map<string, number[]>();
    for (const f of df) {
      const m = /^(ISIC_\d+)_aug(\d+)\.jpg$/.exec(f);
      assert.ok(m, f);
      perSource.set(m[1]!, [...(perSource.get(m[1]!) ?? []), Number(m[2])]);
    }
    assert.deepEqual([...perSource.values()].map((ks) => ks.length).sort(), [2, 2, 3]);
    for (const ks of perSource.values()) assert.deepEqual(ks.sort(), ks.map((_, i) => i));
    for (const f of [...akiec.map((x) => `akiec/${x}`), ...df.map((x) => `df/${x}`)]) {
      const meta = await sharp(path.join(dir, 'aug', f)).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, SIZE);
      assert.equal(meta.height, SIZE);
    }
    assert.deepEqual(await hashTree(dir, 'val'), valBefore, 'val untouched');
    assert.deepEqual(await hashTree(dir, 'train'), trainBefore, 'train untouched');

    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.augmentation.perClass, {
      akiec: { before: 4, after: 10 },
      df: { before: 3, after: 10 },
      nv: { before: 9, after: 9 },
    });
    assert.equal(manifest.augmentation.target, 10);
    assert.deepEqual(manifest.augmentation.skip, ['nv']);
    assert.equal(manifest.augmentation.quality, 75);
    assert.equal(manifest.materialisedWith, 'copy', 'other fields kept');
    const augmented = Object.fromEntries(manifest.summary.classes.map((c: { name: string; augmented: number }) => [c.name, c.augmented]));
    assert.deepEqual(augmented, { akiec: 6, df: 7, nv: 0 });

    const done = events.find((e) => e.type === 'augment/didFinish');
    assert.ok(done && done.type === 'augment/didFinish');
    assert.equal(done.written, 13);
    assert.deepEqual(done.perClass.df, { before: 3, after: 10 });
    const progress = events.filter((e) => e.type === 'progress');
    assert.ok(progress.length >= 2);
    const last = progress.at(-1)!;
    assert.ok(last.type === 'progress' && last.unit === 'image' && last.done === 13 && last.total === 13);
  });

  it('writes nothing for a class that already has the target', async () => {
    const dir = path.join(tmp, 'p');
    await makePreparedFolder(dir, classes);
    const { ctx, events } = collect();
    await augmentDataset(base(dir, { target: 4, skip: [] }), ctx);
    assert.deepEqual(await augFiles(dir, 'akiec'), []);
    assert.deepEqual(await augFiles(dir, 'nv'), []);
    assert.equal((await augFiles(dir, 'df')).length, 1);
    const done = events.find((e) => e.type === 'augment/didFinish');
    assert.ok(done?.type === 'augment/didFinish' && done.written === 1);
  });

  it('same seed: byte-identical files; another seed: different files', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    const c = path.join(tmp, 'c');
    for (const d of [a, b, c]) await makePreparedFolder(d, classes);
    await augmentDataset(base(a, { workers: 2 }), collect().ctx);
    await augmentDataset(base(b, { concurrency: 1, workers: 0 }), collect().ctx);
    await augmentDataset(base(c, { seed: 6 }), collect().ctx);
    const ha = await hashTree(a, 'aug');
    const hb = await hashTree(b, 'aug');
    const hc = await hashTree(c, 'aug');
    assert.equal(Object.keys(ha).length, 14); // 13 images + params.json
    assert.deepEqual(hb, ha, 'same seed: worker threads or not, any concurrency');
    const differing = Object.keys(ha).filter((f) => f.endsWith('.jpg') && hc[f] !== undefined && hc[f] !== ha[f]);
    assert.ok(differing.length >= 10, `only ${differing.length} of the images differ between seeds`);
  });

  it('resumes: keeps complete files, replaces truncated and stale temp files, ends with exact counts', async () => {
    const dir = path.join(tmp, 'p');
    const fresh = path.join(tmp, 'fresh');
    await makePreparedFolder(dir, classes);
    await makePreparedFolder(fresh, classes);
    await augmentDataset(base(fresh), collect().ctx);
    await augmentDataset(base(dir), collect().ctx);
    const files = await augFiles(dir, 'df');
    // What a killed run leaves: a missing file, a truncated one, a stale temp file.
    await fs.rm(path.join(dir, 'aug', 'df', files[0]!));
    const truncated = path.join(dir, 'aug', 'df', files[1]!);
    await fs.writeFile(truncated, (await fs.readFile(truncated)).subarray(0, 100));
    await fs.writeFile(path.join(dir, 'aug', 'df', `.${files[2]}.tmp-99999`), 'partial');
    const { ctx, events } = collect();
    await augmentDataset(base(dir), ctx);
    const done = events.find((e) => e.type === 'augment/didFinish');
    assert.ok(done?.type === 'augment/didFinish');
    assert.equal(done.written, 2);
    assert.deepEqual(await hashTree(dir, 'aug'), await hashTree(fresh, 'aug'));
  });

  it('a lower target removes the surplus, a newly skipped class loses its files, a new seed rewrites all', async () => {
    const dir = path.join(tmp, 'p');
    await makePreparedFolder(dir, classes);
    await augmentDataset(base(dir, { target: 12 }), collect().ctx);
    assert.equal((await augFiles(dir, 'df')).length, 9);
    const before = await hashTree(dir, 'aug');
    await augmentDataset(base(dir, { target: 7, skip: ['nv', 'akiec'] }), collect().ctx);
    const df = await augFiles(dir, 'df');
    assert.equal(df.length, 4);
    assert.deepEqual(await augFiles(dir, 'akiec'), []);
    const after = await hashTree(dir, 'aug');
    for (const f of df) assert.equal(after[`df/${f}`], before[`df/${f}`], 'kept files are the same files');
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.augmentation.perClass.df, { before: 3, after: 7 });
    assert.deepEqual(manifest.augmentation.perClass.akiec, { before: 4, after: 4 });

    const { ctx, events } = collect();
    await augmentDataset(base(dir, { target: 7, skip: ['nv', 'akiec'], seed: 99 }), ctx);
    const rewritten = await hashTree(dir, 'aug');
    assert.deepEqual(await augFiles(dir, 'df'), df);
    for (const f of df) assert.notEqual(rewritten[`df/${f}`], after[`df/${f}`]);
    assert.ok(events.some((e) => e.type === 'log' && /different settings/.test(e.message)));
  });

  it('stops promptly when cancelled, leaves no temp files, and a re-run completes exactly', async () => {
    const dir = path.join(tmp, 'p');
    await makePreparedFolder(dir, classes);
    const controller = new AbortController();
    let progressSeen = 0;
    const ctx: JobContext = {
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'progress' && ++progressSeen === 1) controller.abort();
      },
    };
    await assert.rejects(augmentDataset(base(dir, { target: 40 }), ctx), CancelledError);
    const partial = [...(await augFiles(dir, 'akiec')), ...(await augFiles(dir, 'df'))];
    assert.ok(partial.length < 36 + 37, `cancelled, yet wrote ${partial.length}`);
    assert.ok(partial.every((f) => !f.startsWith('.')), 'no temp files');
    await augmentDataset(base(dir, { target: 40 }), collect().ctx);
    assert.equal((await augFiles(dir, 'akiec')).length, 36);
    assert.equal((await augFiles(dir, 'df')).length, 37);
  });

  it('refuses bad input with a next step', async () => {
    const missing = path.join(tmp, 'nope');
    await assert.rejects(augmentDataset(base(missing), collect().ctx), (e: unknown) => e instanceof UserError && /lesion-lab prepare/.test(e.message));
    const empty = path.join(tmp, 'empty');
    await fs.mkdir(empty);
    await assert.rejects(augmentDataset(base(empty), collect().ctx), (e: unknown) => e instanceof UserError && /no manifest\.json/.test(e.message));
    await fs.writeFile(path.join(empty, 'manifest.json'), '{ not json');
    await assert.rejects(augmentDataset(base(empty), collect().ctx), (e: unknown) => e instanceof UserError && /is damaged/.test(e.message));
    await fs.writeFile(path.join(empty, 'manifest.json'), JSON.stringify({ version: 1, images: [] }));
    await assert.rejects(augmentDataset(base(empty), collect().ctx), (e: unknown) => e instanceof UserError && /manifest\.summary/.test(e.message));

    const dir = path.join(tmp, 'p');
    await makePreparedFolder(dir, classes);
    await assert.rejects(
      augmentDataset(base(dir, { skip: ['nv', 'melanoma'] }), collect().ctx),
      (e: unknown) => e instanceof UserError && /"melanoma"/.test(e.message) && /akiec, df, nv/.test(e.message),
    );
    await fs.rm(path.join(dir, 'train', 'df'), { recursive: true });
    await assert.rejects(
      augmentDataset(base(dir), collect().ctx),
      (e: unknown) => e instanceof UserError && /train image/.test(e.message) && /prepare/.test(e.message),
    );
    const left = await listTree(path.join(dir, 'aug'));
    assert.deepEqual(left.filter((f) => path.basename(f).startsWith('.')), [], 'no temp files after a failure');
  });

  describe('the classes a dataset defines', () => {
    /** A CSV-labelled dataset whose classes are not HAM10000's, one of them needing a folder name of its own. */
    async function prepareOwnClasses(): Promise<string> {
      const data = path.join(tmp, 'data');
      const rows = ['image,label'];
      const labels = { benign: 6, 'unsure – review': 3, 'atypical/dysplastic': 2 };
      let n = 0;
      for (const [label, count] of Object.entries(labels)) {
        for (let i = 0; i < count; i++) {
          rows.push(`img${n}.jpg,${label}`);
          await writeJpeg(path.join(data, 'photos', `img${n}.jpg`), n++);
        }
      }
      await fs.writeFile(path.join(data, 'labels.csv'), rows.join('\n') + '\n');
      const prepared = path.join(tmp, 'prepared');
      await prepareDataset({ data, out: prepared, split: 'lesion', valFraction: 0.2, seed: 101, link: 'copy', table: { image: 'image', label: 'label' } }, recordingContext());
      return prepared;
    }

    it('balances every class to the target in its own folder; without --skip nothing is skipped when there is no nv', async () => {
      const prepared = await prepareOwnClasses();
      const manifest = await readManifest(prepared);
      assert.deepEqual(manifest.classes?.map((c) => [c.name, c.folder]), [['atypical/dysplastic', 'atypical_dysplastic'], ['benign', 'benign'], ['unsure – review', 'unsure – review']]);
      await augmentDataset(base(prepared, { target: 8, skip: undefined }), collect().ctx);
      const after = await readManifest(prepared);
      assert.deepEqual(after.augmentation?.skip, []);
      for (const c of after.classes!) {
        const train = after.images.filter((i) => i.dx === c.name && i.split === 'train').length;
        assert.equal((await augFiles(prepared, c.folder)).length, 8 - train, c.name);
        assert.equal(after.summary.classes.find((k) => k.name === c.name)?.augmented, 8 - train);
      }
      assert.deepEqual((await fs.readdir(path.join(prepared, 'aug'))).filter((f) => !f.endsWith('.json')).sort(), ['atypical_dysplastic', 'benign', 'unsure – review']);
    });

    it('--skip takes any class name (spaces, dashes, letter case aside) and lists the classes when one is wrong', async () => {
      const prepared = await prepareOwnClasses();
      await augmentDataset(base(prepared, { target: 8, skip: ['Unsure – Review'] }), collect().ctx);
      assert.deepEqual((await readManifest(prepared)).augmentation?.skip, ['unsure – review']);
      assert.deepEqual(await augFiles(prepared, 'unsure – review'), []);
      assert.ok((await augFiles(prepared, 'benign')).length > 0);
      await assert.rejects(augmentDataset(base(prepared, { skip: ['nv'] }), collect().ctx), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.equal(e.message, '--skip names "nv", which is not a class of this dataset. Its classes are atypical/dysplastic, benign, unsure – review; e.g. --skip atypical/dysplastic.');
        return true;
      });
    });
  });
});
