import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../../src/backend/errors';
import { insidePreparedFolder, readManifest, recordAugmentation } from '../../../src/backend/dataset/manifest';

/** A minimal manifest as `prepare` writes it, with the given image paths. */
function manifest(files: string[]): unknown {
  const count = { images: files.length, lesions: files.length };
  return {
    version: 1,
    summary: {
      sourcePath: '/data',
      layout: 'kaggle',
      split: 'lesion',
      valFraction: 0.2,
      seed: 101,
      link: 'copy',
      classes: [{ name: 'nv', all: count, train: count, val: { images: 0, lesions: 0 } }],
      excludedCount: 0,
      excluded: [],
      preparedAt: '2025-01-01T00:00:00.000Z',
    },
    images: files.map((file, i) => ({ imageId: `ISIC_${i}`, lesionId: `L${i}`, dx: 'nv', split: 'train', source: `/data/${i}.jpg`, file })),
    excluded: [],
    materialisedWith: 'copy',
    notes: [],
  };
}

describe('dataset/manifest: the one PreparedManifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-manifest-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('treats .. (either separator) and absolute paths as outside the prepared folder', () => {
    for (const ok of ['train/nv/ISIC_1.jpg', 'val/mel/a..b.jpg']) assert.equal(insidePreparedFolder(ok), true, ok);
    for (const bad of ['../x.jpg', 'train/../../x.jpg', 'train\\..\\..\\x.jpg', '/etc/passwd', 'C:\\x.jpg', 'C:/x.jpg']) assert.equal(insidePreparedFolder(bad), false, bad);
  });

  it('refuses a manifest whose image path climbs out, for every stage that reads it', async () => {
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest(['train/nv/ok.jpg', 'train/nv/..\\..\\..\\secret.jpg'])));
    await assert.rejects(readManifest(dir), (err: unknown) => err instanceof UserError && /outside the prepared folder/.test(err.message));
  });

  it('says when the prepared folder itself does not exist, and when it has no manifest', async () => {
    await assert.rejects(readManifest(path.join(dir, 'nope')), (err: unknown) => err instanceof UserError && /prepared folder .*nope does not exist/.test(err.message));
    await assert.rejects(readManifest(dir), (err: unknown) => err instanceof UserError && /not a prepared dataset: it has no manifest\.json/.test(err.message));
  });

  it('records augmentation without disturbing the rest of the file', async () => {
    const original = { ...(manifest(['train/nv/a.jpg']) as object), extraField: 'kept' };
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(original));
    await recordAugmentation(dir, { target: 10, skip: [], size: 64, seed: 1, quality: 90, fillMode: 'nearest', contrastStretch: false, perClass: { nv: { before: 1, after: 10 } }, updatedAt: 'now' });
    const back = await readManifest(dir);
    assert.equal(back.summary.classes[0]!.augmented, 9);
    assert.equal(back.augmentation?.target, 10);
    assert.equal((back as unknown as { extraField: string }).extraField, 'kept');
  });
});
