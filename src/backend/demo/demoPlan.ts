/**
 * What a synthetic HAM10000-style dataset contains: how many images per class, how they group
 * into lesions, their ids, metadata and which image folder each lands in. Pure and seeded; no I/O.
 */
import type { LesionClass } from '../../shared/classes';
import { HAM10000_TOTAL_IMAGES, LESION_CLASSES, LESION_CLASS_INFO } from '../../shared/classes';
import type { Rng } from '../../shared/random';
import { createRng, deriveSeed, gaussian, shuffle } from '../../shared/random';
import { UserError } from '../errors';

/** Images in all when neither --per-class nor --total is given: a minute or less at 600×450, 8 df images. */
export const DEFAULT_DEMO_TOTAL = 700;
/** Every class keeps at least this many images, so a lesion-grouped split still has some in val. */
export const MIN_DEMO_IMAGES_PER_CLASS = 3;
/** HAM10000's first image id is ISIC_0024306. */
const FIRST_IMAGE_NUMBER = 24306;
/** Kaggle's part_1 holds 5,000 of the 10,015 images (ISIC_0024306…ISIC_0029305). */
const PART_1_SHARE = 5000 / HAM10000_TOTAL_IMAGES;
/** Row order of the real HAM10000_metadata.csv, which groups rows by diagnosis in this order. */
const CSV_CLASS_ORDER: readonly LesionClass[] = ['bkl', 'nv', 'df', 'mel', 'vasc', 'bcc', 'akiec'];

export type DemoCounts = Record<LesionClass, number>;

/**
 * Images per class. `perClass`: that many in each. `total`: HAM10000's proportions scaled to
 * `total` by largest-remainder rounding, each class getting at least MIN_DEMO_IMAGES_PER_CLASS
 * (classes held at the floor drop out and the rest share what is left, so the sum is exact).
 * `total: 10015` gives HAM10000's own counts.
 */
export function demoClassCounts(request: { perClass?: number; total?: number }): DemoCounts {
  const { perClass, total } = request;
  if (perClass !== undefined && total !== undefined) {
    throw new UserError('Give either --per-class or --total, not both: --per-class N writes N images of every class, --total N splits N images in HAM10000’s proportions.');
  }
  const counts = Object.fromEntries(LESION_CLASSES.map((c) => [c, 0])) as DemoCounts;
  if (perClass !== undefined) {
    if (!Number.isInteger(perClass) || perClass < 1) throw new UserError(`--per-class must be a whole number of at least 1 (got ${perClass}).`);
    for (const c of LESION_CLASSES) counts[c] = perClass;
    return counts;
  }
  const n = total ?? DEFAULT_DEMO_TOTAL;
  const floor = MIN_DEMO_IMAGES_PER_CLASS;
  if (!Number.isInteger(n) || n < floor * LESION_CLASSES.length) {
    throw new UserError(
      `--total ${n} is too small: every class needs at least ${floor} images, so use --total ${floor * LESION_CLASSES.length} or more (or --per-class N).`,
    );
  }
  const pinned = new Set<LesionClass>();
  for (;;) {
    const free = LESION_CLASSES.filter((c) => !pinned.has(c));
    const budget = n - floor * pinned.size;
    const weight = free.reduce((s, c) => s + LESION_CLASS_INFO[c].ham10000Images, 0);
    const quota = (c: LesionClass): number => (budget * LESION_CLASS_INFO[c].ham10000Images) / weight;
    const starved = free.filter((c) => quota(c) < floor);
    if (starved.length > 0) {
      for (const c of starved) pinned.add(c);
      continue;
    }
    for (const c of pinned) counts[c] = floor;
    let left = budget;
    for (const c of free) {
      counts[c] = Math.floor(quota(c));
      left -= counts[c];
    }
    // Largest remainder first; ties go to the bigger class, then alphabetical order.
    const byRemainder = [...free].sort((a, b) => {
      const ra = quota(a) - Math.floor(quota(a));
      const rb = quota(b) - Math.floor(quota(b));
      if (ra !== rb) return rb - ra;
      return LESION_CLASS_INFO[b].ham10000Images - LESION_CLASS_INFO[a].ham10000Images;
    });
    for (let i = 0; i < left; i++) counts[byRemainder[i % byRemainder.length]!]++;
    return counts;
  }
}

export interface DemoLesion {
  lesionId: string;
  dx: LesionClass;
  /** Seed of the lesion's appearance (shared by all its images). */
  seed: number;
  dxType: string;
  age: number;
  sex: 'male' | 'female';
  localization: string;
}

export interface DemoImage {
  imageId: string;
  lesion: DemoLesion;
  /** Seed of this photograph's view (shift, rotation, hair…). */
  seed: number;
  part: 1 | 2;
}

export interface DemoPlan {
  counts: DemoCounts;
  lesions: DemoLesion[];
  /** In metadata CSV order: grouped by diagnosis, a lesion's images together. */
  images: DemoImage[];
}

function pick<T extends string>(rng: Rng, weights: readonly (readonly [T, number])[]): T {
  const sum = weights.reduce((s, [, w]) => s + w, 0);
  let x = rng() * sum;
  for (const [value, w] of weights) {
    x -= w;
    if (x < 0) return value;
  }
  return weights[weights.length - 1]![0];
}

/** HAM10000 has 10,015 images of 7,470 lesions: ≈1.34 images per lesion, at most a handful. */
const IMAGES_PER_LESION: readonly (readonly ['1' | '2' | '3' | '4', number])[] = [
  ['1', 0.75],
  ['2', 0.18],
  ['3', 0.05],
  ['4', 0.02],
];

/** Plausible metadata, loosely after HAM10000's: confirmation type and age depend on the diagnosis. */
const DX_TYPES: Record<LesionClass, readonly (readonly [string, number])[]> = {
  nv: [['follow_up', 0.55], ['histo', 0.3], ['consensus', 0.13], ['confocal', 0.02]],
  mel: [['histo', 1]],
  bkl: [['histo', 0.5], ['consensus', 0.3], ['confocal', 0.2]],
  bcc: [['histo', 1]],
  akiec: [['histo', 1]],
  df: [['histo', 0.5], ['consensus', 0.5]],
  vasc: [['histo', 0.4], ['consensus', 0.6]],
};
const AGE: Record<LesionClass, [number, number]> = {
  nv: [45, 15],
  mel: [62, 15],
  bkl: [60, 13],
  bcc: [66, 12],
  akiec: [67, 11],
  df: [50, 14],
  vasc: [50, 20],
};
const BODY_SITES: readonly (readonly [string, number])[] = [
  ['back', 0.22],
  ['lower extremity', 0.21],
  ['trunk', 0.14],
  ['upper extremity', 0.11],
  ['abdomen', 0.1],
  ['face', 0.07],
  ['chest', 0.04],
  ['foot', 0.03],
  ['neck', 0.02],
  ['scalp', 0.013],
  ['hand', 0.009],
  ['ear', 0.006],
  ['genital', 0.005],
  ['acral', 0.001],
];
/** Sun-damage diagnoses sit on the face far more often. */
const FACE_HEAVY: readonly LesionClass[] = ['akiec', 'bcc', 'bkl'];

const pad7 = (n: number): string => String(n).padStart(7, '0');

/** Lays out the dataset: lesions per class, their images, ids and image folders. */
export function planDemoDataset(counts: DemoCounts, seed: number): DemoPlan {
  const rng = createRng(deriveSeed(seed, 'demo-plan'));
  const lesions: DemoLesion[] = [];
  const groups: { lesion: DemoLesion; images: number }[] = [];
  for (const dx of CSV_CLASS_ORDER) {
    const n = counts[dx];
    // Small classes still get several lesions (for a lesion-grouped split): up to 3 when n allows.
    const minLesions = Math.min(n, 3);
    let left = n;
    let made = 0;
    while (left > 0) {
      const stillNeeded = Math.max(0, minLesions - made - 1);
      const size = Math.min(Number(pick(rng, IMAGES_PER_LESION)), left - stillNeeded);
      const [mean, sd] = AGE[dx];
      const sites = FACE_HEAVY.includes(dx) ? BODY_SITES.map(([s, w]) => [s, s === 'face' ? w + 0.3 : w] as const) : BODY_SITES;
      const lesion: DemoLesion = {
        lesionId: '',
        dx,
        seed: 0,
        dxType: pick(rng, DX_TYPES[dx]),
        age: Math.min(85, Math.max(5, Math.round((mean + gaussian(rng) * sd) / 5) * 5)),
        sex: rng() < 0.54 ? 'male' : 'female',
        localization: pick(rng, sites),
      };
      lesions.push(lesion);
      groups.push({ lesion, images: size });
      left -= size;
      made++;
    }
  }
  // HAM lesion ids are not in class order; number the lesions in a shuffled order.
  const lesionNumbers = shuffle(rng, lesions.map((_, i) => i));
  lesions.forEach((l, i) => {
    l.lesionId = `HAM_${pad7(lesionNumbers[i]!)}`;
    l.seed = deriveSeed(seed, 'lesion', l.lesionId);
  });
  const total = groups.reduce((s, g) => s + g.images, 0);
  // Image ids are likewise spread over the classes, and the lower ids fill part_1 as on Kaggle.
  const imageNumbers = shuffle(rng, Array.from({ length: total }, (_, i) => i));
  const part1 = Math.round(total * PART_1_SHARE);
  const images: DemoImage[] = [];
  for (const g of groups) {
    for (let k = 0; k < g.images; k++) {
      const index = imageNumbers[images.length]!;
      const imageId = `ISIC_${pad7(FIRST_IMAGE_NUMBER + index)}`;
      images.push({ imageId, lesion: g.lesion, seed: deriveSeed(seed, 'image', imageId), part: index < part1 ? 1 : 2 });
    }
  }
  return { counts, lesions, images };
}

export const METADATA_HEADER = 'lesion_id,image_id,dx,dx_type,age,sex,localization';

/** HAM10000_metadata.csv for a plan (values contain no commas or quotes). */
export function metadataCsv(plan: DemoPlan): string {
  const rows = plan.images.map((im) => {
    const l = im.lesion;
    return `${l.lesionId},${im.imageId},${l.dx},${l.dxType},${l.age.toFixed(1)},${l.sex},${l.localization}`;
  });
  return [METADATA_HEADER, ...rows].join('\n') + '\n';
}
