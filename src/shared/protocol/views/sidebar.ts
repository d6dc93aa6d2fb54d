/** The **Training** view in the activity bar (the side bar): engine, dataset, run form, current job, runs. */
import type { Check } from '../../validate';
import { arrayOf, bool, exact, nonEmpty, obj, optional, str, unknownValue } from '../../validate';
import type { EngineInfo, EngineSelection } from '../engines';
import type { JobCommand, TrainOptions } from '../jobs';
import { trainOptionChecks } from '../jobs';
import type { DatasetSummary } from '../results';

export interface JobState {
  command: JobCommand;
  title: string;
  progress?: { task: string; done: number; total: number; unit: string; rate?: number; etaSeconds?: number };
}

export interface SidebarState {
  engines?: { list: EngineInfo[]; selected: EngineSelection };
  enginesError?: string;
  dataset?: { path: string; summary: DatasetSummary };
  job?: JobState;
  runs: { path: string; name: string; bestValBalancedAccuracy?: number; epochs: number; status: string }[];
  trusted: boolean;
}

/** Host → side bar: the full state. */
export type SidebarToView = { type: 'sidebar/state'; state: SidebarState };

/**
 * What the run form asks for: the TrainOptions a person chooses. The host decides the rest — the prepared
 * folder and a new run folder in the workspace, never resuming — and fills what is left out from the settings.
 */
export type TrainRequest = Partial<Omit<TrainOptions, 'prepared' | 'run' | 'resume'>>;

/** The host's answer to `training/start`: the run folder it started. */
export interface TrainStarted {
  run: string;
}

/** Side bar → host: commands (fire and forget) and requests (answered with a `response`). */
export type SidebarToHost =
  /** Show a run in the Training and Evaluation panels. */
  | { type: 'run/open'; path: string }
  /** Start a new run from the form; answered once the job has started, or with why it cannot. */
  | { type: 'training/start'; id: string; params: TrainRequest };

/** Requests the side bar makes, and what each is answered with. */
export interface SidebarRequests {
  'training/start': { params: TrainRequest; result: TrainStarted };
}

const { prepared: _prepared, run: _run, resume: _resume, ...trainRequestChecks } = trainOptionChecks;
/** Each field as the backend checks it, none required (the host fills them in), nothing else allowed. */
export const trainRequest: Check = exact(Object.fromEntries(Object.entries(trainRequestChecks).map(([k, check]) => [k, optional(check)])));

export const sidebarToViewSchemas: Record<SidebarToView['type'], Check> = {
  'sidebar/state': obj({ state: obj({ runs: arrayOf(unknownValue), trusted: bool }) }),
};

export const sidebarToHostSchemas: Record<SidebarToHost['type'], Check> = {
  'run/open': obj({ path: nonEmpty }),
  'training/start': exact({ type: str, id: nonEmpty, params: trainRequest }),
};
