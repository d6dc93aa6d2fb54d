/**
 * Times `prepare` end to end and per phase on a HAM10000-sized dataset (10,015 images, HAM10000's class
 * counts, small images), cached under bench/out/. Run: `npx tsx bench/prepare.ts` (after `npm run build`,
 * which the demo-data generator needs). Target: the whole prepare under 30 s on 2 cores.
 *
 * Near-duplicates: the perceptual hash comes out of validation's decode, and the pair search is its own phase
 * (`near-duplicates`). Cold runs with `--near-duplicates group` (default) and `ignore` alternate, so their ratio
 * is measured under the same load; `BENCH_ROUNDS` (default 2) pairs of them. `BENCH_BASELINE=<a checkout of an
 * earlier commit>` (e.g. `git worktree add /tmp/base <commit>` with node_modules linked) alternates cold runs of
 * that commit's prepare with this one's instead: before/after, side by side.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { LESION_CLASSES, LESION_CLASS_INFO } from '../src/shared/classes';
import type { BackendEvent } from '../src/shared/protocol/backend';
import type { PrepareOptions } from '../src/shared/protocol/jobs';
import { createRng } from '../src/shared/random';
import { prepareDataset } from '../src/backend/dataset/prepare';

const ROOT = path.resolve(__dirname, 'out');
const DATA = path.join(ROOT, 'prepare-ham10015');
const OUT = path.join(ROOT, 'prepare-ham10015-prepared');
const TOTAL = 10015;

async function ensureDataset(): Promise<string> {
  const metadata = path.join(DATA, 'HAM10000_metadata.csv');
  if (existsSync(metadata) && (await fs.readFile(metadata, 'utf8')).trim().split('\n').length === TOTAL + 1) return 'cached';
  await fs.rm(DATA, { recursive: true, force: true });
  const cli = path.resolve(__dirname, '../dist/backend/cli.js');
  const r = spawnSync(process.execPath, [cli, 'demo-data', '--out', DATA, '--total', String(TOTAL), '--size', '64'], { stdio: 'inherit' });
  if (r.status === 0) return 'demo-data';
  console.log('demo-data is not available; writing the bench images with sharp');
  await fs.rm(DATA, { recursive: true, force: true });
  const rng = createRng(1);
  const rows = ['lesion_id,image_id,dx,dx_type,age,sex,localization'];
  let image = 0;
  let lesion = 0;
  for (const dx of LESION_CLASSES) {
    for (let left = LESION_CLASS_INFO[dx].ham10000Images; left > 0; ) {
      const size = Math.min(left, rng() < 0.7 ? 1 : 2 + Math.floor(rng() * 3));
      lesion++;
      for (let k = 0; k < size; k++, left--) {
        const id = `ISIC_${String(24306 + image).padStart(7, '0')}`;
        const part = path.join(DATA, `HAM10000_images_part_${image % 2 ? 2 : 1}`);
        await fs.mkdir(part, { recursive: true });
        const c = Math.floor(rng() * 255);
        await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: c, g: 255 - c, b: 128 } } })
          .jpeg()
          .toFile(path.join(part, `${id}.jpg`));
        rows.push(`HAM_${String(lesion).padStart(7, '0')},${id},${dx},histo,50,male,back`);
        image++;
      }
    }
  }
  await fs.writeFile(metadata, rows.join('\n') + '\n');
  return 'sharp';
}

type Prepare = typeof prepareDataset;

async function timePrepare(options: PrepareOptions, prepare: Prepare = prepareDataset): Promise<{ total: number; phases: Record<string, number>; images: number }> {
  let phases: Record<string, number> = {};
  let images = 0;
  const emit = (e: BackendEvent): void => {
    if (e.type === 'log' && e.message.startsWith('prepare timings: ')) {
      phases = Object.fromEntries(
        e.message
          .slice('prepare timings: '.length)
          .split(', ')
          .map((part) => {
            const [name, seconds] = part.split(' ');
            return [name!, Number(seconds)];
          }),
      );
    }
    if (e.type === 'prepare/didFinish') images = e.summary.classes.reduce((n, c) => n + c.all.images, 0);
  };
  const started = performance.now();
  await prepare(options, { emit, signal: new AbortController().signal });
  return { total: (performance.now() - started) / 1000, phases, images };
}

function report(label: string, r: { total: number; phases: Record<string, number>; images: number }): void {
  const phases = Object.entries(r.phases)
    .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
    .join(', ');
  console.log(`${label.padEnd(34)} ${r.total.toFixed(2)} s  (${(r.images / r.total).toFixed(0)} images/s)  ${phases}`);
  if (r.phases.validate) console.log(`${''.padEnd(34)} validate: ${(r.images / r.phases.validate).toFixed(0)} decodes/s`);
}

async function main(): Promise<void> {
  const source = await ensureDataset();
  console.log(`dataset: ${DATA} (${source}); ${os.availableParallelism()} cores, node ${process.version}`);
  const options: PrepareOptions = { data: DATA, out: OUT, split: 'lesion', valFraction: 0.2, seed: 101, link: 'hard' };
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const baseline = process.env.BENCH_BASELINE;
  if (baseline) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- another checkout's module, chosen at run time
    const before = (require(path.resolve(baseline, 'src/backend/dataset/prepare')) as { prepareDataset: Prepare }).prepareDataset;
    const sums = { before: 0, after: 0 };
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
        await fs.rm(OUT, { recursive: true, force: true });
        const r = await timePrepare(options, which === 'before' ? before : prepareDataset);
        sums[which] += r.total;
        report(`cold, ${which === 'before' ? `baseline ${path.basename(baseline)}` : 'this checkout'}`, r);
      }
    }
    console.log(`this checkout / baseline, cold, ${rounds} alternating rounds: ${(sums.after / sums.before).toFixed(3)}`);
    return;
  }
  const totals = { group: 0, ignore: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const mode of round % 2 ? (['ignore', 'group'] as const) : (['group', 'ignore'] as const)) {
      await fs.rm(OUT, { recursive: true, force: true });
      const r = await timePrepare({ ...options, nearDuplicates: mode });
      totals[mode] += r.total;
      report(`cold, near-duplicates ${mode}`, r);
    }
  }
  console.log(`near-duplicates group / ignore, cold, ${rounds} alternating rounds: ${(totals.group / totals.ignore).toFixed(3)}`);
  await fs.rm(OUT, { recursive: true, force: true });
  report('cold (lesion split, hard links)', await timePrepare(options));
  report('re-run, same parameters', await timePrepare(options));
  report('re-run, image split, new seed', await timePrepare({ ...options, split: 'image', seed: 7 }));
  await fs.rm(OUT, { recursive: true, force: true });
  report('cold, copies instead of links', await timePrepare({ ...options, link: 'copy' }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
