import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCK_FILE, parseFolderLock } from '../../../src/shared/folderLock';
import { acquireFolderLock } from '../../../src/backend/folderLock';

describe('backend/folderLock: one writer per folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-folder-lock-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));
  const file = (): string => path.join(dir, LOCK_FILE);
  const holder = async () => parseFolderLock(await fs.readFile(file(), 'utf8'));

  it('records pid, host, start and command; a second taker refuses naming them; release frees it', async () => {
    const lock = await acquireFolderLock(dir, 'prepare --data a --out b', 'The output folder');
    const info = await holder();
    assert.equal(info?.pid, process.pid);
    assert.equal(info?.host, os.hostname());
    assert.equal(info?.command, 'prepare --data a --out b');
    await assert.rejects(acquireFolderLock(dir, 'augment --prepared b', 'The prepared folder'), /^UserError: The prepared folder .* is in use by `prepare --data a --out b` \(pid \d+ on .*Wait for it to finish/);
    await lock.release();
    await assert.rejects(fs.access(file()));
    (await acquireFolderLock(dir, 'again', 'x')).release();
  });

  it('takes over a lock whose process is gone or whose pid now belongs to another process', async () => {
    await fs.writeFile(file(), JSON.stringify({ pid: 2 ** 22 + 7, host: os.hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'prepare --old' }));
    const a = await acquireFolderLock(dir, 'new', 'x');
    assert.equal(a.tookOver?.command, 'prepare --old');
    await a.release();
    if (process.platform === 'linux') {
      await fs.writeFile(file(), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'recycled', processStart: '1' }));
      const b = await acquireFolderLock(dir, 'new', 'x');
      assert.equal(b.tookOver?.command, 'recycled');
      await b.release();
    }
  });

  it('respects a lock from another host, saying how to clear it; never releases a lock it does not hold', async () => {
    await fs.writeFile(file(), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: new Date().toISOString(), command: 'train --run r' }));
    await assert.rejects(acquireFolderLock(dir, 'new', 'The run folder'), /cannot check a process on another host; if it is no longer running, delete .*\.lesion-lab\.lock/);
    await fs.rm(file());
    const mine = await acquireFolderLock(dir, 'mine', 'x');
    await fs.writeFile(file(), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: new Date().toISOString(), command: 'theirs' }));
    await mine.release();
    assert.equal((await holder())?.command, 'theirs');
  });

  it('a missing folder: created on request (prepare --out), else a clear error', async () => {
    const missing = path.join(dir, 'a', 'b');
    await assert.rejects(acquireFolderLock(missing, 'x', 'The run folder'), /The run folder .* does not exist/);
    await (await acquireFolderLock(missing, 'x', 'x', { create: true })).release();
  });
});
