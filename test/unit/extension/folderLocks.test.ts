import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FolderLockInfo } from '../../../src/shared/folderLock';
import { LOCK_FILE, describeLockHolder } from '../../../src/shared/folderLock';
import { folderInUse, foldersOf } from '../../../src/extension/folderLocks';

describe('extension/folderLocks: a job already running on a folder is shown, not started twice', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-locks-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const lock = (info: Partial<FolderLockInfo>): Promise<void> =>
    fs.writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), command: `prepare --data /d --out ${dir}`, from: 'the command line', ...info }));
  const prepare = { command: 'prepare' as const, options: { data: '/d', out: '', split: 'lesion' as const, valFraction: 0.2, seed: 1, link: 'hard' as const } };

  it('knows which folders each job writes (and which prepared folder training reads)', () => {
    assert.deepEqual(foldersOf({ ...prepare, options: { ...prepare.options, out: '/o' } }), [{ folder: '/o', what: 'the output folder' }]);
    assert.deepEqual(foldersOf({ command: 'augment', options: { prepared: '/p', target: 10, skip: [], size: 64, seed: 1 } }).map((f) => f.folder), ['/p']);
    const train = { prepared: '/p', run: '/r', model: 'mobilenetv2' as const, weights: 'none', phase: 'head' as const, epochs: 1, batch: 8, size: 32, augment: 'none' as const, engine: 'wasm' as const, resume: false, classWeights: false, seed: 1 };
    assert.deepEqual(foldersOf({ command: 'train', options: train }).map((f) => f.folder), ['/r', '/p']);
    assert.deepEqual(foldersOf({ command: 'engines' }), []);
  });

  it('a live holder is named with its command, pid and origin; no lock, a dead pid or a recycled one is free', async () => {
    const request = { ...prepare, options: { ...prepare.options, out: dir } };
    assert.equal(await folderInUse(request), undefined, 'no lock');
    await lock({});
    const message = await folderInUse(request);
    assert.match(message ?? '', new RegExp(`^Already running on the output folder .*: \`prepare --data /d --out .*\` \\(pid ${process.pid} on .*, from the command line, started `));
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await lock({ pid: dead });
    assert.equal(await folderInUse(request), undefined, 'the holder is gone');
    if (process.platform === 'linux') {
      await lock({ processStart: '1' });
      assert.equal(await folderInUse(request), undefined, 'a pid that now belongs to another process (other start time)');
    }
    await lock({ host: 'another-host', pid: dead });
    assert.match((await folderInUse(request)) ?? '', /pid \d+ on another-host/, 'another host’s lock cannot be checked: it holds');
  });

  it('says how long ago the holder started', () => {
    const info = { pid: 7, host: 'h', startedAt: '2026-01-01T10:00:00.000Z', command: 'augment --prepared /p' };
    assert.match(describeLockHolder(info, Date.parse('2026-01-01T10:03:00.000Z')), /^`augment --prepared \/p` \(pid 7 on h, started .*, 3 min ago\)$/);
  });
});
