/**
 * `lesion-lab augment`: writes Keras-style augmented variants of the train images into
 * `<prepared>/aug/<class folder>/<imageId>_aug<k>.jpg` until each class (but the skipped ones) has
 * `target` images, train + augmented. Val is never touched. The classes are the prepared dataset's.
 *
 * As the Keras generator does, each source is resized to size×size first and transformed at that
 * size, then saved as JPEG quality 75 (baseline, 4:2:0, as PIL writes it). The resize is sharp's
 * anti-aliased Lanczos, not Keras' nearest-neighbour (which aliases a 2.7× reduction); Keras'
 * contrast stretch is available (`contrastStretch`) but off. Unlike a straightforward port, a source is decoded and resized
 * once (JPEG shrink-on-load) for all of its variants: per output only the affine loop and the encode
 * remain. Each output is written under its final name by a rename, so a run that is cancelled or
 * killed leaves only complete files, and the next run writes exactly the ones still missing.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { FillMode } from '../../shared/protocol/augmentation';
import type { AugmentOptions } from '../../shared/protocol/jobs';
import { createRng } from '../../shared/random';
import { UserError, throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { DecodedImage, OutputRunner, PackedSource } from './outputWorkers';
import { createOutputRunner } from './outputWorkers';
import type { AugmentSource, ClassPlan, PlannedOutput } from './augmentPlan';
import { planClass } from './augmentPlan';
import type { AffineRanges, FillOptions } from './kerasAffine';
import { KERAS_REFERENCE_RANGES, sampleAffineParams } from './kerasAffine';
import type { PreparedManifest } from '../dataset/manifest';
import { manifestClasses, readManifest, recordAugmentation } from '../dataset/manifest';
import { withFolderLock } from '../folderLock';
import { writeJsonAtomic } from '../fsAtomic';

/** The CLI's options plus the knobs that only code (tests, benchmarks, the extension) sets. */
export interface AugmentRunOptions extends AugmentOptions {
  /** JPEG quality of the outputs; 75 as Keras' `save_img`. */
  quality?: number;
  fill?: FillMode | FillOptions;
  ranges?: AffineRanges;
  /** Keras' `array_to_img(scale=True)` brightness stretch, for exact reproduction only. */
  contrastStretch?: boolean;
  /** Worker threads that transform, encode and write the outputs (0: the main thread). Default: see defaultOutputWorkers. */
  workers?: number;
}

export const AUG_DIR = 'aug';
const PARAMS_FILE = 'params.json';

/**
 * One worker per core makes every output (transform, encode, write: ~1.3 ms of CPU each); the main thread only
 * decodes each source once (~3 ms, shared by its variants) and hands out jobs.
 */
export function defaultOutputWorkers(): number {
  return Math.max(1, Math.min(16, os.availableParallelism()));
}

export async function augmentDataset(options: AugmentRunOptions, ctx: JobContext): Promise<void> {
  const prepared = path.resolve(options.prepared);
  await readManifest(prepared); // a clear error for a folder that is not a prepared dataset, before locking it
  // One prepare or augment at a time in a folder: a second one refuses, naming the first.
  await withFolderLock(prepared, `augment --prepared ${prepared}`, 'The prepared folder', ctx, () => augmentLocked(prepared, options, ctx));
}

async function augmentLocked(prepared: string, options: AugmentRunOptions, ctx: JobContext): Promise<void> {
  // Read again under the lock: a prepare that just finished may have replaced it.
  const manifest = await readManifest(prepared);
  const classes = manifestClasses(manifest);
  const settings = checkOptions(options, classes.map((c) => c.name));
  const plans = planClasses(manifest, prepared, settings);
  const augRoot = path.join(prepared, AUG_DIR);
  const folderOf = new Map(classes.map((c) => [c.name, c.folder]));
  const classDir = (dx: string): string => path.join(augRoot, folderOf.get(dx) ?? dx);
  throwIfCancelled(ctx.signal);

  // Files written with other generation parameters are not the ones this run would write: start over.
  const params = { version: 1, seed: settings.seed, size: settings.size, quality: settings.quality, fill: settings.fill, ranges: settings.ranges, contrastStretch: settings.contrastStretch };
  const previous = await readJson(path.join(augRoot, PARAMS_FILE));
  if (JSON.stringify(previous) !== JSON.stringify(params)) {
    const cleared = await clearClassDirs(plans.map((p) => classDir(p.dx)));
    if (cleared > 0) {
      ctx.emit({ type: 'log', level: 'info', message: `Removed ${cleared} augmented images made with different settings (seed, size, quality or transform).` });
    }
    await writeJsonAtomic(path.join(augRoot, PARAMS_FILE), params);
  }

  const jobs: { dir: string; output: PlannedOutput }[] = [];
  for (const plan of plans) {
    const { existing, removed } = await reconcileClassDir(classDir(plan.dx), plan);
    const missing = plan.outputs.filter((o) => !existing.has(o.name));
    for (const output of missing) jobs.push({ dir: classDir(plan.dx), output });
    const have = plan.before + existing.size;
    const parts = [`${plan.dx}: ${plan.before} train images`];
    if (plan.skipped) parts.push('skipped');
    else if (plan.before === 0) parts.push('nothing to augment from');
    else parts.push(`target ${settings.target}`, `${existing.size} augmented already there`, `${missing.length} to write`);
    if (removed > 0) parts.push(`${removed} surplus or incomplete removed`);
    ctx.emit({ type: 'log', level: 'info', message: `${parts.join(', ')} (${have} → ${plan.before + plan.outputs.length}).` });
    throwIfCancelled(ctx.signal);
  }

  const written = await writeOutputs(jobs, settings, ctx);

  const perClass: Record<string, { before: number; after: number }> = {};
  for (const plan of plans) perClass[plan.dx] = { before: plan.before, after: plan.before + plan.outputs.length };
  await recordAugmentation(prepared, {
    target: settings.target,
    skip: settings.skip,
    size: settings.size,
    seed: settings.seed,
    quality: settings.quality,
    fillMode: settings.fill.mode,
    contrastStretch: settings.contrastStretch,
    perClass,
    updatedAt: new Date().toISOString(),
  });
  ctx.emit({ type: 'augment/didFinish', prepared, written, perClass });
}

interface Settings {
  target: number;
  skip: string[];
  size: number;
  seed: number;
  quality: number;
  concurrency: number;
  workers: number;
  fill: FillOptions;
  ranges: AffineRanges;
  contrastStretch: boolean;
}

function checkOptions(o: AugmentRunOptions, classes: readonly string[]): Settings {
  const int = (name: string, v: number, lo: number, hi: number): number => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new UserError(`--${name} must be a whole number from ${lo} to ${hi}, got ${v}.`);
    return v;
  };
  const fill = typeof o.fill === 'string' ? { mode: o.fill } : (o.fill ?? { mode: 'nearest' as const });
  return {
    target: int('target', o.target, 1, 1_000_000),
    skip: skippedClasses(o.skip, classes),
    size: int('size', o.size, 8, 4096),
    seed: int('seed', o.seed, 0, 2 ** 32 - 1),
    quality: int('quality', o.quality ?? 75, 1, 100),
    concurrency: int('concurrency', o.concurrency ?? 2 * os.availableParallelism(), 1, 256),
    workers: int('workers', o.workers ?? defaultOutputWorkers(), 0, 64),
    fill,
    ranges: o.ranges ?? { ...KERAS_REFERENCE_RANGES },
    contrastStretch: o.contrastStretch ?? false,
  };
}

/**
 * The classes `--skip` names, as the dataset spells them (letter case may differ where that is unambiguous).
 * Without `--skip`, nv where there is one: the reference workflow leaves HAM10000's largest class alone.
 */
export function skippedClasses(skip: readonly string[] | undefined, classes: readonly string[]): string[] {
  if (skip === undefined) return classes.includes('nv') ? ['nv'] : [];
  const unknown: string[] = [];
  const resolved = skip.map((name) => {
    if (classes.includes(name)) return name;
    const folded = classes.filter((c) => c.toLowerCase() === name.toLowerCase());
    if (folded.length === 1) return folded[0]!;
    unknown.push(name);
    return name;
  });
  if (unknown.length > 0) {
    const example = classes.find((c) => !/[\s,"']/.test(c)) ?? classes[0] ?? 'nv';
    throw new UserError(
      `--skip names ${unknown.map((s) => `"${s}"`).join(', ')}, which ${unknown.length === 1 ? 'is not a class' : 'are not classes'} of this dataset. ` +
        `Its classes are ${classes.join(', ')}; e.g. --skip ${/[\s]/.test(example) ? JSON.stringify(example) : example}.`,
    );
  }
  return [...new Set(resolved)];
}

function planClasses(manifest: PreparedManifest, prepared: string, settings: Settings): ClassPlan[] {
  return manifestClasses(manifest).map(({ name: dx }) => {
    const sources: AugmentSource[] = manifest.images
      .filter((i) => i.split === 'train' && i.dx === dx)
      .map((i) => ({ imageId: i.imageId, path: path.join(prepared, i.file) }));
    return planClass(dx, sources, settings.target, settings.seed, settings.skip.includes(dx));
  });
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function clearClassDirs(dirs: readonly string[]): Promise<number> {
  let removed = 0;
  for (const dir of dirs) {
    for (const name of await listFiles(dir)) {
      await fs.rm(path.join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}

const isTempName = (name: string): boolean => name.startsWith('.') && name.includes('.tmp-');

/**
 * Brings a class folder in line with its plan before writing: removes stale temp files, files the
 * plan no longer wants (a lowered target, a skipped class) and truncated ones; reports the rest.
 */
async function reconcileClassDir(dir: string, plan: ClassPlan): Promise<{ existing: Set<string>; removed: number }> {
  const wanted = new Set(plan.outputs.map((o) => o.name));
  const existing = new Set<string>();
  let removed = 0;
  const names = await listFiles(dir);
  await forEachLimited(names, 16, async (name) => {
    const file = path.join(dir, name);
    if (!isTempName(name) && wanted.has(name) && (await isCompleteJpeg(file))) {
      existing.add(name);
      return;
    }
    await fs.rm(file, { force: true });
    if (!isTempName(name)) removed++;
  });
  return { existing, removed };
}

/** A renamed-into-place output is complete; this also catches files truncated by a power loss. */
async function isCompleteJpeg(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 4) return false;
    const head = Buffer.alloc(2);
    const tail = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    await handle.read(tail, 0, 2, size - 2);
    return head[0] === 0xff && head[1] === 0xd8 && tail[0] === 0xff && tail[1] === 0xd9;
  } finally {
    await handle.close();
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * The pipeline: `concurrency` lanes take outputs in plan order (source by source). A source is
 * decoded once, shared by the lanes that need it and dropped after its last variant, so memory holds
 * about `concurrency` sources, never a whole class.
 */
async function writeOutputs(
  jobs: readonly { dir: string; output: PlannedOutput }[],
  settings: Settings,
  ctx: JobContext,
): Promise<number> {
  const progress = new ProgressReporter(ctx.emit, 'augment', jobs.length, 'image');
  progress.update(0, true);
  if (jobs.length === 0) return 0;
  for (const dir of new Set(jobs.map((j) => j.dir))) await fs.mkdir(dir, { recursive: true });

  const runner = createOutputRunner(settings.workers);
  const sources = new SourceCache(runner, settings.size, jobs.map((j) => j.output.source));
  let next = 0;
  let written = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && !ctx.signal.aborted && next < jobs.length) {
      const { dir, output } = jobs[next++]!;
      try {
        const pixels = await sources.acquire(output.source);
        const params = sampleAffineParams(createRng(output.seed), settings.ranges);
        const target = path.join(dir, output.name);
        await runner.write(pixels, { params, fill: settings.fill, contrastStretch: settings.contrastStretch, quality: settings.quality, target });
        sources.release(output.source);
      } catch (err) {
        failure ??= err;
        return;
      }
      written++;
      progress.update(written);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, jobs.length) }, lane));
  } finally {
    await runner.close();
  }
  if (failure !== undefined) throw failure;
  throwIfCancelled(ctx.signal);
  progress.update(written, true);
  return written;
}

/** Decodes each source once (resized to size×size in the decoder) and keeps it while variants need it. */
class SourceCache {
  private readonly entries = new Map<string, { pixels: Promise<PackedSource>; remaining: number }>();
  private readonly uses = new Map<string, number>();

  constructor(
    private readonly runner: OutputRunner,
    private readonly size: number,
    wanted: readonly AugmentSource[],
  ) {
    for (const s of wanted) this.uses.set(s.path, (this.uses.get(s.path) ?? 0) + 1);
  }

  acquire(source: AugmentSource): Promise<PackedSource> {
    let entry = this.entries.get(source.path);
    if (!entry) {
      entry = { pixels: decodeSource(source.path, this.size).then((p) => this.runner.share(p)), remaining: this.uses.get(source.path) ?? 1 };
      this.entries.set(source.path, entry);
    }
    return entry.pixels;
  }

  release(source: AugmentSource): void {
    const entry = this.entries.get(source.path);
    if (entry && --entry.remaining <= 0) this.entries.delete(source.path);
  }
}

/** Decode + resize in one sharp pipeline, so libjpeg scales the DCT down while decoding. */
export async function decodeSource(file: string, size: number): Promise<DecodedImage> {
  try {
    const { data, info } = await sharp(file)
      .resize(size, size, { fit: 'fill' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
  } catch (err) {
    throw new UserError(
      `Could not read the train image ${file}: ${(err as Error).message}. The prepared folder looks damaged; run \`lesion-lab prepare\` again.`,
    );
  }
}
