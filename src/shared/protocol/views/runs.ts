/** The **Runs** panel: every run in a table (setup × results), run management, and several runs compared. */
import type { Check } from '../../validate';
import { arrayOf, bool, literal, nonEmpty, obj, optional, str, unknownValue } from '../../validate';
import type { EpochMetrics } from '../results';
import type { RunRow } from '../../runsTable';

export interface RunsPanelState {
  /** The runs folder the table lists. */
  runsDir?: string;
  runs: RunRow[];
  /** Archived runs are in `runs` only when this is on. */
  showArchived: boolean;
  /** The runs picked for the comparison, with their epochs. */
  compare: { path: string; name: string; epochs: EpochMetrics[] }[];
  /** The run a job is training now: it cannot be deleted. */
  busyRun?: string;
  trusted: boolean;
}

/** Host → Runs panel: the full state. */
export type RunsToView = { type: 'runs/state'; state: RunsPanelState };

export type RunOpenTarget = 'training' | 'evaluation' | 'modelCard' | 'folder';
export type RunEditField = 'name' | 'note' | 'tags';

/** Runs panel → host. Edits ask for the new value in VS Code's own input box; deletions ask first. */
export type RunsToHost =
  | { type: 'runs/compare'; paths: string[] }
  | { type: 'runs/open'; path: string; target: RunOpenTarget }
  | { type: 'runs/edit'; path: string; field: RunEditField }
  | { type: 'runs/archive'; paths: string[]; archived: boolean }
  | { type: 'runs/delete'; paths: string[] }
  | { type: 'runs/cleanUp' }
  | { type: 'runs/showArchived'; show: boolean }
  | { type: 'runs/refresh' };

export const runsToViewSchemas: Record<RunsToView['type'], Check> = {
  'runs/state': obj({ state: obj({ runs: arrayOf(unknownValue), showArchived: bool, compare: arrayOf(unknownValue), trusted: bool, runsDir: optional(str) }) }),
};

export const runsToHostSchemas: Record<RunsToHost['type'], Check> = {
  'runs/compare': obj({ paths: arrayOf(nonEmpty) }),
  'runs/open': obj({ path: nonEmpty, target: literal('training', 'evaluation', 'modelCard', 'folder') }),
  'runs/edit': obj({ path: nonEmpty, field: literal('name', 'note', 'tags') }),
  'runs/archive': obj({ paths: arrayOf(nonEmpty), archived: bool }),
  'runs/delete': obj({ paths: arrayOf(nonEmpty) }),
  'runs/cleanUp': obj({}),
  'runs/showArchived': obj({ show: bool }),
  'runs/refresh': obj({}),
};
