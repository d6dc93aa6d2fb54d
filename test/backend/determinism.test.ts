import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BatchTraceLine } from '../../src/backend/training/batchTrace';
import { assertBuilt, startCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';

// From scratch, the whole network, online augmentation (decode, a random affine per image, class-balanced order):
// every source of randomness and every threaded wasm kernel a real run has, on a tiny model.
const TRAIN = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '48', '--batch', '8', '--phase', 'finetune', '--epochs', '3', '--augment', 'online', '--engine', 'wasm', '--threads', '2', '--seed', '3', '--json'];

interface Trained {
  losses: (number | null)[];
  trace: BatchTraceLine[];
  weights: Buffer;
  optimizer: Buffer;
}

const jsonLines = async <T>(file: string): Promise<T[]> =>
  (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

describe('backend process: a seeded run repeats exactly under load', function () {
  this.timeout(600_000);
  let dir: string;
  let prepared: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-determinism-'));
    ({ prepared } = await preparedDemoDataset(dir, 6));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const train = (name: string): { done: Promise<Trained> } => {
    const run = path.join(dir, name);
    const traceFile = path.join(dir, `${name}.trace.jsonl`);
    const cli = startCli(['train', '--prepared', prepared, '--run', run, ...TRAIN], { env: { LESION_LAB_TEST_BATCH_TRACE: traceFile } });
    const done = cli.done.then(async (r) => {
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const last = path.join(run, 'checkpoints', 'last');
      return {
        losses: (await jsonLines<{ loss: number | null }>(path.join(run, 'batches.jsonl'))).map((b) => b.loss),
        trace: await jsonLines<BatchTraceLine>(traceFile),
        weights: await fs.readFile(path.join(last, 'weights.bin')),
        optimizer: await fs.readFile(path.join(last, 'optimizer.bin')),
      };
    });
    return { done };
  };

  it('two 2-thread trainings at once beside busy loops match a run alone: data order, inputs, every loss, weights and optimizer state', async () => {
    const alone = await train('alone').done;
    // More runnable threads than cores (2 trainings × (main + XNNPACK's pthread + the kernel worker) + 2 busy
    // loops on a 2-core machine): the scheduler preempts the engine's threads mid-kernel, as a loaded machine does.
    const busy: ChildProcess[] = Array.from({ length: 2 }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    let loaded: Trained[];
    try {
      loaded = await Promise.all([train('loaded-a').done, train('loaded-b').done]);
    } finally {
      for (const b of busy) b.kill('SIGKILL');
    }
    assert.equal(alone.losses.length, 3 * Math.ceil(alone.trace.length / 3), 'three epochs of batches');
    assert.equal(alone.trace.length, alone.losses.length, 'a trace line per training batch');
    assert.ok(alone.losses.every((l) => l !== null && Number.isFinite(l)), 'every loss finite');
    for (const [name, run] of [['loaded-a', loaded[0]!], ['loaded-b', loaded[1]!]] as const) {
      assert.deepEqual(run.trace.map((t) => t.order), alone.trace.map((t) => t.order), `${name}: the same images in the same order`);
      assert.deepEqual(run.trace.map((t) => t.inputs), alone.trace.map((t) => t.inputs), `${name}: the same input bytes (decode, augmentation, preprocessing)`);
      const first = run.losses.findIndex((l, i) => !Object.is(l, alone.losses[i]));
      assert.equal(first, -1, `${name}: step ${first + 1} has loss ${run.losses[first]} where the run alone had ${alone.losses[first]}`);
      assert.ok(run.weights.equals(alone.weights), `${name}: the same final weights, byte for byte`);
      assert.ok(run.optimizer.equals(alone.optimizer), `${name}: the same optimizer state, byte for byte`);
    }
  });
});
