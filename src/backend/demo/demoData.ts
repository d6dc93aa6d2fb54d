/**
 * `demo-data`: writes a synthetic dataset in the Kaggle HAM10000 layout, so every later step
 * (prepare, augment, train) can be tried without the 3 GB download.
 *
 *   OUT/HAM10000_metadata.csv          lesion_id,image_id,dx,dx_type,age,sex,localization
 *   OUT/HAM10000_images_part_1/ISIC_…  the lower image ids, as on Kaggle
 *   OUT/HAM10000_images_part_2/ISIC_…
 *   OUT/.lesion-lab-demo.json          marks the folder as ours (re-runs may overwrite it)
 *
 * Painting is JavaScript on this thread; JPEG encoding and file writes run on libuv's pool, so
 * several images are kept in flight and both run at once.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { DemoDataOptions } from '../../shared/protocol/jobs';
import { createRng } from '../../shared/random';
import { throwIfCancelled, UserError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { designLesion, designView, paintLesionImage } from './demoPainter';
import type { DemoImage, DemoPlan } from './demoPlan';
import { demoClassCounts, metadataCsv, planDemoDataset } from './demoPlan';

export const DEMO_MARKER = '.lesion-lab-demo.json';
export const DEMO_METADATA = 'HAM10000_metadata.csv';
export const DEMO_PARTS = ['HAM10000_images_part_1', 'HAM10000_images_part_2'] as const;
const JPEG_QUALITY = 90;
const IMAGE_NAME = /^ISIC_\d{7}\.jpg$/;
/** Our temporary files: `.NAME.tmp-PID[-N]` (ours and fsAtomic's), left behind only by a killed run. */
const TEMP_NAME = /^\..+\.tmp-\d+(-\d+)?$/;

const partFolder = (image: DemoImage): string => DEMO_PARTS[image.part === 1 ? 0 : 1];

interface DemoMarker {
  tool: 'lesion-lab demo-data';
  complete: boolean;
  options: { perClass?: number; total?: number; size: number; seed: number };
  counts?: Record<string, number>;
}

export async function writeDemoData(options: DemoDataOptions, ctx: JobContext): Promise<void> {
  const counts = demoClassCounts(options);
  if (!Number.isInteger(options.size) || options.size < 32) throw new UserError(`--size must be a whole number of pixels, at least 32 (got ${options.size}).`);
  const width = options.size;
  const height = Math.round((width * 3) / 4);
  const plan = planDemoDataset(counts, options.seed);
  const out = path.resolve(options.out);

  await claimDemoFolder(out);
  const marker: DemoMarker = {
    tool: 'lesion-lab demo-data',
    complete: false,
    options: { perClass: options.perClass, total: options.total, size: width, seed: options.seed },
  };
  await writeJsonAtomic(path.join(out, DEMO_MARKER), marker);
  for (const part of DEMO_PARTS) await fs.mkdir(path.join(out, part), { recursive: true });
  // Metadata from an earlier run would describe other images while these are rewritten.
  await fs.rm(path.join(out, DEMO_METADATA), { force: true });

  const progress = new ProgressReporter(ctx.emit, 'demo-data', plan.images.length, 'image');
  progress.update(0, true);
  await writeImages(out, plan, width, height, ctx.signal, (done) => progress.update(done));
  await removeStaleImages(out, plan);
  await writeFileAtomic(path.join(out, DEMO_METADATA), metadataCsv(plan));
  await writeJsonAtomic(path.join(out, DEMO_MARKER), { ...marker, complete: true, counts });

  ctx.emit({ type: 'demoData/didFinish', out, images: plan.images.length, lesions: plan.lesions.length, perClass: { ...counts } });
}

/** Paints, encodes and writes every image, a few in flight; on cancel, lets those finish and stops. */
async function writeImages(
  out: string,
  plan: DemoPlan,
  width: number,
  height: number,
  signal: AbortSignal,
  onDone: (done: number) => void,
): Promise<void> {
  // Painting takes one core; two encodes per core keep the pool busy meanwhile.
  const maxInFlight = Math.max(2, os.availableParallelism() * 2);
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  let failure: unknown;
  const lesionLooks = new Map<string, ReturnType<typeof designLesion>>();
  try {
    for (let i = 0; i < plan.images.length; i++) {
      throwIfCancelled(signal);
      if (failure !== undefined) throw failure;
      const image = plan.images[i]!;
      const lesionId = image.lesion.lesionId;
      let look = lesionLooks.get(lesionId);
      if (!look) {
        look = designLesion(image.lesion.dx, createRng(image.lesion.seed));
        // A lesion's images are consecutive in the plan: only the current lesion needs keeping.
        lesionLooks.clear();
        lesionLooks.set(lesionId, look);
      }
      const pixels = paintLesionImage(look, designView(createRng(image.seed)), width, height);
      const job = encodeAndWrite(out, image, pixels, width, height).then(
        () => {
          inFlight.delete(job);
          onDone(++done);
        },
        (err: unknown) => {
          inFlight.delete(job);
          failure ??= err;
        },
      );
      inFlight.add(job);
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
  } finally {
    // Never leave an encode writing behind our back (a cancel must not race a later rename).
    await Promise.all(inFlight);
  }
  if (failure !== undefined) throw failure;
  throwIfCancelled(signal);
}

async function encodeAndWrite(out: string, image: DemoImage, pixels: Uint8ClampedArray, width: number, height: number): Promise<void> {
  const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: JPEG_QUALITY }).toBuffer();
  // A cancel or crash leaves the old file or the new one, never half a JPEG. No fsync: these files
  // are cheap to regenerate, and there are ten thousand of them.
  await writeFileAtomic(path.join(out, partFolder(image), `${image.imageId}.jpg`), jpeg, { sync: false });
}

/**
 * Makes sure `out` is empty, new, or an earlier demo-data folder holding only what demo-data
 * writes; removes temporary files a killed run may have left. Anything else is the user's.
 */
async function claimDemoFolder(out: string): Promise<void> {
  let entries: string[];
  try {
    const stat = await fs.stat(out);
    if (!stat.isDirectory()) throw new UserError(`--out ${out} is a file, not a folder. Choose a new or empty folder for the demo dataset.`);
    entries = await fs.readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      await fs.mkdir(out, { recursive: true });
      return;
    }
    throw err;
  }
  if (entries.length === 0) return;
  if (!entries.includes(DEMO_MARKER) || !(await isDemoMarker(path.join(out, DEMO_MARKER)))) {
    const example = entries.includes(DEMO_METADATA) ? `${DEMO_METADATA} (a real dataset?)` : entries.sort()[0]!;
    throw new UserError(
      `--out ${out} already contains files (e.g. ${example}) that demo-data did not write. ` +
        'demo-data never overwrites other files: choose a new or empty folder.',
    );
  }
  const foreign: string[] = [];
  const temps: string[] = [];
  for (const name of entries) {
    const full = path.join(out, name);
    if (name === DEMO_MARKER || name === DEMO_METADATA) continue;
    if (TEMP_NAME.test(name)) {
      temps.push(full);
      continue;
    }
    if ((DEMO_PARTS as readonly string[]).includes(name) && (await fs.stat(full)).isDirectory()) {
      for (const inner of await fs.readdir(full, { withFileTypes: true })) {
        if (inner.isFile() && IMAGE_NAME.test(inner.name)) continue;
        if (inner.isFile() && TEMP_NAME.test(inner.name)) temps.push(path.join(full, inner.name));
        else foreign.push(path.join(name, inner.name));
      }
      continue;
    }
    foreign.push(name);
  }
  if (foreign.length > 0) {
    throw new UserError(
      `--out ${out} holds an earlier demo dataset, but also ${foreign.length} file(s) demo-data did not write ` +
        `(e.g. ${foreign.slice(0, 3).join(', ')}). Move them away or choose another folder; demo-data never deletes files it did not write.`,
    );
  }
  for (const temp of temps) await fs.rm(temp, { force: true });
}

async function isDemoMarker(file: string): Promise<boolean> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<DemoMarker>;
    return parsed.tool === 'lesion-lab demo-data';
  } catch {
    return false;
  }
}

/** After a re-run with other counts: drop our images that the new metadata does not list. */
async function removeStaleImages(out: string, plan: DemoPlan): Promise<void> {
  const wanted = new Set(plan.images.map((im) => path.join(partFolder(im), `${im.imageId}.jpg`)));
  for (const part of DEMO_PARTS) {
    for (const name of await fs.readdir(path.join(out, part))) {
      if (IMAGE_NAME.test(name) && !wanted.has(path.join(part, name))) await fs.rm(path.join(out, part, name), { force: true });
    }
  }
}
