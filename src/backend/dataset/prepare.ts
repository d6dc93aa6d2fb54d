/**
 * `lesion-lab prepare`: index a dataset folder (whatever its layout), validate every image, split by
 * lesion (or by image, as the reference workflow does), and lay out `train/<dx>/`, `val/<dx>/` (or
 * `test/<dx>/`) with `manifest.json` in the output folder. The dataset folder is only ever read.
 *
 * The new split is built in a staging folder inside the output and swapped in at the end, so a
 * cancelled or failed run leaves the previous prepared dataset as it was.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ClassInfo } from '../../shared/classes';
import { compareClassNames, knownClassLabel } from '../../shared/classes';
import type { PrepareOptions } from '../../shared/protocol/jobs';
import { DEFAULT_NEAR_DUPLICATE_DISTANCE } from '../../shared/protocol/jobs';
import type { DatasetClassSummary, DatasetSummary, ExcludedFile, NearDuplicateSummary, SplitGrouping } from '../../shared/protocol/results';
import { UserError, throwIfCancelled } from '../errors';
import { processAlive, withFolderLock } from '../folderLock';
import { writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { DatasetIndex } from './datasetIndex';
import { EXTRACTED_DIR, indexDataset } from './layouts';
import { classFolders } from './classFolders';
import type { ManifestClass, ManifestImage, ManifestSplit, PreparedManifest } from './manifest';
import { MANIFEST_FILE, MANIFEST_VERSION, SUMMARY_EXCLUDED_LIMIT, manifestPath, readManifest } from './manifest';
import type { Placement } from './materialise';
import { materialise } from './materialise';
import { resolvePrepareFolders } from './outFolder';
import type { Candidate } from './validate';
import { DecodeCache, checkDecodable, excludeConflictingLesions, explainNoMatch, matchMetadataToFiles } from './validate';
import { REASON } from './exclusionReasons';
import { DEMO_MARKER } from '../demo/demoData';
import type { SplitAssignment } from './split';
import { countStraddlingLesions, groupedSplit, imageStratifiedSplit } from './split';
import { countCrossing, countJoinedGroups, crossGroupPairs, joinGroups, nearDuplicateReport } from './nearDuplicates';
import { chainWarning, describeNearDuplicates } from '../../shared/nearDuplicates';

/** Folders of a prepared dataset that a new split replaces. */
const SPLIT_DIRS = ['train', 'val', 'test'] as const;
const AUG_DIR = 'aug';
const STAGING_PREFIX = '.prepare-staging-';
const PREVIOUS_PREFIX = '.prepare-previous-';
export const DECODE_CACHE_FILE = path.join('.prepare-cache', 'decode.json');

export async function prepareDataset(options: PrepareOptions, ctx: JobContext): Promise<void> {
  const { data, out } = await resolvePrepareFolders(options.data, options.out);
  const existed = await exists(out);
  await fs.mkdir(out, { recursive: true });
  // One prepare or augment at a time in a folder: a second one refuses, naming the first.
  await withFolderLock(out, `prepare --data ${data} --out ${out}`, 'The output folder', ctx, async () => {
    try {
      await prepareInto(data, out, options, ctx);
    } catch (err) {
      // A prepare that had to create --out and then failed (or was cancelled) leaves no folder behind.
      if (!existed) await fs.rm(out, { recursive: true, force: true });
      throw err;
    }
  }, { create: true });
}

async function prepareInto(data: string, out: string, options: PrepareOptions, ctx: JobContext): Promise<void> {
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    timings[name] = (performance.now() - started) / 1000;
    return result;
  };

  await removeLeftovers(out);

  const index = await phase('index', async () => {
    const progress = new ProgressReporter(ctx.emit, 'index', 1, 'dataset');
    progress.update(0, true);
    const result = await indexDataset(data, out, ctx, options.table);
    progress.update(1, true);
    return result;
  });
  ctx.emit({ type: 'log', level: 'info', message: `${index.layout}: ${index.rows.length} metadata rows, ${index.files.length} image files in ${data}` });
  for (const note of index.notes) ctx.emit({ type: 'log', level: 'info', message: note });

  const validated = await phase('validate', () => validateIndex(index, out, ctx));
  // The ISIC 2018 test set beside the training data is validated alike and goes to test/ whole.
  const heldOut = index.test ? await phase('validate test', () => validateIndex({ ...index, ...index.test! }, out, ctx)) : { images: [], excluded: [] };
  const trainVal = validated.images;
  const images = [...trainVal, ...heldOut.images];
  const excluded = [...validated.excluded, ...heldOut.excluded];
  if (trainVal.length === 0) {
    const noneMatched = validated.excluded.length > 0 && validated.excluded.every((e) => e.reason === REASON.missingImage || e.reason === REASON.unlistedImage);
    const likely = noneMatched ? explainNoMatch(index.rows, index.files) : undefined;
    throw new UserError(
      `None of the images in ${data} can be used: ${excluded.length} file(s) excluded (${describeExclusions(excluded)}).${likely ? ` Likely cause: ${likely}` : ''} Fix the dataset, or point --data at another copy.`,
    );
  }
  const classes = datasetClasses(index.classes, images);
  const folderOf = new Map(classes.map((c) => [c.name, c.folder]));

  // Near-duplicates: pairs of images of different groups whose perceptual hashes (from validation's decode) are close.
  const distance = options.nearDuplicateDistance ?? DEFAULT_NEAR_DUPLICATE_DISTANCE;
  const pairs = await phase('near-duplicates', async () => crossGroupPairs(images, distance));
  // Grouping needs a grouped split of train/val: an image-level split or a test-only dataset only reports them.
  const canGroup = options.split === 'lesion' && index.purpose !== 'test';
  const mode = canGroup ? (options.nearDuplicates ?? 'group') : 'ignore';
  const trainValPairs = pairs.filter((p) => p.b < trainVal.length);

  const { sides, plain, groupsJoined } = await phase('split', async () => {
    const progress = new ProgressReporter(ctx.emit, 'split', 1, 'step');
    progress.update(0, true);
    const split = (items: readonly Candidate[]): SplitAssignment | ManifestSplit[] =>
      index.purpose === 'test'
        ? items.map(() => 'test')
        : options.split === 'lesion'
          ? groupedSplit(items, options.valFraction, options.seed)
          : imageStratifiedSplit(items, options.valFraction, options.seed, classes.map((c) => c.name));
    const plainSides = split(trainVal);
    let result = plainSides;
    let joinedCount = 0;
    if (mode === 'group' && trainValPairs.length > 0) {
      // Each cluster's groups become one group (named after its smallest id) for the split; the manifest keeps the data's ids.
      const groups = trainVal.map((c) => c.lesionId);
      const joined = joinGroups(groups, trainValPairs);
      joinedCount = countJoinedGroups(groups, joined);
      result = split(trainVal.map((c, i) => ({ ...c, lesionId: joined[i]! })));
    }
    progress.update(1, true);
    return { sides: [...result, ...heldOut.images.map((): ManifestSplit => 'test')], plain: plainSides, groupsJoined: joinedCount };
  });
  throwIfCancelled(ctx.signal);
  const straddling = options.split === 'image' && index.purpose !== 'test' ? countStraddlingLesions(trainVal, sides.slice(0, trainVal.length) as ('train' | 'val')[]) : undefined;

  const placed: ManifestImage[] = images.map((c, i) => ({
    imageId: c.imageId,
    lesionId: c.lesionId,
    dx: c.dx,
    split: sides[i]!,
    source: c.source,
    file: `${sides[i]}/${folderOf.get(c.dx)!}/${c.imageId}${path.extname(c.source).toLowerCase() || '.jpg'}`,
    ...(c.phash ? { phash: c.phash } : {}),
  }));
  const nearDuplicates = nearDuplicateReport(placed, pairs, {
    mode,
    distance,
    hashed: images.filter((c) => c.phash).length,
    crossSplitPlain: index.purpose === 'test' ? 0 : countCrossing(trainValPairs, plain),
    groupsJoined,
  });
  const manifestImages = [...placed].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const noValidationImages = index.purpose === 'test' ? [] : classesWithoutValidation(manifestImages, classes.map((c) => c.name), options.valFraction);

  const previous = await readManifest(out).catch(() => undefined);
  const keepAug = previous !== undefined && sameTrainSplit(previous, manifestImages, data, options) && (await exists(path.join(out, AUG_DIR)));

  const staging = path.join(out, `${STAGING_PREFIX}${process.pid}`);
  let manifest: PreparedManifest;
  try {
    const placements: Placement[] = manifestImages.map((m) => ({ source: m.source, file: m.file }));
    const linked = await phase('link', () => materialise(placements, staging, options.link, ctx));
    const grouping: SplitGrouping | undefined = index.grouping && { ...index.grouping, ungrouped: trainVal.filter((c) => c.ungrouped).length };
    const leakage = leakageStatement(grouping, images.length);
    const notes = [...index.notes, ...(leakage ? [leakage] : []), ...noValidationImages, ...nearDuplicateNotes(nearDuplicates.summary, images.length, options)];
    if (linked.copiedInsteadOfLinked > 0) {
      notes.push(`${linked.copiedInsteadOfLinked} file(s) were copied, not hard-linked: the dataset and ${out} are on different file systems.`);
    }
    if (previous && !keepAug && (await exists(path.join(out, AUG_DIR)))) {
      notes.push('removed the previous aug/: its images were made from a different train split. Run augment again.');
    }
    manifest = {
      version: MANIFEST_VERSION,
      summary: summarise(manifestImages, excluded, {
        sourcePath: data,
        layout: index.layout,
        split: options.split,
        valFraction: options.valFraction,
        seed: options.seed,
        link: linked.materialisedWith,
        straddlingLesions: straddling,
        grouping,
        leakage,
        classes,
        synthetic: await exists(path.join(data, DEMO_MARKER)),
        nearDuplicates: nearDuplicates.summary,
        previousAugmented: keepAug ? previous?.summary : undefined,
      }),
      classes,
      images: manifestImages,
      excluded,
      ...(index.testSet ? { testSet: index.testSet } : {}),
      nearDuplicates: nearDuplicates.record,
      materialisedWith: linked.materialisedWith,
      notes,
    };
    await writeJsonAtomic(path.join(staging, MANIFEST_FILE), manifest);
    throwIfCancelled(ctx.signal); // the last point where cancelling keeps the previous output
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
  await swapIn(out, staging, keepAug);

  if (straddling !== undefined) {
    ctx.emit({ type: 'log', level: 'warn', message: `image-level split: ${straddling} lesion(s) have images in both train and val (leakage).` });
  }
  for (const warning of noValidationImages) ctx.emit({ type: 'log', level: 'warn', message: warning });
  const nd = nearDuplicates.summary;
  ctx.emit({ type: 'log', level: nd.mode === 'ignore' && nd.crossSplit > 0 ? 'warn' : 'info', message: describeNearDuplicates(nd) });
  const chain = chainWarning(nd, images.length);
  if (chain) ctx.emit({ type: 'log', level: 'warn', message: chain });
  if (excluded.length > 0) {
    ctx.emit({ type: 'log', level: 'info', message: `excluded ${excluded.length} file(s): ${describeExclusions(excluded)}. The reasons are in ${manifestPath(out)} › excluded.` });
  }
  ctx.emit({
    type: 'log',
    level: 'debug',
    message: `prepare timings: ${Object.entries(timings)
      .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
      .join(', ')}`,
  });
  ctx.emit({ type: 'prepare/didFinish', out, manifest: manifestPath(out), summary: manifest.summary });
}

async function validateIndex(index: DatasetIndex, out: string, ctx: JobContext): Promise<{ images: Candidate[]; excluded: ExcludedFile[] }> {
  const matched = matchMetadataToFiles(index);
  for (const note of matched.notes) ctx.emit({ type: 'log', level: 'info', message: note });
  index.notes.push(...matched.notes); // and into manifest.json › notes
  matched.excluded.push(...excludeSameNameInClass(matched.candidates));
  const cache = await new DecodeCache(path.join(out, DECODE_CACHE_FILE)).load();
  let decoded;
  try {
    decoded = await checkDecodable(matched.candidates, ctx, { cache });
  } finally {
    await cache.save();
  }
  // A lesion is one diagnosis; a patient (or a group of the user's) may well have several.
  const consistent = !index.grouping || index.grouping.noun === 'lesion' ? excludeConflictingLesions(decoded.candidates) : { candidates: decoded.candidates, excluded: [] };
  const excluded = [...index.excluded, ...matched.excluded, ...decoded.excluded, ...consistent.excluded].sort(
    (a, b) => compare(a.file, b.file) || compare(a.reason, b.reason),
  );
  return { images: consistent.candidates, excluded };
}

interface SummaryContext {
  sourcePath: string;
  layout: string;
  split: PrepareOptions['split'];
  valFraction: number;
  seed: number;
  link: PrepareOptions['link'];
  straddlingLesions?: number;
  grouping?: SplitGrouping;
  leakage?: string;
  /** In order; a class with no images still gets its row. */
  classes: readonly ClassInfo[];
  synthetic?: boolean;
  nearDuplicates?: NearDuplicateSummary;
  /** When aug/ survives, its per-class counts still hold. */
  previousAugmented?: DatasetSummary;
}

export function summarise(images: readonly ManifestImage[], excluded: readonly ExcludedFile[], c: SummaryContext): DatasetSummary {
  const count = (dx: string, split?: ManifestSplit): { images: number; lesions: number } => {
    const subset = images.filter((m) => m.dx === dx && (split === undefined || m.split === split));
    return { images: subset.length, lesions: new Set(subset.map((m) => m.lesionId)).size };
  };
  const hasTest = images.some((m) => m.split === 'test');
  const classes: DatasetClassSummary[] = c.classes.map(({ name: dx, label }) => {
    const augmented = c.previousAugmented?.classes.find((k) => k.name === dx)?.augmented;
    return {
      name: dx,
      ...(label ? { label } : {}),
      all: count(dx),
      train: count(dx, 'train'),
      val: count(dx, 'val'),
      ...(hasTest ? { test: count(dx, 'test') } : {}),
      ...(augmented !== undefined ? { augmented } : {}),
    };
  });
  return {
    sourcePath: c.sourcePath,
    layout: c.layout,
    split: c.split,
    valFraction: c.valFraction,
    seed: c.seed,
    link: c.link,
    ...(c.straddlingLesions !== undefined ? { straddlingLesions: c.straddlingLesions } : {}),
    ...(c.grouping ? { grouping: c.grouping } : {}),
    ...(c.leakage ? { leakage: c.leakage } : {}),
    ...(c.synthetic ? { synthetic: true } : {}),
    ...(c.nearDuplicates ? { nearDuplicates: c.nearDuplicates } : {}),
    classes,
    excludedCount: excluded.length,
    excluded: excluded.slice(0, SUMMARY_EXCLUDED_LIMIT),
    preparedAt: new Date().toISOString(),
  };
}

/**
 * The classes in the model's order: the layout's own list (HAM10000's seven, even one with no images), or
 * every class an image has, by code point. Each gets its folder, and its long name where one is known.
 */
export function datasetClasses(declared: readonly ClassInfo[] | undefined, images: readonly { dx: string }[]): ManifestClass[] {
  const names = declared ? declared.map((c) => c.name) : [...new Set(images.map((i) => i.dx))].sort(compareClassNames);
  const labels = new Map(declared?.map((c) => [c.name, c.label]));
  const folders = classFolders(names);
  return names.map((name, k) => {
    const label = labels.get(name) ?? knownClassLabel(name);
    return { name, folder: folders[k]!, ...(label ? { label } : {}) };
  });
}

/** What a person must know when the split cannot keep every lesion or patient on one side. */
export function leakageStatement(grouping: SplitGrouping | undefined, images: number): string | undefined {
  if (!grouping) {
    return 'The data names no lesion or patient for its images, so each image is split on its own: images of the same lesion or patient may be in both train and val, and leakage cannot be ruled out.';
  }
  if (grouping.ungrouped === 0) return undefined;
  return `${grouping.ungrouped} of ${images} images have no ${grouping.column}: each is split on its own, so leakage among them cannot be ruled out.`;
}

/** What manifest.json › notes says about near-duplicates: what was found and done, and a chain's warning. */
function nearDuplicateNotes(s: NearDuplicateSummary, images: number, options: PrepareOptions): string[] {
  const forced = s.mode === 'ignore' && options.nearDuplicates !== 'ignore' && s.pairs > 0 ? [`near-duplicates are reported, not grouped: ${options.split === 'image' ? 'an image-level split keeps no groups together' : 'a test set is not split'}.`] : [];
  const chain = chainWarning(s, images);
  return [describeNearDuplicates(s), ...forced, ...(chain ? [chain] : [])];
}

/**
 * Two files of one class with the same name (from different subfolders, or `x.jpg` beside `x.png`) would
 * meet in one prepared folder: the first keeps its place, the second is left out as a duplicate.
 */
function excludeSameNameInClass(candidates: Candidate[]): ExcludedFile[] {
  const seen = new Map<string, Candidate>();
  const excluded: ExcludedFile[] = [];
  const kept = candidates.filter((c) => {
    const key = `${c.dx}\0${c.imageId.toLowerCase()}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, c);
      return true;
    }
    excluded.push({ file: c.display, reason: REASON.duplicateFile(first.display) });
    return false;
  });
  candidates.splice(0, candidates.length, ...kept);
  return excluded;
}

/**
 * A class with too few images (or lesions) to put any in validation: training sees it, but no validation
 * figure can say how well it is recognised — its recall is missing from balanced accuracy without a word.
 */
export function classesWithoutValidation(images: readonly ManifestImage[], classes: readonly string[], valFraction: number): string[] {
  return classes.flatMap((dx) => {
    // The held-out test set is no place for validation images.
    const of = images.filter((m) => m.dx === dx && m.split !== 'test');
    if (of.length === 0 || of.some((m) => m.split === 'val')) return [];
    const lesions = new Set(of.map((m) => m.lesionId)).size;
    return [
      `class ${dx} has ${of.length} image(s) in ${lesions} group(s) and none went to validation (val fraction ${valFraction}): its recall cannot be measured and balanced accuracy leaves it out. ` +
        'Add images of it, or prepare with a larger --val-fraction.',
    ];
  });
}

/** aug/ was made from the previous train split; it stays valid only if that split is the same. */
function sameTrainSplit(previous: PreparedManifest, images: readonly ManifestImage[], data: string, o: PrepareOptions): boolean {
  const s = previous.summary;
  if (s.sourcePath !== data || s.split !== o.split || s.valFraction !== o.valFraction || s.seed !== o.seed) return false;
  // The near-duplicate grouping is part of how the split was made (absent before it was recorded: not grouped).
  const nd = s.nearDuplicates;
  if ((nd?.mode ?? 'ignore') !== (o.split === 'lesion' ? (o.nearDuplicates ?? 'group') : 'ignore') || (nd && nd.distance !== (o.nearDuplicateDistance ?? DEFAULT_NEAR_DUPLICATE_DISTANCE))) return false;
  const trainIds = (list: readonly ManifestImage[]): string =>
    list
      .filter((m) => m.split === 'train')
      .map((m) => m.file)
      .sort()
      .join('\n');
  return trainIds(previous.images) === trainIds(images);
}

/**
 * Moves the staged split into place. The manifest leaves first and arrives last, so a reader never
 * sees a manifest that describes folders only half swapped.
 */
async function swapIn(out: string, staging: string, keepAug: boolean): Promise<void> {
  const previous = path.join(out, `${PREVIOUS_PREFIX}${process.pid}`);
  await fs.mkdir(previous, { recursive: true });
  const moveIfThere = async (from: string, to: string): Promise<void> => {
    try {
      await fs.rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  await moveIfThere(path.join(out, MANIFEST_FILE), path.join(previous, MANIFEST_FILE));
  for (const name of [...SPLIT_DIRS, ...(keepAug ? [] : [AUG_DIR])]) await moveIfThere(path.join(out, name), path.join(previous, name));
  for (const name of SPLIT_DIRS) await moveIfThere(path.join(staging, name), path.join(out, name));
  await fs.rename(path.join(staging, MANIFEST_FILE), path.join(out, MANIFEST_FILE));
  await fs.rm(staging, { recursive: true, force: true });
  await fs.rm(previous, { recursive: true, force: true });
}

/**
 * Staging and swap folders left by a prepare that crashed, and half-extracted zips. Each is named after the
 * process that made it; one whose process still runs is never touched (the folder lock already keeps a second
 * prepare out, this holds even if a lock was deleted by hand).
 */
async function removeLeftovers(out: string): Promise<void> {
  const deadOwner = (name: string, pattern: RegExp): boolean => {
    const pid = pattern.exec(name)?.[1];
    return pid !== undefined && !processAlive(Number(pid));
  };
  for (const name of await fs.readdir(out)) {
    if (deadOwner(name, /^\.prepare-(?:staging|previous)-(\d+)$/)) await fs.rm(path.join(out, name), { recursive: true, force: true });
  }
  const extracted = path.join(out, EXTRACTED_DIR);
  for (const name of await fs.readdir(extracted).catch(() => [] as string[])) {
    if (deadOwner(name, /\.(?:partial|old)-(\d+)$/)) await fs.rm(path.join(extracted, name), { recursive: true, force: true });
  }
}

/** "3 × listed in metadata but no image file found, 1 × zero-byte file" — grouped by the reason's kind. */
export function describeExclusions(excluded: readonly ExcludedFile[]): string {
  const counts = new Map<string, number>();
  for (const e of excluded) {
    const kind = e.reason.split(/[:(]/)[0]!.trim();
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${n} × ${kind}`)
    .join(', ');
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
