import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, runCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';

const MODEL = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--engine', 'wasm'];

/** Every file under `dir` with its size, modification time and sha256: what "unchanged" means. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = await fs.stat(file);
    out[path.relative(dir, file)] = `${stat.size} ${stat.mtimeMs} ${createHash('sha256').update(await fs.readFile(file)).digest('hex')}`;
  }
  return out;
}

describe('backend process: lr-find (the learning-rate range test)', function () {
  this.timeout(600_000);
  let dir: string;
  let prepared: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lrfind-'));
    ({ prepared } = await preparedDemoDataset(dir, 8));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('from a run’s checkpoint on demo data: a finite suggestion, and the run folder (checkpoints included) unchanged', async () => {
    const run = path.join(dir, 'run');
    // No warm-up: the checkpoint the range test starts from is the one this test was measured on.
    const t = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'both', '--epochs', '1', '--finetune-epochs', '1', '--warmup-epochs', '0', ...MODEL, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const before = await snapshot(run);
    assert.ok(Object.keys(before).some((f) => f.startsWith(path.join('checkpoints', 'last'))), 'the run has a last checkpoint');

    const r = await runCli(['lr-find', '--run', run, '--phase', 'finetune', '--batch', '8', '--steps', '40', '--engine', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const done = r.events.find((e) => e.type === 'lrFind/didFinish');
    assert.ok(done && done.type === 'lrFind/didFinish');
    assert.equal(done.phase, 'finetune');
    assert.ok(done.points.length >= 10 && done.points.length <= 40, `${done.points.length} points`);
    // Exponentially increasing: a constant ratio from one batch to the next, from 1e-7.
    assert.equal(done.points[0]!.lr, 1e-7);
    const ratio = done.points[1]!.lr / done.points[0]!.lr;
    assert.ok(done.points.every((p, i) => i === 0 || Math.abs(p.lr / done.points[i - 1]!.lr - ratio) < 1e-9));
    const s = done.suggestion;
    assert.ok(s.suggested !== undefined && Number.isFinite(s.suggested) && s.suggested > 0, `a finite suggestion, got ${JSON.stringify(s)}`);
    assert.ok(s.minimumTenth !== undefined && Math.abs(s.minimumTenth * 10 - s.minimum!) < 1e-12);
    assert.ok(r.events.some((e) => e.type === 'progress' && e.task === 'learning-rate range test'), 'progress reported');

    assert.deepEqual(await snapshot(run), before, 'no file of the run was written, touched or added');
  });

  it('for a new model, as train would build it from the same options: a plain-text report with the suggestion', async () => {
    const r = await runCli(['lr-find', '--prepared', prepared, ...MODEL, '--phase', 'finetune', '--steps', '20', '--end-lr', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^learning-rate range test \(finetune phase, adam, batch 8\): 20 batches up to 1\.0e\+0/m);
    // From scratch on a few images the curve may be flat until it diverges: then there is no steepest descent.
    assert.match(r.stdout, /^ {2}steepest descent {3}(\d\.\de[-+]\d+|—)$/m);
    assert.match(r.stdout, /^ {2}minimum \/ 10 {7}\d\.\de[-+]\d+ {3}\(minimum at \d\.\de[-+]\d+\)$/m);
    assert.match(r.stdout, /^suggested learning rate: \d\.\de[-+]\d+$/m);
  });

  it('refuses a range that does not grow, and a call without --prepared or --run', async () => {
    const bad = await runCli(['lr-find', '--prepared', prepared, ...MODEL, '--start-lr', '1', '--end-lr', '0.1', '--json']);
    assert.equal(bad.code, 1);
    assert.match(JSON.stringify(bad.events), /--end-lr \(0\.1\) must be above --start-lr \(1\)/);
    const usage = await runCli(['lr-find', ...MODEL]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--prepared is required \(unless --run\)/);
  });
});
