/**
 * What `train --resume` continues with: the run's own options from its config.json. The user need give
 * only `--run`; an option given again must say the same as the config (else the resumed run would silently
 * be another run), except the engine and precision, which may change between sessions (another machine,
 * another GPU) and are recorded per epoch. One extension is allowed: `--resume --phase finetune` on a
 * head-only run goes on into the second phase of the reference workflow, with that phase's options.
 */
import path from 'node:path';
import type { TrainOptions } from '../../shared/protocol/jobs';
import type { ResolvedTrainOptions } from '../../shared/runConfig';
import { UserError } from '../errors';

type Key = keyof TrainOptions;

/** May differ from the config on resume: each session's engine, precision and threads are recorded. */
const SESSION_KEYS: readonly Key[] = ['engine', 'precision', 'threads'];
/** Not options of the run itself. */
const REQUEST_KEYS: readonly Key[] = ['run', 'resume', 'explicit'];
/** The fine-tune phase's own options, which a head-only run extended into fine-tuning takes from the request. */
const FINETUNE_KEYS: readonly Key[] = ['phase', 'epochs', 'finetuneEpochs', 'finetuneLr', 'optimizer', 'unfreezeFrom'];

export interface ResumedOptions {
  options: ResolvedTrainOptions;
  /** A head-only run goes on into fine-tuning. */
  extended: boolean;
  /** `--prepared` named another folder than the config's: allowed only when it holds the same dataset (checked by the caller). */
  movedPrepared?: string;
}

/** `finetuneEpochs` → `--finetune-epochs`, as the user typed it. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function resumeOptions(saved: ResolvedTrainOptions, request: TrainOptions): ResumedOptions {
  const explicit = new Set<Key>(request.explicit ?? []);
  const extended = saved.phase === 'head' && explicit.has('phase') && request.phase === 'finetune';
  const differences: string[] = [];
  let movedPrepared: string | undefined;
  for (const key of explicit) {
    if (REQUEST_KEYS.includes(key) || SESSION_KEYS.includes(key) || (extended && FINETUNE_KEYS.includes(key))) continue;
    if (key === 'prepared') {
      if (request.prepared && path.resolve(request.prepared) !== path.resolve(saved.prepared)) movedPrepared = path.resolve(request.prepared);
      continue;
    }
    const given = request[key];
    const had = saved[key];
    if (JSON.stringify(given) !== JSON.stringify(had)) differences.push(`${flagOf(key)} ${show(given)} (the run has ${show(had)})`);
  }
  if (differences.length > 0) {
    throw new UserError(
      `--resume continues the run in ${saved.run} as its config.json describes it, and ${differences.length === 1 ? 'this option differs' : 'these options differ'}: ${differences.join(', ')}. ` +
        'Leave them out to continue the run (only --engine, --precision and --threads may change), or start a new run in another --run folder.',
    );
  }
  const pick = <K extends Key>(key: K): TrainOptions[K] | undefined => (explicit.has(key) ? request[key] : undefined);
  const options: ResolvedTrainOptions = {
    ...saved,
    engine: pick('engine') ?? saved.engine,
    precision: pick('precision') ?? saved.precision,
    // Threads change the speed, not the results: the machine's default unless given again.
    threads: pick('threads'),
    resume: true,
  };
  if (extended) {
    options.phase = 'both';
    options.finetuneEpochs = pick('finetuneEpochs') ?? pick('epochs') ?? saved.finetuneEpochs;
    options.finetuneLr = pick('finetuneLr') ?? saved.finetuneLr;
    options.finetuneOptimizer = pick('optimizer') ?? saved.finetuneOptimizer;
    options.unfreezeFrom = pick('unfreezeFrom') ?? saved.unfreezeFrom;
  }
  return { options, extended, ...(movedPrepared ? { movedPrepared } : {}) };
}

function show(value: unknown): string {
  if (value === undefined) return 'the default';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
