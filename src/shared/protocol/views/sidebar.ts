/** The **Training** view in the activity bar (the side bar): engine, dataset, run form, current job, runs. */
import type { Check } from '../../validate';
import { arrayOf, bool, obj, str, unknownValue } from '../../validate';
import type { EngineInfo, EngineSelection } from '../engines';
import type { JobCommand } from '../jobs';
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

/** Side bar → host: show a run in the Training and Evaluation panels. */
export type SidebarToHost = { type: 'run/open'; path: string };

export const sidebarToViewSchemas: Record<SidebarToView['type'], Check> = {
  'sidebar/state': obj({ state: obj({ runs: arrayOf(unknownValue), trusted: bool }) }),
};

export const sidebarToHostSchemas: Record<SidebarToHost['type'], Check> = {
  'run/open': obj({ path: str }),
};
