/**
 * How fast `augment` writes images, side by side with a naive port of the Keras reference (decode the
 * 600×450 source again for every output). Run: `npx tsx bench/augment.ts [outputsPerClass]`.
 * Writes its data under bench/out/augment/ (git-ignored) and prints images/s and ratios.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BackendEvent } from '../src/shared/protocol/backend';
import { createRng, gaussian } from '../src/shared/random';
import { augmentDataset, decodeSource, encodeJpeg } from '../src/backend/augment/augment';
import { planClass } from '../src/backend/augment/augmentPlan';
import { applyAffine, applyAffinePacked, packPixels, sampleAffineParams } from '../src/backend/augment/kerasAffine';

const CLASSES = ['bcc', 'df', 'vasc'];
const SOURCES_PER_CLASS = 100;
const SIZE = 224;
const outputsPerClass = Number(process.argv[2] ?? 1000);
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
      await fs.writeFile(path.join(out, dx, o.name), await encodeJpeg(pixels, SIZE, 75));
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
  const encode = await cpuMs(1000, () => encodeJpeg(src, SIZE, 75));
  console.log(
    `CPU per image, one at a time: full 600×450 decode ${fullDecode.toFixed(2)} ms · decode + resize to ${SIZE} ${shrinkDecode.toFixed(2)} ms · ` +
      `affine (JS) ${affine.toFixed(2)} ms · JPEG q75 encode ${encode.toFixed(2)} ms`,
  );
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes share these cores)`);
  console.log(`augment benchmark: ${CLASSES.length} classes × ${SOURCES_PER_CLASS} sources (600×450 JPEG) → ${CLASSES.length * outputsPerClass} outputs ${SIZE}×${SIZE}; ${cores} cores, sharp threads ${sharp.concurrency()}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 'default (4)'}`);
  const images = await makePrepared();
  await stageTimings(path.join(prepared, images[0]!.file));
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
  await run('naive (decode 600×450 per output), 1 in flight', () => timeNaive(1, images));
  await run(`naive (decode 600×450 per output), ${n} in flight`, () => timeNaive(n, images));
  await run('augment, 1 in flight, affine on main thread', () => timeAugment(1, 0));
  await run(`augment, ${n} in flight, affine on main thread`, () => timeAugment(n, 0));
  await run(`augment, ${n} in flight, 1 affine worker`, () => timeAugment(n, 1));
  await run(`augment, ${n} in flight, 2 affine workers`, () => timeAugment(n, 2));
  await run(`augment, ${2 * n} in flight, 1 affine worker`, () => timeAugment(2 * n, 1));
  const naive = rows[1]![1];
  const best = rows.slice(2).reduce((a, r) => (r[1].perSecond > a[1].perSecond ? r : a));
  console.log(
    `best (${best[0]}) vs naive with ${n} in flight: ${(best[1].perSecond / naive.perSecond).toFixed(1)}× images/s, ` +
      `${(naive.cpuMs / best[1].cpuMs).toFixed(1)}× less CPU per image; load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
