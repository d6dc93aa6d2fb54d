import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { Evaluation } from '../../src/shared/protocol/results';
import { describeEvaluatedSet } from '../../src/shared/runFiles';
import type { SweepPlan, SweepSummary } from '../../src/shared/sweep';
import type { PreparedManifest } from '../../src/backend/dataset/manifest';
import { acquireFolderLock } from '../../src/backend/folderLock';
import { assertBuilt, runCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';

// MobileNetV2-0.35 at 32 px from scratch, one head epoch per fold: the cross-validation machinery, not the model, is under test.
const TRAIN = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--phase', 'head', '--epochs', '1', '--engine', 'wasm', '--threads', '1'];

describe('backend process: k-fold cross-validation with the local executor', function () {
  this.timeout(900_000);
  let dir: string;
  let prepared: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-cv-'));
    ({ prepared } = await preparedDemoDataset(dir, 4));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const why = (r: { stderr: string; events: BackendEvent[] }): string => r.events.filter((e) => e.type === 'error').map((e) => JSON.stringify(e)).join('\n') || r.stderr;

  it('records the folds under the prepared folder’s lock: while another process writes it, cv refuses and names it', async () => {
    const lock = await acquireFolderLock(prepared, 'augment --prepared (the test)', 'The prepared folder');
    try {
      const r = await runCli(['cv', '--prepared', prepared, '--out', path.join(dir, 'cv-locked'), '--folds', '3', ...TRAIN, '--json']);
      assert.equal(r.code, 1);
      assert.match(why(r), new RegExp(`is in use by \`augment --prepared \\(the test\\)\` \\(pid ${process.pid}`));
    } finally {
      await lock.release();
    }
    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8')) as PreparedManifest;
    assert.equal(manifest.crossValidation?.some((s) => s.folds === 3) ?? false, false, 'no folds recorded while locked');
  });

  it('records the folds in the manifest, trains one run per fold (2 at a time), and pools every image once out of fold; a re-run trains nothing', async () => {
    const out = path.join(dir, 'cv');
    const r = await runCli(['cv', '--prepared', prepared, '--out', out, '--folds', '2', '--parallel', '2', ...TRAIN, '--json']);
    assert.equal(r.code, 0, why(r));

    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8')) as PreparedManifest;
    const scheme = manifest.crossValidation?.find((s) => s.folds === 2);
    assert.ok(scheme, 'the manifest records the 2 folds');
    const foldable = manifest.images.filter((i) => i.split !== 'test');
    assert.equal(Object.keys(scheme.assignment).length, foldable.length, 'every image has a fold');

    const plan = JSON.parse(await fs.readFile(path.join(out, 'sweep.json'), 'utf8')) as SweepPlan;
    assert.equal(plan.kind, 'cv');
    assert.deepEqual(plan.tasks.map((t) => t.params.fold), [1, 2]);
    for (const task of plan.tasks) {
      const config = JSON.parse(await fs.readFile(path.join(out, task.run, 'config.json'), 'utf8')) as { options: { fold: number; folds: number }; dataset: { val: number } };
      assert.equal(config.options.folds, 2);
      assert.equal(config.options.fold, task.params.fold);
      const inFold: number = Object.values(scheme.assignment).filter((f) => f === Number(task.params.fold) - 1).length;
      assert.equal(config.dataset.val, inFold, `fold ${task.params.fold} validates on its own images`);
    }

    const finished = r.events.find((e): e is Extract<BackendEvent, { type: 'sweep/didFinish' }> => e.type === 'sweep/didFinish');
    assert.ok(finished, 'sweep/didFinish');
    const summary = JSON.parse(await fs.readFile(path.join(out, 'summary.json'), 'utf8')) as SweepSummary;
    assert.deepEqual(summary, finished.summary);
    assert.equal(summary.finished, 2);
    assert.equal(summary.runs.length, 2);
    const cv = summary.crossValidation[0]!;
    assert.equal(cv.perFold.length, 2);
    assert.ok(cv.outOfFold, 'out-of-fold pool');
    assert.equal(cv.outOfFold.images, foldable.length, 'every image predicted exactly once out of fold');
    const { low, high } = cv.outOfFold.balancedAccuracyCi;
    assert.ok(low <= cv.outOfFold.balancedAccuracy && cv.outOfFold.balancedAccuracy <= high, `CI ${low}–${high} holds the point estimate`);
    // Each class's pooled recall has its interval too, around the point figure.
    assert.deepEqual(Object.keys(cv.outOfFold.perClassRecallCi ?? {}).sort(), Object.keys(cv.outOfFold.perClassRecall).sort());
    for (const [c, r] of Object.entries(cv.outOfFold.perClassRecall)) {
      const ci = cv.outOfFold.perClassRecallCi![c]!;
      assert.ok(ci.low <= r + 1e-12 && r <= ci.high + 1e-12, `${c}: recall ${r} within ${ci.low}–${ci.high}`);
    }
    const mean = (cv.perFold[0]!.balancedAccuracy + cv.perFold[1]!.balancedAccuracy) / 2;
    assert.ok(Math.abs(cv.balancedAccuracy.mean - mean) < 1e-12);
    const md = await fs.readFile(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /Out of fold \(\d+ images/);
    const statuses = r.events.filter((e): e is Extract<BackendEvent, { type: 'sweep/didStatus' }> => e.type === 'sweep/didStatus');
    assert.deepEqual(statuses.at(-1)!.status.tasks.map((t) => t.state), ['finished', 'finished']);
    for (const t of statuses.at(-1)!.status.tasks) {
      assert.ok(t.valBalancedAccuracyCi && t.valBalancedAccuracyCi.low <= t.valBalancedAccuracy! && t.valBalancedAccuracy! <= t.valBalancedAccuracyCi.high, `task ${t.index}: the latest epoch's interval`);
    }
    // The sweep's process is recorded only while it runs it (the extension's backend lives on after the job).
    const record = JSON.parse(await fs.readFile(path.join(out, 'executor.json'), 'utf8')) as { pid?: number; submissions: unknown[] };
    assert.equal(record.pid, undefined);
    assert.equal(record.submissions.length, 1);

    // The same cv again: both runs are finished, nothing trains, the metrics stay as they were.
    const metricsBefore = await Promise.all(plan.tasks.map((t) => fs.readFile(path.join(out, t.run, 'metrics.jsonl'), 'utf8')));
    const again = await runCli(['cv', '--prepared', prepared, '--out', out, '--folds', '2', ...TRAIN, '--json']);
    assert.equal(again.code, 0, why(again));
    assert.ok(again.events.some((e) => e.type === 'log' && /2 of 2 runs are finished or queued already; 0 to run/.test(e.message)));
    const metricsAfter = await Promise.all(plan.tasks.map((t) => fs.readFile(path.join(out, t.run, 'metrics.jsonl'), 'utf8')));
    assert.deepEqual(metricsAfter, metricsBefore);

    // Another cv into the same folder is refused: two studies never share run folders.
    const other = await runCli(['cv', '--prepared', prepared, '--out', out, '--folds', '2', ...TRAIN, '--lr', '0.01', '--json']);
    assert.equal(other.code, 1);
    assert.match(why(other), /holds another cross-validation/);

    // The fold models as an ensemble: not on their own folds (each trained on the other's), but on held-out data.
    const refused = await runCli(['evaluate', '--ensemble', out, '--engine', 'wasm', '--json']);
    assert.equal(refused.code, 1);
    assert.match(why(refused), /no images none of them trained on.*--data DIR/s);
    const heldOut = path.join(dir, 'held-out');
    const d = await runCli(['demo-data', '--out', path.join(dir, 'demo2'), '--per-class', '3', '--size', '64', '--seed', '2', '--json']);
    assert.equal(d.code, 0, d.stderr);
    const p = await runCli(['prepare', '--data', path.join(dir, 'demo2'), '--out', heldOut, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const ens = await runCli(['evaluate', '--ensemble', out, '--data', heldOut, '--tta', '--engine', 'wasm', '--threads', '1', '--json']);
    assert.equal(ens.code, 0, why(ens));
    const done = ens.events.find((e): e is Extract<BackendEvent, { type: 'evaluate/didFinish' }> => e.type === 'evaluate/didFinish');
    assert.ok(done);
    assert.equal(done.path, path.join(out, 'ensemble-evaluation.json'));
    assert.match(done.evaluation.split, /ensemble of 2 models with TTA/);
    const heldOutVal = (JSON.parse(await fs.readFile(path.join(heldOut, 'manifest.json'), 'utf8')) as PreparedManifest).images.filter((i) => i.split === 'val').length;
    assert.equal(done.evaluation.count, heldOutVal);
    type Ci = { low: number; high: number };
    const written = JSON.parse(await fs.readFile(done.path, 'utf8')) as Evaluation & { members: { run: string; balancedAccuracy: number; balancedAccuracyCi: Ci }[]; intervals: { balancedAccuracy: Ci } };
    assert.deepEqual(written.members.map((m) => path.basename(m.run)), plan.tasks.map((t) => path.basename(t.run)));
    for (const m of written.members) assert.ok(m.balancedAccuracyCi.low <= m.balancedAccuracy && m.balancedAccuracy <= m.balancedAccuracyCi.high, `member ${m.run}'s interval`);
    assert.ok(written.intervals.balancedAccuracy.low <= written.balancedAccuracy && written.balancedAccuracy <= written.intervals.balancedAccuracy.high);
    // Reported like any evaluation: intervals for balanced accuracy, accuracy and every class's recall, ROC,
    // calibration and the chance verdict; the set names the members (the Evaluation panel shows it as an ensemble).
    assert.deepEqual(written.balancedAccuracyCi, written.intervals.balancedAccuracy);
    assert.ok(written.accuracyCi && written.accuracyCi.low <= written.accuracy && written.accuracy <= written.accuracyCi.high);
    for (const c of written.perClass) {
      if (c.support === 0) continue;
      assert.ok(c.recallCi && c.recallCi.low <= c.recall + 1e-12 && c.recall <= c.recallCi.high + 1e-12, `${c.name}: recall ${c.recall} within its interval ${JSON.stringify(c.recallCi)}`);
    }
    assert.equal(written.perClass.filter((c) => c.support > 0 && c.recallCi).length, written.perClass.filter((c) => c.support > 0).length, 'an interval for every class with images');
    assert.ok(written.ranking && written.calibration && written.chance && written.bootstrap?.resamples === 1000);
    assert.equal(written.images?.length, heldOutVal);
    assert.deepEqual({ id: written.set?.id, kind: written.set?.kind, report: written.set?.report, members: written.set?.members?.map((m) => path.basename(m)) },
      { id: 'ensemble', kind: 'validation', report: 'ensemble-evaluation.json', members: plan.tasks.map((t) => path.basename(t.run)) });
    assert.equal(written.set?.usedForSelection, false, 'another prepared folder chose no checkpoint');
    assert.equal(describeEvaluatedSet(written), 'ensemble of 2 — validation split');
  });
});
