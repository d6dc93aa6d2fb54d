/**
 * Stress check of "a seeded run repeats exactly at a fixed thread count": the same seeded training, run many times
 * through the real CLI — several at once and beside busy-loop processes, so the scheduler interleaves the wasm
 * engine's threads (XNNPACK's pthreads, the project's kernel workers) and the data pipeline's decodes differently
 * every time — compared step by step with the first run to finish at that thread count:
 *   data order  a hash of each batch's image indices   (LESION_LAB_TEST_BATCH_TRACE, training/batchTrace.ts)
 *   inputs      a hash of each batch's input bytes     (decode, online augmentation, preprocessing)
 *   loss        each step's loss, as batches.jsonl holds it (exact float equality)
 *   weights     the last checkpoint's weights.bin and optimizer.bin, byte for byte
 * A difference in data order or inputs is the pipeline's; the same inputs with another loss is the kernels'.
 * Runs at different thread counts are compared too (the project's kernels and XNNPACK are meant to agree at any
 * count; printed, not counted as a failure). Exit code 1 when any run differs from its reference.
 *
 *   npx tsx bench/determinism.ts [--recipe tiny|demo] [--runs 8] [--threads 1,2] [--busy 2] [--concurrent 2]
 *                                [--epochs E] [--seed 1] [--keep]
 * tiny: 8 images per class at 64 px, MobileNetV2-0.35 @ 32 px, batch 8, 3 epochs (21 steps; seconds a run).
 * demo: scripts/demo.sh's data and training recipe (MobileNetV2-0.35 @ 64 px, batch 16, online augmentation), 6
 * epochs = 108 steps (~40 s a run alone on 2 cores; several minutes under load).
 * Needs `npm run build`. Data and runs under bench/out/determinism/ (runs deleted unless --keep).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BatchTraceLine } from '../src/backend/training/batchTrace';

const CLI = path.resolve(__dirname, '../dist/backend/cli.js');
const OUT = path.resolve(__dirname, 'out/determinism');

interface Options {
  recipe: 'tiny' | 'demo';
  runs: number;
  threads: number[];
  busy: number;
  concurrent: number;
  epochs: number | undefined;
  seed: number;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { recipe: 'tiny', runs: 8, threads: [1, 2], busy: 2, concurrent: 2, epochs: undefined, seed: 1, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--recipe') {
      const r = value();
      if (r !== 'tiny' && r !== 'demo') throw new Error(`--recipe tiny|demo, got ${r}`);
      o.recipe = r;
    } else if (flag === '--runs') o.runs = Number(value());
    else if (flag === '--threads') o.threads = value().split(',').map(Number);
    else if (flag === '--busy') o.busy = Number(value());
    else if (flag === '--concurrent') o.concurrent = Number(value());
    else if (flag === '--epochs') o.epochs = Number(value());
    else if (flag === '--seed') o.seed = Number(value());
    else if (flag === '--keep') o.keep = true;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

interface Exit {
  code: number | null;
  output: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function mustRun(args: string[]): Promise<void> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`lesion-lab ${args.join(' ')} failed (${r.code}):\n${r.output.slice(-2000)}`);
}

/** The prepared dataset of a recipe (made once, reused by later runs of the bench), and its training options. */
async function recipe(o: Options): Promise<{ prepared: string; train: string[] }> {
  const dir = path.join(OUT, o.recipe);
  const prepared = path.join(dir, 'prepared');
  if (o.recipe === 'tiny') {
    if (!existsSync(path.join(prepared, 'manifest.json'))) {
      await mustRun(['demo-data', '--out', path.join(dir, 'data'), '--per-class', '8', '--size', '64', '--seed', '1']);
      await mustRun(['prepare', '--data', path.join(dir, 'data'), '--out', prepared]);
    }
    const train = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--phase', 'finetune', '--batch', '8', '--augment', 'online'];
    return { prepared, train: [...train, '--epochs', String(o.epochs ?? 3)] };
  }
  // scripts/demo.sh, steps 1–4.
  if (!existsSync(path.join(prepared, 'manifest.json'))) {
    await mustRun(['demo-data', '--out', path.join(dir, 'data'), '--per-class', '50', '--size', '600', '--seed', '1']);
    await mustRun(['prepare', '--data', path.join(dir, 'data'), '--out', prepared]);
    await mustRun(['augment', '--prepared', prepared, '--target', '60', '--skip', 'nv']);
  }
  const train = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '64', '--phase', 'finetune', '--batch', '16', '--augment', 'online'];
  return { prepared, train: [...train, '--epochs', String(o.epochs ?? 6)] };
}

interface RunRecord {
  name: string;
  threads: number;
  ok: boolean;
  failure?: string;
  losses: (number | null)[];
  trace: BatchTraceLine[];
  weights: string;
  optimizer: string;
  seconds: number;
}

const sha = async (file: string): Promise<string> => createHash('sha256').update(await fs.readFile(file)).digest('hex');

async function trainOnce(name: string, threads: number, prepared: string, train: string[], o: Options): Promise<RunRecord> {
  const run = path.join(OUT, 'runs', name);
  await fs.rm(run, { recursive: true, force: true });
  await fs.mkdir(path.dirname(run), { recursive: true });
  const traceFile = `${run}.trace.jsonl`;
  await fs.rm(traceFile, { force: true });
  const t0 = Date.now();
  const args = ['train', '--prepared', prepared, '--run', run, ...train, '--engine', 'wasm', '--threads', String(threads), '--seed', String(o.seed)];
  const r = await cli(args, { LESION_LAB_TEST_BATCH_TRACE: traceFile });
  const seconds = (Date.now() - t0) / 1000;
  const empty = { name, threads, losses: [], trace: [], weights: '', optimizer: '', seconds };
  if (r.code !== 0) return { ...empty, ok: false, failure: r.output.slice(-1500) };
  const lines = (file: string) => fs.readFile(file, 'utf8').then((t) => t.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown));
  const batches = (await lines(path.join(run, 'batches.jsonl'))) as { loss: number | null }[];
  const trace = (await lines(traceFile)) as BatchTraceLine[];
  const last = path.join(run, 'checkpoints', 'last');
  const record: RunRecord = { name, threads, ok: true, losses: batches.map((b) => b.loss), trace, weights: await sha(path.join(last, 'weights.bin')), optimizer: await sha(path.join(last, 'optimizer.bin')), seconds };
  if (!o.keep) await Promise.all([run, traceFile].map((f) => fs.rm(f, { recursive: true, force: true })));
  return record;
}

/** Where `b` first differs from `a`, and in what (undefined: identical). */
function firstDifference(a: RunRecord, b: RunRecord): string | undefined {
  const steps = Math.max(a.losses.length, b.losses.length, a.trace.length, b.trace.length);
  for (let i = 0; i < steps; i++) {
    const ta = a.trace[i];
    const tb = b.trace[i];
    if (ta?.order !== tb?.order) return `step ${i + 1}: data order differs (${ta?.order} vs ${tb?.order})`;
    if (ta?.inputs !== tb?.inputs) return `step ${i + 1}: same images, different input bytes (pipeline)`;
    if (!Object.is(a.losses[i], b.losses[i])) return `step ${i + 1}: same inputs, loss ${a.losses[i]} vs ${b.losses[i]} (kernels)`;
  }
  if (a.weights !== b.weights) return 'every loss equal, final weights differ';
  if (a.optimizer !== b.optimizer) return 'every loss and weight equal, optimizer state differs';
  return undefined;
}

/** Runs `jobs` at most `limit` at a time. */
async function pooled<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return results;
}

function startBusyLoops(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const { prepared, train } = await recipe(o);
  console.log(`determinism: ${o.recipe} recipe, ${o.runs} runs per thread count (${o.threads.join(', ')}), ${o.concurrent} at a time, ${o.busy} busy loops, seed ${o.seed}, ${os.availableParallelism()} cores`);
  console.log(`  lesion-lab train ${train.join(' ')} --engine wasm --threads T --seed ${o.seed}`);
  const busy = startBusyLoops(o.busy);
  const load: number[] = [];
  const sampler = setInterval(() => load.push(os.loadavg()[0]!), 5000);
  let diverged = 0;
  const references = new Map<number, RunRecord>();
  try {
    for (const threads of o.threads) {
      let same = 0;
      let failed = 0;
      // The first run to finish is the reference; each run is reported as it ends.
      const report = (r: RunRecord): void => {
        const reference = references.get(threads);
        if (!reference && r.ok) references.set(threads, r);
        const diff = !r.ok ? `failed: ${r.failure}` : reference ? firstDifference(reference, r) : undefined;
        if (!r.ok) failed++;
        else if (diff) diverged++;
        else same++;
        const against = references.get(threads)?.name ?? '-';
        console.log(`  ${r.name}  ${r.seconds.toFixed(0).padStart(4)} s  ${r.losses.length} steps  ${diff ? `DIFFERS from ${against}: ${diff}` : r === references.get(threads) ? 'reference' : `identical to ${against}`}`);
      };
      const jobs = Array.from({ length: o.runs }, (_, i) => () => trainOnce(`t${threads}-r${i + 1}`, threads, prepared, train, o).then((r) => (report(r), r)));
      await pooled(jobs, o.concurrent);
      console.log(`threads ${threads}: ${same}/${o.runs} runs identical (losses at every step, data order, inputs, weights, optimizer state)${failed ? `, ${failed} failed` : ''}`);
      diverged += failed;
    }
    const [first, ...others] = [...references.values()];
    for (const r of others) console.log(`across thread counts: ${r.threads} vs ${first!.threads} threads: ${firstDifference(first!, r) ?? 'identical'}`);
  } finally {
    clearInterval(sampler);
    for (const b of busy) b.kill('SIGKILL');
  }
  if (load.length) console.log(`load average during the runs: ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`);
  if (diverged) {
    console.log(`${diverged} run(s) differ from their reference`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
