import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { extractZipSafely } from '../../../src/backend/dataset/zipExtract';
import { CancelledError } from '../../../src/backend/errors';
import { jpegBytes, makeTempDir, writeZip } from './fixtures';

describe('extractZipSafely', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('extracts files (nested ones too) and skips ../, absolute and symlink entries with a reason', async () => {
    const zip = path.join(dir, 'images.zip');
    const jpg = await jpegBytes(1);
    await writeZip(
      zip,
      [
        { name: 'ISIC_0000001.jpg', data: jpg },
        { name: 'sub/ISIC_0000002.jpg', data: jpg },
        { name: 'aa/evil.jpg', data: 'evil' },
        { name: 'xabs/evil.jpg', data: 'evil' },
        { name: 'link.jpg', data: '/etc/passwd', mode: 0o120777 },
      ],
      { 'aa/evil.jpg': '../evil.jpg', 'xabs/evil.jpg': '/abs/evil.jpg' },
    );
    const dest = path.join(dir, 'out', 'images');
    const result = await extractZipSafely(zip, dest, new AbortController().signal);
    assert.deepEqual(result.files.sort(), ['ISIC_0000001.jpg', 'sub/ISIC_0000002.jpg']);
    assert.deepEqual(result.excluded, [
      { entry: '../evil.jpg', reason: 'unsafe zip entry: path leads outside the folder' },
      { entry: '/abs/evil.jpg', reason: 'unsafe zip entry: absolute path' },
      { entry: 'link.jpg', reason: 'unsafe zip entry: symbolic link' },
    ]);
    assert.deepEqual(await fs.readFile(path.join(dest, 'sub', 'ISIC_0000002.jpg')), jpg);
    await assert.rejects(fs.stat(path.join(dir, 'out', 'evil.jpg')), /ENOENT/);
    await assert.rejects(fs.stat(path.join(dest, 'link.jpg')), /ENOENT/);
    assert.deepEqual((await fs.readdir(path.join(dir, 'out'))).sort(), ['images'], 'no partial folder left behind');
  });

  it('replaces an earlier extraction and leaves nothing when cancelled', async () => {
    const zip = path.join(dir, 'images.zip');
    await writeZip(zip, [{ name: 'a.jpg', data: await jpegBytes(2) }]);
    const dest = path.join(dir, 'dest');
    await fs.mkdir(dest);
    await fs.writeFile(path.join(dest, 'stale.jpg'), 'old');
    await extractZipSafely(zip, dest, new AbortController().signal);
    assert.deepEqual(await fs.readdir(dest), ['a.jpg']);

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(extractZipSafely(zip, path.join(dir, 'other'), controller.signal), CancelledError);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['dest', 'images.zip']);
  });

  it('reports a damaged zip as a UserError', async () => {
    const zip = path.join(dir, 'broken.zip');
    await fs.writeFile(zip, 'this is not a zip');
    await assert.rejects(extractZipSafely(zip, path.join(dir, 'x'), new AbortController().signal), (err: Error) => {
      assert.equal(err.name, 'UserError');
      assert.match(err.message, /is not a readable zip file .* Download it again/);
      return true;
    });
  });
});
