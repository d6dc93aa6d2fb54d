/** The **Sweep** panel: a sweep's or cross-validation's tasks with their states and live figures, and its summary. */
import type { Check } from '../../validate';
import { arrayOf, bool, int, literal, nonEmpty, obj, optional, str } from '../../validate';
import type { SweepStatus, SweepSummary } from '../../sweep';
import { sweepStatus, sweepSummary } from '../../sweep';

export interface SweepPanelState {
  /** The sweep folder shown; absent before one is opened. */
  folder?: string;
  /** The latest status (every task's state from the scheduler, its epochs and figures). */
  status?: SweepStatus;
  /** summary.json as the backend last wrote it (finished runs so far). */
  summary?: SweepSummary;
  /** This window's job runs the sweep now (a local executor): Cancel stops that job. */
  runningHere: boolean;
  /** The panel is asking for the state on an interval (something is pending or running). */
  polling: boolean;
  /** Why the last status could not be read. */
  error?: string;
  trusted: boolean;
}

/** Host → Sweep panel: the full state. */
export type SweepToView = { type: 'sweep/state'; state: SweepPanelState };

/** Sweep panel → host. */
export type SweepToHost =
  /** Cancel the whole sweep, or these tasks (executors that hold tasks separately). */
  | { type: 'sweep/cancel'; tasks?: number[] }
  /** Submit failed, cancelled and never-submitted tasks again (they resume from their checkpoints). */
  | { type: 'sweep/resubmit' }
  /** Show a task's run in the Training panel. */
  | { type: 'sweep/openRun'; path: string }
  | { type: 'sweep/refresh' }
  /** Pick another sweep folder, or start a cross-validation. */
  | { type: 'sweep/pick'; what: 'open' | 'crossValidate' | 'runSweep' }
  /** The summary as Markdown (summary.md) or the folder in the Explorer. */
  | { type: 'sweep/reveal'; what: 'summary' | 'folder' };

export const sweepToViewSchemas: Record<SweepToView['type'], Check> = {
  'sweep/state': obj({ state: obj({ folder: optional(str), status: optional(sweepStatus), summary: optional(sweepSummary), runningHere: bool, polling: bool, error: optional(str), trusted: bool }) }),
};

export const sweepToHostSchemas: Record<SweepToHost['type'], Check> = {
  'sweep/cancel': obj({ tasks: optional(arrayOf(int(0))) }),
  'sweep/resubmit': obj({}),
  'sweep/openRun': obj({ path: nonEmpty }),
  'sweep/refresh': obj({}),
  'sweep/pick': obj({ what: literal('open', 'crossValidate', 'runSweep') }),
  'sweep/reveal': obj({ what: literal('summary', 'folder') }),
};
