import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listRunRows, listRuns, readRunRow } from '../../../src/extension/runFolders';
import { formatLearningRate, isCleanupCandidate, runsTableRow } from '../../../src/shared/runsTable';

// Run folders the real CLI wrote (test/fixtures/runs/regenerate.sh): finished and evaluated, killed and
// resumed, failed on a damaged image, cancelled. Checkpoints left out; meta.json written as the extension does.
const FIXTURES = path.resolve(__dirname, '../../fixtures/runs');
const fixture = (name: string): string => path.join(FIXTURES, name);
const lines = async (run: string, file: string): Promise<Record<string, unknown>[]> =>
  (await fs.readFile(path.join(fixture(run), file), 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('runs table rows from real run folders', () => {
  it('a finished, evaluated run: its setup, the best checkpoint’s figures from evaluation.json, and its meta', async () => {
    const row = await readRunRow(fixture('finished'));
    const evaluation = JSON.parse(await fs.readFile(path.join(fixture('finished'), 'evaluation.json'), 'utf8')) as { balancedAccuracy: number; accuracy: number };
    const metrics = await lines('finished', 'metrics.jsonl');
    assert.equal(row.status, 'finished');
    assert.equal(row.folder, 'finished');
    assert.equal(row.name, 'baseline α0.35');
    assert.equal(row.note, 'first try, from scratch');
    assert.deepEqual(row.tags, ['baseline', 'demo']);
    assert.equal(row.archived, false);
    assert.deepEqual(row.setup, {
      model: 'mobilenetv2', width: 0.35, weights: 'none', size: 32, batch: 8, phase: 'both',
      optimizer: 'rmsprop → adam', learningRate: '1e-3', augment: 'none', engine: 'wasm', precision: 'float32', seed: 1, classWeights: false,
    });
    assert.equal(row.epochs, 2);
    // The best checkpoint is the one events.jsonl says was written last (epoch 1 here, as status.json says).
    assert.equal(row.bestEpoch, 1);
    assert.equal(row.resultsFrom, 'evaluation');
    assert.equal(row.balancedAccuracy, evaluation.balancedAccuracy);
    assert.equal(row.accuracy, evaluation.accuracy);
    assert.equal(row.loss, metrics[0]!.valLoss);
    assert.ok(Math.abs(row.seconds - metrics.reduce((s, m) => s + (m.seconds as number), 0)) < 1e-9);
    assert.equal(row.sessions, 1);
    assert.ok(row.hasEvaluation && row.hasModelCard);
    assert.equal(isCleanupCandidate(row), false);
  });

  it('a resumed run: two sessions, each epoch once, training’s own figures at the best epoch', async () => {
    const row = await readRunRow(fixture('resumed'));
    const metrics = await lines('resumed', 'metrics.jsonl');
    assert.equal(row.status, 'finished');
    assert.equal(row.sessions, 2);
    assert.equal(row.epochs, 3);
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2, 3]);
    assert.equal(row.setup?.learningRate, '2e-3', 'the --finetune-lr it was started with, kept across the resume');
    assert.equal(row.setup?.optimizer, 'adam', 'one phase, one optimizer');
    const best = metrics.find((m) => m.epoch === row.bestEpoch)!;
    assert.equal(row.resultsFrom, 'training');
    assert.equal(row.balancedAccuracy, best.valBalancedAccuracy);
    assert.equal(row.accuracy, best.valAccuracy);
    assert.equal(row.loss, best.valLoss);
    assert.equal(row.hasEvaluation, false);
  });

  it('a failed run: its error, no epochs, no figures, and offered for clean-up', async () => {
    const row = await readRunRow(fixture('failed'));
    assert.equal(row.status, 'failed');
    assert.match(row.error ?? '', /Could not read the image .*ISIC_\d+\.jpg/);
    assert.equal(row.epochs, 0);
    assert.equal(row.bestEpoch, undefined);
    assert.equal(row.balancedAccuracy, undefined);
    assert.equal(row.resultsFrom, undefined);
    assert.equal(row.seconds, 0);
    assert.equal(row.setup?.model, 'mobilenetv2');
    assert.equal(isCleanupCandidate(row), true);
  });

  it('a cancelled, archived run: hidden from the side bar’s list, still a row of the table', async () => {
    const row = await readRunRow(fixture('cancelled'));
    assert.equal(row.status, 'cancelled');
    assert.equal(row.archived, true);
    assert.equal(row.epochs, 1);
    assert.equal(row.setup?.optimizer, 'sgd');
    assert.equal(isCleanupCandidate(row), false, 'it has a finished epoch to keep');
    const rows = await listRunRows(FIXTURES);
    assert.deepEqual(rows.map((r) => r.folder), ['cancelled', 'failed', 'finished', 'resumed'], 'every folder with a config.json, none else');
    assert.deepEqual((await listRuns(FIXTURES)).map((r) => r.name), ['failed', 'baseline α0.35', 'resumed']);
    assert.deepEqual((await listRuns(FIXTURES, { archived: true })).map((r) => r.name), ['cancelled', 'failed', 'baseline α0.35', 'resumed']);
  });

  it('a run interrupted mid-way (status running, its process gone) reads as interrupted', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-runs-'));
    try {
      await fs.cp(fixture('cancelled'), dir, { recursive: true });
      // A pid above Linux's largest (2^22) belongs to no process.
      await fs.writeFile(path.join(dir, 'status.json'), JSON.stringify({ status: 'running', pid: 5_000_000 }));
      assert.equal((await readRunRow(dir)).status, 'interrupted');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('ignores an evaluation of another checkpoint, and takes the interval where the evaluation has one', () => {
    const base = { path: '/r/x', metrics: [{ phase: 'head' as const, epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1.2, valAccuracy: 0.6, valBalancedAccuracy: 0.55, lr: 1e-3, seconds: 2, finishedAt: '' }], status: 'finished', bestCheckpointEpochs: [1], hasModelCard: false };
    const evaluation = { split: 'validation (lesion-level split)', classes: [], confusion: [], perClass: [], accuracy: 0.61, balancedAccuracy: 0.56, count: 10, topLosses: [] };
    const withCi = runsTableRow({ ...base, evaluation: { ...evaluation, balancedAccuracyCi: { low: 0.4, high: 0.7 } } as typeof evaluation });
    assert.deepEqual([withCi.balancedAccuracy, withCi.balancedAccuracyCi], [0.56, { low: 0.4, high: 0.7 }]);
    const stale = runsTableRow({ ...base, evaluation: { ...evaluation, checkpointEpoch: 3 } as typeof evaluation });
    assert.deepEqual([stale.resultsFrom, stale.balancedAccuracy], ['training', 0.55]);
    const test = runsTableRow({ ...base, evaluation: { ...evaluation, split: 'test' } });
    assert.equal(test.resultsFrom, 'training', 'a test-set report is not the validation figure');
  });

  it('writes learning rates as powers of ten', () => {
    assert.deepEqual([1e-3, 0.0001, 2e-3, 0.00025, 1].map(formatLearningRate), ['1e-3', '1e-4', '2e-3', '2.5e-4', '1e0']);
  });
});
