import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { assertBuilt, runCli, startCli } from '../helpers/cli';
import { listTree, makePreparedFolder } from '../unit/augment/preparedFixture';

async function fingerprint(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of await listTree(dir)) h.update(f).update(await fs.readFile(path.join(dir, f)));
  return h.digest('hex');
}

describe('backend process: augment', function () {
  this.timeout(180_000);
  let tmp: string;
  let prepared: string;
  const classes = { akiec: { train: 3, val: 1 }, df: { train: 2, val: 1 }, nv: { train: 4, val: 1 } };
  before(assertBuilt);
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-augment-cli-'));
    prepared = path.join(tmp, 'prepared');
    await makePreparedFolder(prepared, classes);
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('survives SIGKILL halfway: the re-run ends with exact counts, whole JPEGs, no temp files, val untouched', async () => {
    const target = 1200;
    const valBefore = await fingerprint(path.join(prepared, 'val'));
    const args = ['augment', '--prepared', prepared, '--target', String(target), '--seed', '3', '--json'];
    const first = startCli(args);
    await first.waitForEvent((e) => e.type === 'progress' && e.task === 'augment' && e.done > 0);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    const partial = (await listTree(path.join(prepared, 'aug'))).filter((f) => f.endsWith('.jpg') && !path.basename(f).startsWith('.'));
    assert.ok(partial.length > 0 && partial.length < 2 * target - 5, `killed after ${partial.length} images: not halfway`);

    const second = await runCli(args);
    assert.equal(second.code, 0, second.stderr);
    const done = second.events.find((e) => e.type === 'augment/didFinish');
    assert.ok(done && done.type === 'augment/didFinish');
    assert.deepEqual(done.perClass, { akiec: { before: 3, after: target }, df: { before: 2, after: target }, nv: { before: 4, after: 4 } });
    assert.equal(done.written, 2 * target - 5 - partial.length, 'the re-run wrote exactly the missing images');
    assert.deepEqual(second.events.at(-1), { type: 'job/didEnd', status: 'done', exitCode: 0 });

    const files = await listTree(path.join(prepared, 'aug'));
    assert.deepEqual(files.filter((f) => path.basename(f).startsWith('.')), [], 'no temp files remain');
    assert.equal(files.filter((f) => f.startsWith('akiec/')).length, target - 3);
    assert.equal(files.filter((f) => f.startsWith('df/')).length, target - 2);
    assert.equal(files.filter((f) => f.startsWith('nv/')).length, 0);
    for (const f of files.filter((x) => x.endsWith('.jpg'))) {
      const { info } = await sharp(path.join(prepared, 'aug', f)).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.width, 224);
      assert.equal(info.height, 224);
    }
    assert.equal(await fingerprint(path.join(prepared, 'val')), valBefore, 'val untouched');
    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8'));
    assert.equal(manifest.augmentation.target, target);
    assert.equal(manifest.augmentation.seed, 3);
  });

  it('the same files come out of an interrupted run and an uninterrupted one', async () => {
    const other = path.join(tmp, 'other');
    await makePreparedFolder(other, classes);
    const args = (dir: string): string[] => ['augment', '--prepared', dir, '--target', '300', '--size', '64', '--json'];
    const first = startCli(args(prepared));
    await first.waitForEvent((e) => e.type === 'progress' && e.done > 0);
    first.child.kill('SIGINT');
    const cancelled = await first.done;
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.deepEqual(cancelled.events.at(-1), { type: 'job/didEnd', status: 'cancelled', exitCode: 130 });
    assert.deepEqual((await listTree(path.join(prepared, 'aug'))).filter((f) => path.basename(f).startsWith('.')), [], 'a cancel leaves no temp files');
    assert.equal((await runCli(args(prepared))).code, 0);
    assert.equal((await runCli(args(other))).code, 0);
    assert.equal(await fingerprint(path.join(prepared, 'aug')), await fingerprint(path.join(other, 'aug')));
  });

  it('bad input: exit 1 with a next step, or 2 for bad usage', async () => {
    const missing = await runCli(['augment', '--prepared', path.join(tmp, 'nowhere'), '--json']);
    assert.equal(missing.code, 1);
    const err = missing.events.find((e) => e.type === 'error');
    assert.ok(err && err.type === 'error' && /lesion-lab prepare/.test(err.message), JSON.stringify(err));

    const notPrepared = path.join(tmp, 'plain');
    await fs.mkdir(notPrepared);
    const plain = await runCli(['augment', '--prepared', notPrepared]);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /no manifest\.json/);
    assert.match(plain.stderr, /lesion-lab prepare/);

    const skip = await runCli(['augment', '--prepared', prepared, '--skip', 'nv,naevus', '--json']);
    assert.equal(skip.code, 1);
    const skipErr = skip.events.find((e) => e.type === 'error');
    assert.ok(skipErr && skipErr.type === 'error' && /"naevus"/.test(skipErr.message) && /akiec, df, nv/.test(skipErr.message), JSON.stringify(skipErr));
    assert.deepEqual(await listTree(path.join(prepared, 'aug')), [], 'nothing written on bad input');

    assert.equal((await runCli(['augment', '--target', '10'])).code, 2, 'missing --prepared');
    assert.equal((await runCli(['augment', '--prepared', prepared, '--target', '0'])).code, 2);
    assert.equal((await runCli(['augment', '--prepared', prepared, '--size', 'big'])).code, 2);
  });
});
