import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { RunConfig } from '../../src/shared/runConfig';
import { createRng, randomInt } from '../../src/shared/random';
import type { CliResult } from '../helpers/cli';
import { assertBuilt, runCli, startCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';

// MobileNetV2-0.35 at 32 px from scratch on 42 training images: every source of randomness is in play (initialisers,
// the head's dropout, batch order) and an epoch is 6 batches of 8.
const MODEL = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--seed', '5'];
const VOLATILE = new Set(['seconds', 'finishedAt']);

/** Where a process of the crashed run dies: a crash point of the backend (crashPoints.ts), or a SIGKILL from here at a random moment. */
type Kill = { at: string } | { external: (e: BackendEvent) => boolean; delayMs: number };

describe('backend process: a resumed run equals the uninterrupted one, and knows what it ran on', function () {
  this.timeout(900_000);
  // Random kill points, reproducible: LESION_LAB_TEST_SEED=<the seed printed> replays a failure.
  const seed = Number(process.env.LESION_LAB_TEST_SEED ?? Date.now() % 1_000_000);
  const rng = createRng(seed);
  let dir: string;
  let prepared: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-resume-'));
    ({ prepared } = await preparedDemoDataset(dir, 8));
    console.log(`      kill points drawn with LESION_LAB_TEST_SEED=${seed}`);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const metricsOf = async (run: string): Promise<Record<string, unknown>[]> =>
    (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => Object.fromEntries(Object.entries(JSON.parse(l) as Record<string, unknown>).filter(([k]) => !VOLATILE.has(k))));
  const fileOf = (run: string, rel: string): Promise<Buffer> => fs.readFile(path.join(run, 'checkpoints', ...rel.split('/')));
  const why = (r: CliResult): string => r.events.filter((e) => e.type === 'error').map((e) => JSON.stringify(e)).join('\n') || r.stderr || `exit ${r.code}, signal ${r.signal}`;
  const readConfig = async (run: string): Promise<RunConfig> => JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as RunConfig;

  /**
   * Starts the run, lets each process die as `kills` says, continues each time with `train --run DIR --resume`
   * alone, and finally lets the last process finish. Returns how each process ended.
   */
  async function trainThroughCrashes(run: string, startArgs: string[], kills: Kill[]): Promise<{ killed: number; leftovers: string[]; resumedAfter: number[] }> {
    let killed = 0;
    const leftovers: string[] = [];
    const resumedAfter: number[] = [];
    for (let k = 0; k <= kills.length; k++) {
      const args = k === 0 ? ['train', ...startArgs, '--run', run, '--json'] : ['train', '--run', run, '--resume', '--json'];
      const kill = kills[k];
      const proc = startCli(args, { env: kill && 'at' in kill ? { LESION_LAB_TEST_SIGKILL_AT: kill.at } : {} });
      if (kill && 'external' in kill) {
        void proc.waitForEvent(kill.external).then(async () => {
          await new Promise((r) => setTimeout(r, kill.delayMs));
          proc.child.kill('SIGKILL');
        });
      }
      const r = await proc.done;
      for (const e of r.events) {
        const m = e.type === 'log' ? /resuming after epoch (\d+)|no checkpoint was written/.exec(e.message) : null;
        if (m) resumedAfter.push(Number(m[1] ?? 0));
      }
      if (r.signal === 'SIGKILL') {
        killed++;
        const names = await fs.readdir(path.join(run, 'checkpoints')).catch(() => [] as string[]);
        // Half swapped: the previous checkpoint moved aside (`<name>.old-<pid>`), or, where there was none yet
        // (the run's first `last`), the complete new one not yet renamed in (`.<name>.tmp-<pid>-<n>`).
        leftovers.push(...names.filter((n) => /\.old-\d+$|^\..+\.tmp-\d+-\d+$/.test(n)));
        continue;
      }
      assert.equal(r.code, 0, `process ${k + 1} (${kill ? JSON.stringify(kill) : 'the last'}) failed: ${r.stderr}`);
      if (r.events.some((e) => e.type === 'train/didFinish')) break;
    }
    assert.equal(resumedAfter.length, killed, 'every process after a kill resumed');
    return { killed, leftovers, resumedAfter };
  }

  async function assertSameRun(a: string, b: string): Promise<void> {
    assert.deepEqual(await metricsOf(b), await metricsOf(a), 'per-epoch metrics of the resumed run');
    for (const file of ['last/weights.bin', 'last/optimizer.bin', 'best/weights.bin']) {
      assert.ok((await fileOf(b, file)).equals(await fileOf(a, file)), `${file}: the same bytes`);
    }
    assert.deepEqual(JSON.parse((await fileOf(b, 'last/state.json')).toString()), JSON.parse((await fileOf(a, 'last/state.json')).toString()));
    assert.equal(JSON.parse(await fs.readFile(path.join(b, 'status.json'), 'utf8')).status, 'finished');
  }

  it('wasm: killed mid-epoch, between the best and the last checkpoint, mid-swap and at a random moment, it ends with the same metrics and weights, byte for byte', async () => {
    const args = ['--prepared', prepared, ...MODEL, '--engine', 'wasm', '--phase', 'both', '--epochs', '2', '--finetune-epochs', '3'];
    const whole = path.join(dir, 'wasm-whole');
    const w = await runCli(['train', ...args, '--run', whole, '--json']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await metricsOf(whole)).length, 5);

    const crashed = path.join(dir, 'wasm-crashed');
    const kills: Kill[] = [
      { at: 'between-checkpoints@1' }, // epoch 1 always improves on nothing: best is written, last is not
      { at: `batch@${2 + randomInt(rng, 10)}` }, // mid-epoch: head epoch 2 or fine-tune epoch 1
      { at: `directory-swap@${1 + randomInt(rng, 4)}` }, // a checkpoint directory half swapped in
      { external: (e) => e.type === 'train/didBatch' && e.phase === 'finetune', delayMs: randomInt(rng, 1500) },
      // The last epoch: resumed after two epochs of Adam (12 steps), whose restored state must be exact too.
      { external: (e) => e.type === 'train/didBatch' && e.epoch === 5, delayMs: randomInt(rng, 300) },
    ];
    console.log(`      kills: ${kills.map((k) => ('at' in k ? k.at : `SIGKILL ${k.delayMs} ms after a batch of ${k === kills[3] ? 'fine-tuning' : 'epoch 5'}`)).join(', ')}`);
    const { killed, leftovers, resumedAfter } = await trainThroughCrashes(crashed, args, kills);
    assert.ok(killed >= 3, `at least three of the five kills landed (${killed})`);
    assert.ok(resumedAfter.some((e) => e > 0), `resumed from a checkpoint at least once (after epochs ${resumedAfter.join(', ')})`);
    assert.ok(leftovers.length > 0, 'the directory-swap kill left a half-swapped checkpoint behind, and resume coped');
    await assertSameRun(whole, crashed);
  });

  it('cpu: killed at random batches of the head phase (dropout, RMSprop, early stopping), it ends the same, byte for byte', async () => {
    const args = ['--prepared', prepared, ...MODEL, '--engine', 'cpu', '--phase', 'head', '--epochs', '4'];
    const whole = path.join(dir, 'cpu-whole');
    const w = await runCli(['train', ...args, '--run', whole, '--json']);
    assert.equal(w.code, 0, w.stderr);
    const crashed = path.join(dir, 'cpu-crashed');
    // Each process dies in its second or third epoch, after a checkpoint (epoch 1 is 6 batches).
    const kills: Kill[] = [{ at: `batch@${7 + randomInt(rng, 6)}` }, { at: `batch@${7 + randomInt(rng, 6)}` }];
    console.log(`      kills: ${kills.map((k) => ('at' in k ? k.at : '')).join(', ')}`);
    const { killed, resumedAfter } = await trainThroughCrashes(crashed, args, kills);
    assert.equal(killed, 2);
    assert.ok(resumedAfter.every((e) => e > 0), `each resume started from a checkpoint (after epochs ${resumedAfter.join(', ')})`);
    await assertSameRun(whole, crashed);
  });

  it('--resume needs only --run; an option given again that differs is refused, naming it', async () => {
    const run = path.join(dir, 'wasm-whole');
    const differ = await runCli(['train', '--run', run, '--resume', '--epochs', '7', '--batch', '8', '--lr', '0.01', '--json']);
    assert.equal(differ.code, 1);
    const message = differ.events.find((e) => e.type === 'error');
    assert.ok(message && message.type === 'error');
    assert.match(message.message, /--epochs 7 \(the run has 2\)/);
    assert.match(message.message, /--lr 0\.01 \(the run has 0\.001\)/);
    assert.doesNotMatch(message.message, /--batch/, 'the same value is not a difference');
    const noPrepared = await runCli(['train', '--run', path.join(dir, 'new-run'), '--json']);
    assert.equal(noPrepared.code, 2);
    assert.match(noPrepared.stderr, /--prepared is required \(unless --resume\)/);
  });

  it('config.json records the dataset fingerprint, the source revision and the engine of every epoch; resume refuses a changed prepared folder', async () => {
    // A copy of the prepared folder to change.
    const copy = path.join(dir, 'prepared-copy');
    await fs.cp(prepared, copy, { recursive: true });
    const run = path.join(dir, 'identity');
    const first = await runCli(['train', '--prepared', copy, ...MODEL, '--engine', 'wasm', '--phase', 'head', '--epochs', '3', '--run', run, '--json'], {
      env: { LESION_LAB_TEST_SIGKILL_AT: 'batch@14' },
    });
    assert.equal(first.signal, 'SIGKILL', `killed during epoch 3; it ended with code ${first.code}: ${why(first)}`);
    const resumed = await runCli(['train', '--run', run, '--resume', '--engine', 'cpu', '--json']);
    assert.equal(resumed.code, 0, why(resumed));
    const config = await readConfig(run);
    assert.match(config.dataset.fingerprint?.files ?? '', /^[0-9a-f]{64}$/);
    assert.equal(config.dataset.fingerprint?.images, config.dataset.train + config.dataset.val);
    assert.match(config.revision ?? '', /^[0-9a-f]{40}(-dirty)?$/, 'built from this checkout: the commit is known');
    assert.deepEqual(
      config.sessions?.map((s) => [s.afterEpoch, s.engine, s.precision]),
      [
        [0, 'wasm', 'float32'],
        [2, 'cpu', 'float32'],
      ],
      'both sessions, the first one not overwritten',
    );
    assert.deepEqual(
      config.epochEngines?.map((e) => [e.epoch, e.engine, e.session]),
      [
        [1, 'wasm', 0],
        [2, 'wasm', 0],
        [3, 'cpu', 1],
      ],
    );

    // Touched (new modification times) is not changed: resuming the finished run is fine.
    const later = new Date(Date.now() + 3_600_000);
    for (const f of (await fs.readdir(path.join(copy, 'train'), { recursive: true })).map(String)) {
      if (f.endsWith('.jpg')) await fs.utimes(path.join(copy, 'train', f), later, later);
    }
    const touched = await runCli(['train', '--run', run, '--resume', '--json']);
    assert.equal(touched.code, 0, why(touched));

    // One training image replaced by another of the same class: same names, other bytes.
    const nvDir = path.join(copy, 'train', 'nv');
    const [a, b] = (await fs.readdir(nvDir)).sort();
    await fs.rm(path.join(nvDir, a!));
    await fs.copyFile(path.join(nvDir, b!), path.join(nvDir, a!));
    const changed = await runCli(['train', '--run', run, '--resume', '--json']);
    assert.equal(changed.code, 1, why(changed));
    assert.match(JSON.stringify(changed.events), /prepared dataset in .* changed since this run started: the same images and labels, but some of the image files themselves were replaced/);

    // --prepared on resume may name another folder only if it holds the same dataset.
    const moved = await runCli(['train', '--run', path.join(dir, 'cpu-whole'), '--resume', '--prepared', copy, '--json']);
    assert.equal(moved.code, 1, why(moved));
    assert.match(JSON.stringify(moved.events), /changed since this run started/);
    const sameData = path.join(dir, 'prepared-moved');
    await fs.cp(prepared, sameData, { recursive: true }); // a plain copy: new modification times, the same data
    const same = await runCli(['train', '--run', path.join(dir, 'cpu-whole'), '--resume', '--prepared', sameData, '--json']);
    assert.equal(same.code, 0, why(same));
    assert.equal((await readConfig(path.join(dir, 'cpu-whole'))).options.prepared, sameData);
  });
});
