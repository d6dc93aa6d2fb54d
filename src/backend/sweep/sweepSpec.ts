/**
 * `sweep.json`, the spec a person writes, and its expansion into tasks. Pure: no files.
 *
 *   { "prepared": "prepared",                       the prepared dataset (relative to the spec's folder)
 *     "out": "sweeps/lr",                           the sweep folder (default: beside the spec, named after it)
 *     "train": { "model": "mobilenetv2", "epochs": 5 },        options every run shares
 *     "grid": { "lr": [0.001, 0.0003], "batch": [16, 32] },   every combination
 *     "random": { "trials": 8, "seed": 1,                     and/or seeded random draws:
 *                 "space": { "lr": { "log": [1e-5, 1e-2] }, "optimizer": ["adam", "sgd"],
 *                            "epochs": { "int": [3, 8] }, "alpha": { "uniform": [0.35, 1] } } },
 *     "seeds": [1, 2, 3],                           each configuration once per seed
 *     "folds": 5 }                                  or { "k": 5, "seed": 101 }: each configuration once per fold
 *
 * Option names are `train`'s (`finetune-lr` or `finetuneLr`); every expanded task is checked by the same parser
 * as a command line, so a sweep cannot hold a run that `train` would refuse.
 */
import type { SweepTask, SweepValue } from '../../shared/sweep';
import { createRng, deriveSeed } from '../../shared/random';
import { UsageError, parseOptions } from '../args';
import { TRAIN_OPTIONS } from '../trainCommand';

export type RandomDomain = SweepValue[] | { uniform: [number, number] } | { log: [number, number] } | { int: [number, number] };

export interface SweepSpec {
  prepared: string;
  out?: string;
  train: Record<string, SweepValue>;
  grid: Record<string, SweepValue[]>;
  random?: { trials: number; seed: number; space: Record<string, RandomDomain> };
  seeds?: number[];
  folds?: { k: number; seed: number };
}

/** The sweep decides these itself. */
const MANAGED = new Set(['run', 'prepared', 'resume', 'folds', 'fold', 'fold-seed', 'json']);
export const DEFAULT_FOLD_SEED = 101;
/** More tasks than this is almost certainly a mistake in the spec (a grid of 10 × 10 × 10 × 5 folds …). */
export const MAX_TASKS = 10000;

export class SweepSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepSpecError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isValue = (v: unknown): v is SweepValue => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** `finetuneLr` or `finetune-lr` → `finetune-lr`, which must be one of train's options the sweep does not manage. */
function flagName(key: string, where: string): string {
  const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (MANAGED.has(flag)) {
    const hint = flag === 'folds' || flag === 'fold' || flag === 'fold-seed' ? 'use the spec\'s "folds"' : flag === 'prepared' ? 'use the spec\'s "prepared"' : 'the sweep sets it';
    throw new SweepSpecError(`${where}: "${key}" cannot be set in a sweep (${hint}).`);
  }
  if (!TRAIN_OPTIONS.some((o) => o.name === flag)) {
    throw new SweepSpecError(`${where}: "${key}" is not an option of lesion-lab train (options: ${TRAIN_OPTIONS.filter((o) => !MANAGED.has(o.name)).map((o) => o.name).join(', ')}).`);
  }
  return flag;
}

function positiveInt(v: unknown, where: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new SweepSpecError(`${where} must be a whole number of at least ${min}, got ${JSON.stringify(v)}.`);
  return v;
}

function range(v: unknown, where: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] > v[1]) {
    throw new SweepSpecError(`${where} must be [low, high] with low ≤ high, got ${JSON.stringify(v)}.`);
  }
  return [v[0] as number, v[1] as number];
}

function randomDomain(v: unknown, where: string): RandomDomain {
  if (Array.isArray(v)) {
    if (v.length === 0 || !v.every(isValue)) throw new SweepSpecError(`${where} must list at least one value (numbers, strings or booleans).`);
    return v;
  }
  if (isObject(v) && Object.keys(v).length === 1) {
    if ('uniform' in v) return { uniform: range(v.uniform, `${where}.uniform`) };
    if ('int' in v) return { int: range(v.int, `${where}.int`) };
    if ('log' in v) {
      const r = range(v.log, `${where}.log`);
      if (r[0] <= 0) throw new SweepSpecError(`${where}.log must be above 0 (a log-uniform range), got ${JSON.stringify(v.log)}.`);
      return { log: r };
    }
  }
  throw new SweepSpecError(`${where} must be a list of values, or one of { "uniform": [a, b] }, { "log": [a, b] }, { "int": [a, b] }.`);
}

/** Checks a spec as read from JSON; every problem is a SweepSpecError naming where it is. */
export function parseSweepSpec(raw: unknown): SweepSpec {
  if (!isObject(raw)) throw new SweepSpecError('The sweep spec must be a JSON object.');
  const known = new Set(['prepared', 'out', 'train', 'grid', 'random', 'seeds', 'folds', 'name', 'description']);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new SweepSpecError(`The sweep spec has an unknown field "${key}" (fields: ${[...known].join(', ')}).`);
  if (typeof raw.prepared !== 'string' || raw.prepared === '') throw new SweepSpecError('The sweep spec needs "prepared": the folder `lesion-lab prepare` wrote.');
  if (raw.out !== undefined && (typeof raw.out !== 'string' || raw.out === '')) throw new SweepSpecError('"out" must be a folder path.');
  const train: Record<string, SweepValue> = {};
  if (raw.train !== undefined) {
    if (!isObject(raw.train)) throw new SweepSpecError('"train" must be an object of train options, e.g. { "model": "mobilenetv2", "epochs": 5 }.');
    for (const [k, v] of Object.entries(raw.train)) {
      if (!isValue(v)) throw new SweepSpecError(`train.${k} must be a number, string or boolean, got ${JSON.stringify(v)}.`);
      train[flagName(k, 'train')] = v;
    }
  }
  const grid: Record<string, SweepValue[]> = {};
  if (raw.grid !== undefined) {
    if (!isObject(raw.grid)) throw new SweepSpecError('"grid" must be an object of option → list of values, e.g. { "lr": [0.001, 0.0003] }.');
    for (const [k, v] of Object.entries(raw.grid)) {
      if (!Array.isArray(v) || v.length === 0 || !v.every(isValue)) throw new SweepSpecError(`grid.${k} must be a non-empty list of values.`);
      const flag = flagName(k, 'grid');
      if (flag in train) throw new SweepSpecError(`"${k}" is in both train and grid; keep it in one.`);
      grid[flag] = v;
    }
  }
  let random: SweepSpec['random'];
  if (raw.random !== undefined) {
    const r = raw.random;
    if (!isObject(r) || !isObject(r.space)) throw new SweepSpecError('"random" must be { "trials": N, "seed": S, "space": { option: domain, … } }.');
    const space: Record<string, RandomDomain> = {};
    for (const [k, v] of Object.entries(r.space)) {
      const flag = flagName(k, 'random.space');
      if (flag in train || flag in grid) throw new SweepSpecError(`"${k}" is in random.space and in ${flag in train ? 'train' : 'grid'}; keep it in one.`);
      space[flag] = randomDomain(v, `random.space.${k}`);
    }
    if (Object.keys(space).length === 0) throw new SweepSpecError('random.space names no option.');
    random = { trials: positiveInt(r.trials, 'random.trials'), seed: r.seed === undefined ? 1 : positiveInt(r.seed, 'random.seed', 0), space };
  }
  let seeds: number[] | undefined;
  if (raw.seeds !== undefined) {
    if (!Array.isArray(raw.seeds) || raw.seeds.length === 0 || !raw.seeds.every((s) => Number.isInteger(s))) throw new SweepSpecError('"seeds" must be a non-empty list of whole numbers.');
    if ('seed' in train || 'seed' in grid || (random && 'seed' in random.space)) throw new SweepSpecError('"seeds" and a "seed" option both set the seed; keep one.');
    if (new Set(raw.seeds).size !== raw.seeds.length) throw new SweepSpecError('"seeds" lists a seed twice.');
    seeds = raw.seeds as number[];
  }
  let folds: SweepSpec['folds'];
  if (raw.folds !== undefined) {
    if (typeof raw.folds === 'number') folds = { k: positiveInt(raw.folds, 'folds', 2), seed: DEFAULT_FOLD_SEED };
    else if (isObject(raw.folds)) folds = { k: positiveInt(raw.folds.k, 'folds.k', 2), seed: raw.folds.seed === undefined ? DEFAULT_FOLD_SEED : positiveInt(raw.folds.seed, 'folds.seed', 0) };
    else throw new SweepSpecError('"folds" must be K (a whole number ≥ 2) or { "k": K, "seed": S }.');
    if (folds.k > 100) throw new SweepSpecError(`"folds" must be at most 100, got ${folds.k}.`);
  }
  return { prepared: raw.prepared, ...(raw.out !== undefined ? { out: raw.out as string } : {}), train, grid, ...(random ? { random } : {}), ...(seeds ? { seeds } : {}), ...(folds ? { folds } : {}) };
}

/** Three significant digits: a drawn learning rate reads 0.000312, not 0.00031197463. */
const tidy = (x: number): number => Number(x.toPrecision(3));

function draw(domain: RandomDomain, rng: () => number): SweepValue {
  if (Array.isArray(domain)) return domain[Math.floor(rng() * domain.length)]!;
  if ('uniform' in domain) return tidy(domain.uniform[0] + (domain.uniform[1] - domain.uniform[0]) * rng());
  if ('log' in domain) {
    const [lo, hi] = domain.log.map(Math.log) as [number, number];
    return tidy(Math.exp(lo + (hi - lo) * rng()));
  }
  const [lo, hi] = [Math.ceil(domain.int[0]), Math.floor(domain.int[1])];
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** The grid's combinations, the last option varying fastest (as nested loops written in the spec's order). */
function gridConfigs(grid: Record<string, SweepValue[]>): Record<string, SweepValue>[] {
  let configs: Record<string, SweepValue>[] = [{}];
  for (const [flag, values] of Object.entries(grid)) configs = configs.flatMap((c) => values.map((v) => ({ ...c, [flag]: v })));
  return configs;
}

function toArgs(options: Record<string, SweepValue>): string[] {
  const args: string[] = [];
  for (const [flag, v] of Object.entries(options)) {
    if (v === false) continue;
    args.push(`--${flag}`);
    if (v !== true) args.push(String(v));
  }
  return args;
}

const safe = (v: SweepValue): string => String(v).replace(/[^A-Za-z0-9.+-]+/g, '_');

/**
 * The tasks, in order: configuration (grid × random draws), then seed, then fold. Each task's args are checked by
 * train's own parser. `params` holds what varies between tasks (and always the seed and fold when there are several).
 */
export function expandSweep(spec: SweepSpec): Omit<SweepTask, 'run'>[] {
  const grid = gridConfigs(spec.grid);
  let configs = grid;
  if (spec.random) {
    const { trials, seed, space } = spec.random;
    const draws = Array.from({ length: trials }, (_, t) => {
      const rng = createRng(deriveSeed(seed, 'sweep-random', t));
      return Object.fromEntries(Object.entries(space).map(([flag, d]) => [flag, draw(d, rng)]));
    });
    configs = grid.flatMap((g) => draws.map((d) => ({ ...g, ...d })));
  }
  const seeds: (number | undefined)[] = spec.seeds ?? [undefined];
  const folds: (number | undefined)[] = spec.folds ? Array.from({ length: spec.folds.k }, (_, f) => f + 1) : [undefined];
  const total = configs.length * seeds.length * folds.length;
  if (total > MAX_TASKS) throw new SweepSpecError(`The spec expands to ${total.toLocaleString('en')} runs (more than ${MAX_TASKS.toLocaleString('en')}); narrow the grid or the trials.`);
  const tasks: { options: Record<string, SweepValue>; varying: Record<string, SweepValue> }[] = [];
  for (const config of configs) {
    for (const seed of seeds) {
      for (const fold of folds) {
        const varying: Record<string, SweepValue> = { ...config, ...(seed !== undefined ? { seed } : {}), ...(fold !== undefined ? { fold } : {}) };
        const options: Record<string, SweepValue> = { ...spec.train, ...config, ...(seed !== undefined ? { seed } : {}) };
        if (spec.folds && fold !== undefined) Object.assign(options, { folds: spec.folds.k, fold, 'fold-seed': spec.folds.seed });
        tasks.push({ options, varying });
      }
    }
  }
  // Name each task by what differs between tasks; an option that is the same everywhere says nothing.
  const differs = new Set(Object.keys(tasks[0]?.varying ?? {}).filter((k) => new Set(tasks.map((t) => JSON.stringify(t.varying[k]))).size > 1));
  const width = String(Math.max(0, tasks.length - 1)).length;
  return tasks.map((t, index) => {
    const args = toArgs(t.options);
    try {
      parseOptions('train', [...args, '--run', 'run', '--prepared', 'prepared'], TRAIN_OPTIONS);
    } catch (err) {
      if (err instanceof UsageError) throw new SweepSpecError(`Run ${index} of the sweep (${JSON.stringify(t.varying)}) would be refused by train: ${err.message}.`);
      throw err;
    }
    const label = Object.entries(t.varying)
      .filter(([k]) => differs.has(k))
      .map(([k, v]) => `${k}-${safe(v)}`)
      .join('_');
    const name = `${String(index).padStart(Math.max(3, width), '0')}${label ? `-${label}` : ''}`.slice(0, 120);
    return { index, name, params: t.varying, args };
  });
}
