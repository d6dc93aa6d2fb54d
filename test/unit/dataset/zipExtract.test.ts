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

  it('treats ..\\ as traversal too (Windows reads a backslash as a separator), and checks folder entries like files', async () => {
    const zip = path.join(dir, 'crafted.zip');
    const jpg = await jpegBytes(3);
    // Names yazl would refuse are written as same-length placeholders, then patched in the zip's bytes.
    await writeZip(
      zip,
      [
        { name: 'ok/ISIC_0000003.jpg', data: jpg },
        { name: 'aaaaaaa.jpg', data: 'evil' },
        { name: 'bbbbbbbbbbbbbb.jpg', data: 'evil' },
        { name: 'cccc.jpg', data: 'evil' },
        { name: 'dddd.jpg', data: 'evil' },
        { name: 'eeeeeeeeeeeee/', directory: true },
        { name: 'fffffffffff/', directory: true },
        { name: 'empty/', directory: true },
      ],
      {
        'aaaaaaa.jpg': '..\\evil.jpg',
        'bbbbbbbbbbbbbb.jpg': 'sub\\..\\..\\evil.jpg',
        'cccc.jpg': '\\abs.jpg',
        'dddd.jpg': 'C:\\a.jpg',
        'eeeeeeeeeeeee/': '../../outside/',
        'fffffffffff/': '..\\outside2\\',
      },
    );
    const dest = path.join(dir, 'out', 'crafted');
    const result = await extractZipSafely(zip, dest, new AbortController().signal);
    assert.deepEqual(result.files, ['ok/ISIC_0000003.jpg']);
    const reasons = Object.fromEntries(result.excluded.map((e) => [e.entry, e.reason]));
    // Reported with `/`: yauzl reads a backslash in a name as the separator Windows would take it for.
    assert.deepEqual(reasons, {
      '../evil.jpg': 'unsafe zip entry: path leads outside the folder',
      'sub/../../evil.jpg': 'unsafe zip entry: path leads outside the folder',
      '/abs.jpg': 'unsafe zip entry: absolute path',
      'C:/a.jpg': 'unsafe zip entry: absolute path',
      '../../outside/': 'unsafe zip entry: path leads outside the folder',
      '../outside2/': 'unsafe zip entry: path leads outside the folder',
    });
    assert.deepEqual((await fs.readdir(dest)).sort(), ['empty', 'ok']);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['crafted.zip', 'out'], 'nothing written beside the destination');
    assert.deepEqual(await fs.readdir(path.join(dir, 'out')), ['crafted']);
  });

  it('stops at the cap on total extracted bytes, before writing past it, and leaves nothing behind', async () => {
    const zip = path.join(dir, 'bomb.zip');
    // Zeros compress about 1000:1: 3 MB in the zip unpacks to 3 GB in a real bomb; here 3 × 1 MB against a 2.5 MB cap.
    await writeZip(zip, [0, 1, 2].map((i) => ({ name: `zeros${i}.bin`, data: Buffer.alloc(1024 * 1024) })));
    assert.ok((await fs.stat(zip)).size < 50_000, 'the zip is small; what it unpacks to is not');
    const dest = path.join(dir, 'bomb');
    await assert.rejects(extractZipSafely(zip, dest, new AbortController().signal, { maxTotalBytes: 2.5 * 1024 * 1024 }), (err: Error) => {
      assert.equal(err.name, 'UserError');
      assert.match(err.message, /would unpack to more than 0\.002 GiB \(at zeros2\.bin\).*Nothing was extracted/);
      return true;
    });
    assert.deepEqual((await fs.readdir(dir)).sort(), ['bomb.zip'], 'no destination and no partial folder');
    // Under the cap the same zip extracts.
    const ok = await extractZipSafely(zip, dest, new AbortController().signal, { maxTotalBytes: 3 * 1024 * 1024 });
    assert.equal(ok.files.length, 3);
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
