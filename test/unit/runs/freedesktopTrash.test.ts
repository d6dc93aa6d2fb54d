import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { homeTrashDir, moveToTrash, trashInfo } from '../../../src/extension/freedesktopTrash';

describe('the freedesktop.org trash (run folders deleted on Linux)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-trash-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('lives in $XDG_DATA_HOME/Trash, else ~/.local/share/Trash', () => {
    assert.equal(homeTrashDir({ XDG_DATA_HOME: '/x/data' }, '/home/u'), '/x/data/Trash');
    assert.equal(homeTrashDir({}, '/home/u'), '/home/u/.local/share/Trash');
    assert.equal(homeTrashDir({ XDG_DATA_HOME: 'relative' }, '/home/u'), '/home/u/.local/share/Trash', 'a relative XDG_DATA_HOME is ignored, as the XDG spec says');
  });

  it('writes the .trashinfo a file manager reads: the escaped original path and the local deletion time', () => {
    const when = new Date(2025, 2, 4, 5, 6, 7);
    assert.equal(trashInfo('/w/runs/a b%c/é', when), '[Trash Info]\nPath=/w/runs/a%20b%25c/%C3%A9\nDeletionDate=2025-03-04T05:06:07\n');
  });

  it('moves a folder with its contents into files/, and a second one of the same name beside it', async () => {
    const trash = path.join(dir, 'Trash');
    const run = path.join(dir, 'runs', 'run-1');
    await fs.mkdir(path.join(run, 'checkpoints'), { recursive: true });
    await fs.writeFile(path.join(run, 'config.json'), '{}');
    const first = await moveToTrash(run, trash);
    assert.equal(first, path.join(trash, 'files', 'run-1'));
    assert.equal(await fs.readFile(path.join(first, 'config.json'), 'utf8'), '{}');
    await assert.rejects(fs.access(run), 'gone from where it was');
    assert.match(await fs.readFile(path.join(trash, 'info', 'run-1.trashinfo'), 'utf8'), new RegExp(`^\\[Trash Info\\]\\nPath=${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\nDeletionDate=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\n$`));

    await fs.mkdir(run, { recursive: true });
    await fs.writeFile(path.join(run, 'config.json'), '{"second":true}');
    const second = await moveToTrash(run, trash);
    assert.equal(second, path.join(trash, 'files', 'run-1.2'));
    assert.equal(await fs.readFile(path.join(second, 'config.json'), 'utf8'), '{"second":true}');
    assert.ok(await fs.stat(path.join(trash, 'info', 'run-1.2.trashinfo')));
  });

  it('leaves the folder where it was, and no info file, when it cannot be moved', async () => {
    const trash = path.join(dir, 'Trash');
    await assert.rejects(moveToTrash(path.join(dir, 'missing'), trash), { code: 'ENOENT' });
    assert.deepEqual(await fs.readdir(path.join(trash, 'info')), []);
  });
});
