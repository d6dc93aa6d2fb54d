/**
 * What the Sweep panel says about a sweep or cross-validation, worked out without the DOM or VS Code: each task's
 * row (what varies, its fold, its state in words, its epochs and latest figures), whether anything is still going
 * (and so worth polling), which actions apply, and the cross-validation summary in the words and trust marks the
 * other views use (a 95% interval beside each pooled figure, "at chance level" when it includes guessing).
 */
import type { CrossValidationResult, SweepStatus, SweepSummary, SweepValue, TaskState, TaskStatus } from './sweep';
import { chanceVerdict, chanceWarning, formatInterval, formatWithInterval } from './trust';
import type { ChanceVerdict } from './trust';
import { formatPercent } from './format';

/** A task's state as the panel names it; `waiting` is a task no scheduler has been given yet. */
export const TASK_STATE_WORDS: Record<TaskState, string> = {
  waiting: 'not submitted',
  pending: 'pending',
  running: 'running',
  finished: 'finished',
  failed: 'failed',
  cancelled: 'cancelled',
};

export interface TaskRow {
  index: number;
  name: string;
  /** Absolute run folder. */
  run: string;
  state: TaskState;
  /** "running", or "pending (PENDING, attempt 2)" when the scheduler's own word or a resubmission says more. */
  stateText: string;
  /** The options that vary between tasks, without the fold: "lr 0.001 · seed 2"; empty when only the fold varies. */
  varying: string;
  fold?: number;
  /** "1 / 5" epochs, or "—" before the run has written one. */
  epochs: string;
  /** The latest epoch's validation balanced accuracy, with its interval when the run recorded one. */
  latest: string;
  /** The best checkpoint's, the figure the summary ranks by. */
  best: string;
  /** Why it failed, when the run says. */
  message?: string;
}

const DASH = '—';

function formatValue(v: SweepValue): string {
  if (typeof v === 'number' && v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(1);
  return String(v);
}

/** "lr 0.001 · seed 2": the params in the plan's order, fold left to its own column. */
export function describeParams(params: Readonly<Record<string, SweepValue>>): string {
  return Object.entries(params)
    .filter(([k]) => k !== 'fold')
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(' · ');
}

export function taskRow(t: TaskStatus): TaskRow {
  const word = TASK_STATE_WORDS[t.state];
  const extra = [t.schedulerState && t.schedulerState.toLowerCase() !== t.state && t.schedulerState.toLowerCase() !== word ? t.schedulerState : undefined, t.attempts > 1 ? `attempt ${t.attempts}` : undefined].filter(Boolean);
  const fold = t.params.fold;
  return {
    index: t.index,
    name: t.name,
    run: t.run,
    state: t.state,
    stateText: extra.length ? `${word} (${extra.join(', ')})` : word,
    varying: describeParams(t.params),
    ...(typeof fold === 'number' ? { fold } : {}),
    epochs: t.epochs > 0 || t.epochsTotal ? `${t.epochs} / ${t.epochsTotal ?? '?'}` : DASH,
    latest: t.valBalancedAccuracy === undefined ? DASH : formatWithInterval(t.valBalancedAccuracy, t.valBalancedAccuracyCi),
    best: t.bestValBalancedAccuracy === undefined ? DASH : formatPercent(t.bestValBalancedAccuracy),
    ...(t.message ? { message: t.message } : {}),
  };
}

/** Tasks a scheduler holds or runs now: while there are any, the panel keeps asking for their state. */
export function isActive(status: SweepStatus | undefined): boolean {
  return !!status?.tasks.some((t) => t.state === 'pending' || t.state === 'running');
}

/** "2 finished, 1 running, 1 pending" in the states' order; the states with no task left out. */
export function stateCounts(status: SweepStatus): string {
  const counts = new Map<TaskState, number>();
  for (const t of status.tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  return (Object.keys(TASK_STATE_WORDS) as TaskState[])
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${TASK_STATE_WORDS[s]}`)
    .join(', ');
}

/** Tasks "Resubmit failed" would submit again: failed, cancelled and never-submitted ones. */
export function resubmittable(status: SweepStatus): number[] {
  return status.tasks.filter((t) => t.state === 'failed' || t.state === 'cancelled' || t.state === 'waiting').map((t) => t.index);
}

/** Whether one task can be cancelled on its own: a scheduler that holds tasks separately (not the local executor, which stops as a whole). */
export function cancelsSingleTasks(executor: string): boolean {
  return executor === 'slurm';
}

/** How often the panel asks for the state while something is active: a local run's files change by the epoch; a cluster's scheduler is not to be hammered. */
export function pollSeconds(executor: string): number {
  return executor === 'local' ? 5 : 15;
}

export interface CvSummaryView {
  /** "lr 0.001" — or "" for a cross-validation of one configuration. */
  config: string;
  /** "3 of 5 folds"; all folds when complete. */
  foldsDone: string;
  complete: boolean;
  perFold: { fold: number; balancedAccuracy: string; accuracy: string; images: number }[];
  /** "62.3% ± 4.1%" over the folds (sample sd), "—" with no fold yet. */
  balancedAccuracyMeanSd: string;
  accuracyMeanSd: string;
  /** Every fold's validation images, each predicted by the one model that did not train on it. */
  pooled?: {
    images: number;
    /** "62.3% (95% CI 51–70%)" */
    balancedAccuracy: string;
    /** The same in parts, for a headline figure: "62.3%" and "51–70%". */
    balancedAccuracyValue: string;
    balancedAccuracyCi: string;
    accuracy: string;
    verdict: ChanceVerdict;
    warning?: string;
  };
}

/** "62.3% ± 4.1%": the folds' mean and standard deviation in percentage points. */
export function formatMeanSd(m: { mean: number; sd: number }, folds: number): string {
  if (folds === 0 || !Number.isFinite(m.mean)) return DASH;
  return folds === 1 ? `${formatPercent(m.mean)} (one fold)` : `${formatPercent(m.mean)} ± ${(100 * m.sd).toFixed(1)}%`;
}

export function cvSummaryView(cv: CrossValidationResult, classes: readonly string[]): CvSummaryView {
  const n = cv.perFold.length;
  const oof = cv.outOfFold;
  const verdict = oof ? chanceVerdict(oof.balancedAccuracyCi, classes.length) : undefined;
  const warning = chanceWarning(verdict, classes.length);
  return {
    config: describeParams(cv.config),
    foldsDone: n === cv.folds ? `${cv.folds} folds` : `${n} of ${cv.folds} folds`,
    complete: n === cv.folds,
    perFold: cv.perFold.map((f) => ({ fold: f.fold, balancedAccuracy: formatPercent(f.balancedAccuracy), accuracy: formatPercent(f.accuracy), images: f.images })),
    balancedAccuracyMeanSd: formatMeanSd(cv.balancedAccuracy, n),
    accuracyMeanSd: formatMeanSd(cv.accuracy, n),
    ...(oof && verdict
      ? {
          pooled: {
            images: oof.images,
            balancedAccuracy: formatWithInterval(oof.balancedAccuracy, oof.balancedAccuracyCi),
            balancedAccuracyValue: formatPercent(oof.balancedAccuracy),
            balancedAccuracyCi: formatInterval(oof.balancedAccuracyCi),
            accuracy: formatWithInterval(oof.accuracy, oof.accuracyCi),
            verdict,
            ...(warning ? { warning } : {}),
          },
        }
      : {}),
  };
}

/** The summary's headline for the panel's heading line: the best configuration's pooled figure, or its mean. */
export function summaryHeadline(summary: SweepSummary): string {
  const head = `${summary.finished} of ${summary.total} runs finished`;
  const cv = summary.crossValidation[0];
  if (summary.crossValidation.length !== 1 || !cv) return head;
  const oof = cv.outOfFold;
  return oof ? `${head} · out-of-fold balanced accuracy ${formatPercent(oof.balancedAccuracy)} (95% CI ${formatInterval(oof.balancedAccuracyCi)})` : head;
}
