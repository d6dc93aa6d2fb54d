/**
 * How fast `augment` writes images, side by side with a naive port of the Keras reference recipe (decode the
 * 600×450 source again for every output, one output in flight — measured here at about Keras
 * ImageDataGenerator's own rate). `augment` is timed as a whole process: `node dist/backend/cli.js augment`
 * from spawn to exit, its outputs written (npm run build first); the naive port in this process, which spares it
 * the start-up. The two alternate for --rounds rounds; the median ratio is printed with the load average.
 *   npx tsx bench/augment.ts [outputsPerClass=1000] [--rounds 3] [--variants]
 * --variants also times in-process configurations (in flight, workers). Data: bench/out/augment/ (git-ignored).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BackendEvent } from '../src/shared/protocol/backend';
import { createRng, gaussian } from '../src/shared/random';
import { augmentDataset, decodeSource } from '../src/backend/augment/augment';
import { encodeJpeg } from '../src/backend/augment/outputWorkers';
import { planClass } from '../src/backend/augment/augmentPlan';
import { applyAffine, applyAffinePacked, packPixels, sampleAffineParams } from '../src/backend/augment/kerasAffine';

const CLASSES = ['bcc', 'df', 'vasc'];
const SOURCES_PER_CLASS = 100;
const SIZE = 224;
const outputsPerClass = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 1000);
const rounds = Number(process.argv.includes('--rounds') ? process.argv[process.argv.indexOf('--rounds') + 1] : 3);
const CLI = path.resolve('dist/backend/cli.js');
const root = path.resolve('bench/out/augment');
const prepared = path.join(root, 'prepared');

/** A lesion-like 600×450 image: a dark irregular blob on skin tones with grain, JPEG quality 95. */
async function writeSource(file: string, seed: number): Promise<void> {
  const w = 600;
  const h = 450;
  const rng = createRng(seed);
  const cx = w * (0.35 + 0.3 * rng());
  const cy = h * (0.35 + 0.3 * rng());
  const r = 80 + 80 * rng();
  const skin = [200 + 30 * rng(), 150 + 30 * rng(), 130 + 30 * rng()];
  const lesion = [90 + 40 * rng(), 50 + 30 * rng(), 40 + 30 * rng()];
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = Math.atan2(y - cy, x - cx);
      const edge = r * (1 + 0.15 * Math.sin(3 * a + seed) + 0.08 * Math.sin(7 * a));
      const t = Math.min(1, Math.max(0, (Math.hypot(x - cx, y - cy) - edge) / 25 + 0.5));
      for (let c = 0; c < 3; c++) {
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(lesion[c]! * (1 - t) + skin[c]! * t + 6 * gaussian(rng))));
      }
    }
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toFile(file);
}

async function makePrepared(): Promise<{ dx: string; imageId: string; file: string }[]> {
  const images: { dx: string; imageId: string; file: string }[] = [];
  for (const [ci, dx] of CLASSES.entries()) {
    await fs.mkdir(path.join(prepared, 'train', dx), { recursive: true });
    for (let i = 0; i < SOURCES_PER_CLASS; i++) {
      const imageId = `ISIC_${String(ci * 1000 + i).padStart(7, '0')}`;
      const file = `train/${dx}/${imageId}.jpg`;
      const abs = path.join(prepared, file);
      const exists = await fs.stat(abs).then(() => true, () => false);
      if (!exists) await writeSource(abs, ci * 1000 + i + 1);
      images.push({ dx, imageId, file });
    }
  }
  const manifest = {
    version: 1,
    summary: {
      sourcePath: root, layout: 'bench', split: 'lesion', valFraction: 0, seed: 1, link: 'copy', excludedCount: 0, excluded: [],
      preparedAt: new Date().toISOString(),
      classes: CLASSES.map((name) => ({ name, all: { images: SOURCES_PER_CLASS, lesions: SOURCES_PER_CLASS }, train: { images: SOURCES_PER_CLASS, lesions: SOURCES_PER_CLASS }, val: { images: 0, lesions: 0 } })),
    },
    images: images.map((i) => ({ ...i, lesionId: `HAM_${i.imageId}`, split: 'train', source: path.join(prepared, i.file) })),
    excluded: [],
    materialisedWith: 'copy',
    notes: [],
  };
  await fs.writeFile(path.join(prepared, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return images;
}

const quiet = { emit: (_e: BackendEvent): void => {}, signal: new AbortController().signal };

interface Rate {
  /** Outputs per wall-clock second. */
  perSecond: number;
  /** Process CPU time (all threads) per output: what an idle machine would spend on each. */
  cpuMs: number;
}

async function measure(count: () => number, work: () => Promise<void>): Promise<Rate> {
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  await work();
  const wall = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: count() / wall, cpuMs: (cpu.user + cpu.system) / 1000 / count() };
}

/** `lesion-lab augment` as a user runs it: a new process, from spawn to exit, every output written. */
async function timeAugmentProcess(): Promise<{ perSecond: number; written: number }> {
  await fs.rm(path.join(prepared, 'aug'), { recursive: true, force: true });
  const t = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'augment', '--prepared', prepared, '--target', String(SOURCES_PER_CLASS + outputsPerClass), '--skip', '', '--seed', '7', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wall = (performance.now() - t) / 1000;
  if (code !== 0) throw new Error(`augment exited with ${code}:\n${stderr.slice(-2000)}`);
  const done = stdout.split('\n').filter((l) => l.includes('"augment/didFinish"')).map((l) => JSON.parse(l) as { written: number })[0];
  if (!done) throw new Error(`augment printed no augment/didFinish event:\n${stdout.slice(-2000)}`);
  return { perSecond: done.written / wall, written: done.written };
}

async function timeAugment(concurrency: number, workers: number): Promise<Rate> {
  await fs.rm(path.join(prepared, 'aug'), { recursive: true, force: true });
  let written = 0;
  return measure(
    () => written,
    () =>
      augmentDataset(
        { prepared, target: SOURCES_PER_CLASS + outputsPerClass, skip: [], size: SIZE, seed: 7, concurrency, workers },
        { ...quiet, emit: (e) => { if (e.type === 'augment/didFinish') written = e.written; } },
      ),
  );
}

/** The reference workflow's per-output cost: full 600×450 decode, nearest resize, transform, encode. */
async function timeNaive(concurrency: number, images: { dx: string; imageId: string; file: string }[]): Promise<Rate> {
  const out = path.join(root, 'naive');
  await fs.rm(out, { recursive: true, force: true });
  const jobs = CLASSES.flatMap((dx) => {
    const sources = images.filter((i) => i.dx === dx).map((i) => ({ imageId: i.imageId, path: path.join(prepared, i.file) }));
    return planClass(dx, sources, SOURCES_PER_CLASS + outputsPerClass, 7, false).outputs.map((o) => ({ dx, o }));
  });
  for (const dx of CLASSES) await fs.mkdir(path.join(out, dx), { recursive: true });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const { dx, o } = jobs[next++]!;
      const full = await sharp(o.source.path).raw().toBuffer({ resolveWithObject: true });
      const small = await sharp(full.data, { raw: { width: full.info.width, height: full.info.height, channels: 3 } })
        .resize(SIZE, SIZE, { fit: 'fill', kernel: 'nearest' })
        .raw()
        .toBuffer();
      const pixels = applyAffine(small, SIZE, SIZE, sampleAffineParams(createRng(o.seed)));
      await fs.writeFile(path.join(out, dx, o.name), await encodeJpeg(pixels, SIZE, SIZE, 3, 75));
    }
  };
  return measure(
    () => jobs.length,
    async () => {
      await Promise.all(Array.from({ length: concurrency }, lane));
    },
  );
}

/** CPU time of each stage, one image at a time (CPU time, so other processes on the machine distort it less). */
async function stageTimings(file: string): Promise<void> {
  const cpuMs = async (n: number, f: () => Promise<unknown> | unknown): Promise<number> => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await f();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / n;
  };
  const fullDecode = await cpuMs(200, () => sharp(file).raw().toBuffer());
  const shrinkDecode = await cpuMs(200, () => decodeSource(file, SIZE));
  const src = (await decodeSource(file, SIZE)).data;
  const packed = packPixels(src, SIZE, SIZE, 3);
  const rng = createRng(1);
  const affine = await cpuMs(1000, () => applyAffinePacked(packed, SIZE, SIZE, 3, sampleAffineParams(rng)));
  const encode = await cpuMs(1000, () => encodeJpeg(src, SIZE, SIZE, 3, 75));
  console.log(
    `CPU per image, one at a time: full 600×450 decode ${fullDecode.toFixed(2)} ms · decode + resize to ${SIZE} ${shrinkDecode.toFixed(2)} ms · ` +
      `affine (JS) ${affine.toFixed(2)} ms · JPEG q75 encode ${encode.toFixed(2)} ms`,
  );
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const cores = os.availableParallelism();
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`augment benchmark: ${CLASSES.length} classes × ${SOURCES_PER_CLASS} sources (600×450 JPEG) → ${CLASSES.length * outputsPerClass} outputs ${SIZE}×${SIZE} JPEG q75; ${cores} cores; load average ${load()}`);
  const images = await makePrepared();
  await stageTimings(path.join(prepared, images[0]!.file));
  const naive: Rate[] = [];
  const whole: { perSecond: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const sides: [string, () => Promise<void>][] = [
      ['naive port, 1 in flight', async () => void naive.push(await timeNaive(1, images))],
      ['augment, whole process', async () => void whole.push(await timeAugmentProcess())],
    ];
    if (round % 2 === 0) sides.reverse();
    for (const [label, run] of sides) {
      const l = os.loadavg()[0]!.toFixed(1);
      await run();
      const r = (label.startsWith('naive') ? naive : whole).at(-1)!;
      console.log(`  round ${round}: ${label.padEnd(26)} ${r.perSecond.toFixed(0).padStart(5)} images/s  (load ${l})`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = whole.map((w, i) => w.perSecond / naive[i]!.perSecond);
  console.log(
    `\naugment (whole process) ${median(whole.map((r) => r.perSecond)).toFixed(0)} images/s vs the naive port ${median(naive.map((r) => r.perSecond)).toFixed(0)} images/s: ` +
      `${median(ratios).toFixed(1)}× (per round ${ratios.map((r) => r.toFixed(1)).join(', ')}; target ≥ 10×); load average now ${load()}`,
  );
  if (!process.argv.includes('--variants')) return;
  const n = 2 * cores;
  const rows: [string, Rate][] = [];
  const run = async (label: string, f: () => Promise<Rate>): Promise<void> => {
    const rate = await f();
    rows.push([label, rate]);
    console.log(
      `${label.padEnd(52)} ${rate.perSecond.toFixed(0).padStart(6)} images/s  ${rate.cpuMs.toFixed(2)} CPU-ms/image` +
        `  (≈ ${((1000 * cores) / rate.cpuMs).toFixed(0)}/s if all ${cores} cores were free)`,
    );
  };
  await run(`naive (decode 600×450 per output), ${n} in flight`, () => timeNaive(n, images));
  await run('augment in this process, 1 in flight, on the main thread', () => timeAugment(1, 0));
  await run(`augment in this process, ${2 * n} in flight, 1 worker`, () => timeAugment(2 * n, 1));
  await run(`augment in this process, ${4 * cores} in flight, ${cores} workers`, () => timeAugment(4 * cores, cores));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
