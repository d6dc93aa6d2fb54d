import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PreparedManifest } from '../../src/backend/dataset/manifest';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { CliResult } from '../helpers/cli';
import { assertBuilt, runCli, startCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';

const LOCK = '.lesion-lab.lock';
const IN_USE = /is in use by `(prepare|augment) --[^`]+` \(pid \d+ on [^,]+, from the command line, started /;

/** The prepared folder holds exactly one complete output: every manifest image on disk, nothing else, no leftovers, no lock. */
async function assertOneConsistentOutput(out: string): Promise<PreparedManifest> {
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as PreparedManifest;
  const listed = new Set(manifest.images.map((i) => i.file));
  const onDisk: string[] = [];
  for (const split of ['train', 'val']) {
    for (const entry of await fs.readdir(path.join(out, split), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) onDisk.push(path.relative(out, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
    }
  }
  assert.deepEqual(onDisk.sort(), [...listed].sort(), 'the files on disk are exactly the manifest’s');
  const names = await fs.readdir(out);
  assert.deepEqual(names.filter((n) => /^\.prepare-(staging|previous)-/.test(n)), [], 'no staging or swap folders left');
  assert.ok(!names.includes(LOCK), 'the lock is released');
  return manifest;
}

const errorOf = (r: CliResult): string => r.events.filter((e): e is Extract<BackendEvent, { type: 'error' }> => e.type === 'error').map((e) => e.message).join('\n');

describe('backend process: two processes on one folder never corrupt it', function () {
  this.timeout(600_000);
  let dir: string;
  let demo: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-concurrency-'));
    ({ demo } = await preparedDemoDataset(dir, 8));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const prepare = (out: string, seed: number) => startCli(['prepare', '--data', demo, '--out', out, '--seed', String(seed), '--json']);

  it('a second prepare into a folder being prepared refuses, naming the first; the first finishes one consistent output', async () => {
    const out = path.join(dir, 'prepared-a');
    const first = prepare(out, 1);
    // Hold the first still while it holds the folder: the overlap is certain, not a matter of timing.
    await first.waitForEvent((e) => e.type === 'progress' && e.task === 'link');
    first.child.kill('SIGSTOP');
    try {
      const second = await prepare(out, 2).done;
      assert.equal(second.code, 1, second.stderr);
      assert.match(errorOf(second), IN_USE);
      assert.match(errorOf(second), new RegExp(`pid ${first.child.pid}`));
      assert.doesNotMatch(second.stderr + errorOf(second), /ENOENT|ENOTEMPTY|a bug in Lesion Lab/);
    } finally {
      first.child.kill('SIGCONT');
    }
    const r = await first.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await assertOneConsistentOutput(out)).summary.seed, 1, 'the folder holds the run that reported success');
  });

  it('prepares started at the same moment: each succeeds in turn or refuses clearly, and the folder holds the last success', async () => {
    const out = path.join(dir, 'prepared-race');
    const results = await Promise.all([11, 12, 13].map((seed) => prepare(out, seed).done.then((r) => ({ seed, r }))));
    for (const { seed, r } of results) {
      if (r.code === 0) continue;
      assert.equal(r.code, 1, `seed ${seed}: ${r.stderr}`);
      assert.match(errorOf(r), IN_USE, `seed ${seed} failed for another reason: ${errorOf(r)}`);
    }
    const succeeded = results.filter(({ r }) => r.code === 0);
    assert.ok(succeeded.length >= 1, 'at least one prepared the folder');
    const manifest = await assertOneConsistentOutput(out);
    const finished = (r: CliResult) => Date.parse((r.events.find((e) => e.type === 'prepare/didFinish') as Extract<BackendEvent, { type: 'prepare/didFinish' }>).summary.preparedAt);
    const last = succeeded.sort((a, b) => finished(a.r) - finished(b.r)).at(-1)!;
    assert.equal(manifest.summary.seed, last.seed, 'the folder holds the prepare that finished last, which reported success');
  });

  it('a lock left by a killed prepare is taken over; its leftovers are removed, a live process’s staging folder never', async () => {
    const out = path.join(dir, 'prepared-stale');
    const killed = prepare(out, 1);
    await killed.waitForEvent((e) => e.type === 'progress' && e.task === 'link');
    killed.child.kill('SIGKILL');
    await killed.done;
    const names = await fs.readdir(out);
    assert.ok(names.includes(LOCK), 'the killed process left its lock');
    assert.ok(names.includes(`.prepare-staging-${killed.child.pid}`), 'and its staging folder');

    // A live prepare, stopped in the middle of writing its staging folder…
    const live = prepare(out, 2);
    const tookOver = live.waitForEvent((e) => e.type === 'log' && /took over the lock of `prepare .*which is no longer running/.test(e.message));
    const linking = live.waitForEvent((e) => e.type === 'progress' && e.task === 'link');
    await tookOver;
    await linking;
    live.child.kill('SIGSTOP');
    const liveStaging = `.prepare-staging-${live.child.pid}`;
    try {
      assert.ok(!(await fs.readdir(out)).includes(`.prepare-staging-${killed.child.pid}`), 'the dead process’s staging folder is gone');
      // …whose lock someone deletes by hand: the next prepare gets in, but must leave the live staging folder alone.
      await fs.rm(path.join(out, LOCK));
      const third = await prepare(out, 3).done;
      assert.equal(third.code, 0, third.stderr);
      assert.ok((await fs.readdir(out)).includes(liveStaging), 'the live process’s staging folder survived the cleanup');
    } finally {
      live.child.kill('SIGCONT');
    }
    const r = await live.done;
    assert.equal(r.code, 0, `the stopped prepare finished: ${r.stderr}`);
    assert.equal((await assertOneConsistentOutput(out)).summary.seed, 2);
  });

  it('augment: a second augment, or a prepare, on a folder being augmented refuses, naming it', async () => {
    const prepared = path.join(dir, 'prepared-a');
    // Enough outputs (≈ 6 × 500) that it is still writing when stopped.
    const first = startCli(['augment', '--prepared', prepared, '--target', '500', '--size', '64', '--json']);
    await first.waitForEvent((e) => e.type === 'progress');
    first.child.kill('SIGSTOP');
    assert.equal(first.child.exitCode, null, 'augment was still running when stopped');
    try {
      const second = await runCli(['augment', '--prepared', prepared, '--target', '500', '--size', '64', '--json']);
      assert.equal(second.code, 1, second.stderr);
      assert.match(errorOf(second), /The prepared folder .* is in use by `augment --prepared /);
      const reprepare = await prepare(prepared, 5).done;
      assert.equal(reprepare.code, 1, reprepare.stderr);
      assert.match(errorOf(reprepare), /is in use by `augment --prepared /);
      const train = await runCli(['train', '--prepared', prepared, '--run', path.join(dir, 'run-during-augment'), '--json']);
      assert.equal(train.code, 1, train.stderr);
      assert.match(errorOf(train), /The prepared folder .* is being written by `augment --prepared /);
      await assert.rejects(fs.stat(path.join(dir, 'run-during-augment')), /ENOENT/, 'the refused run left no folder');
    } finally {
      first.child.kill('SIGCONT');
    }
    const r = await first.done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(await fs.readdir(prepared)).includes(LOCK));
  });

  it('a failed prepare that created --out leaves no folder behind', async () => {
    const out = path.join(dir, 'never-made');
    const empty = path.join(dir, 'no-dataset');
    await fs.mkdir(empty);
    const r = await runCli(['prepare', '--data', empty, '--out', out, '--json']);
    assert.equal(r.code, 1);
    await assert.rejects(fs.stat(out), /ENOENT/, 'the --out folder it created is removed again');
  });
});
