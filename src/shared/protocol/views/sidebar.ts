/** The **Training** view in the activity bar (the side bar): engine, dataset, run form, current job, runs. */
import type { Check } from '../../validate';
import { arrayOf, bool, exact, int, literal, nonEmpty, numberIn, obj, optional, str, unknownValue } from '../../validate';
import type { NewRunDefaults } from '../../trainDefaults';
import type { WeightsStatus } from '../backend';
import type { EngineChoice, EngineInfo, EngineSelection } from '../engines';
import type { JobCommand, ModelName, Precision, TrainOptions, TrainPhase } from '../jobs';
import { MODEL_NAMES, trainOptionChecks } from '../jobs';
import type { DatasetSummary, ModelProvenance } from '../results';

export interface JobState {
  command: JobCommand;
  title: string;
  progress?: { task: string; done: number; total: number; unit: string; rate?: number; etaSeconds?: number };
}

/** A run in the side bar's list. */
export interface RunListItem {
  path: string;
  name: string;
  /** The kept checkpoint's validation balanced accuracy, with its interval and where it stands against chance. */
  checkpoint?: ModelProvenance['validation'];
  epochs: number;
  status: string;
  /** What it trains with and where, from its config.json (the entry's tooltip). */
  setup?: string;
}

/** What a new run gets for each field the person leaves alone: the `lesionLab.*` settings (src/shared/trainDefaults.ts). */
export interface RunFormDefaults {
  /** The settings, for runs with pretrained weights (ImageNet or a file). */
  pretrained: NewRunDefaults;
  /** With weights 'none': the from-scratch recipe in place of every setting left at its default. */
  scratch: NewRunDefaults;
  engine: EngineChoice;
  precision: Precision;
}

/** The ImageNet weights for the model, width and size the form shows, as the host last checked them. */
export interface WeightsView {
  model: ModelName;
  alpha?: number;
  size: number;
  checking: boolean;
  status?: WeightsStatus;
  /** The check itself failed (the backend could not run it). */
  error?: string;
}

/** Train… (palette, walkthrough, panels) asks the side bar to show its Run form: `seq` grows with each ask. */
export interface RunFormRequest {
  seq: number;
  /** Fine-tune… › New run: the form starts at this phase. */
  phase?: TrainPhase;
  /** A notification's Train from Scratch / Pick Weights File…: the form's weights become these. */
  weights?: string;
}

export interface SidebarState {
  engines?: { list: EngineInfo[]; selected: EngineSelection };
  enginesError?: string;
  dataset?: { path: string; summary: DatasetSummary };
  job?: JobState;
  runs: RunListItem[];
  trusted: boolean;
  runDefaults: RunFormDefaults;
  weights?: WeightsView;
  formRequest?: RunFormRequest;
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

/** Which ImageNet weights the form is about to use; `again` asks the server afresh. */
export interface WeightsCheckRequest {
  model: ModelName;
  alpha?: number;
  size: number;
  again?: boolean;
}

/** The answer to `weights/browse`: the file picked, or none when the dialog was cancelled. */
export interface WeightsFilePicked {
  path?: string;
}

/** The learning-rate range test for one phase of the run the form describes. */
export interface LrFindRequest {
  phase: 'head' | 'finetune';
  form: TrainRequest;
}

/** The host's answer to `lrFind/start`: the learning rate to put into that phase's field, and the other reading. */
export interface LrFindAnswer {
  suggested: number;
  steepest?: number;
  minimumTenth?: number;
}

/** Side bar → host: commands (fire and forget) and requests (answered with a `response`). */
export type SidebarToHost =
  /** Show a run in the Training and Evaluation panels. */
  | { type: 'run/open'; path: string }
  /** Start a new run from the form; answered once the job has started, or with why it cannot. */
  | { type: 'training/start'; id: string; params: TrainRequest }
  /** Find out whether these ImageNet weights are cached or can be downloaded (the answer comes in the state's `weights`). */
  | { type: 'weights/check'; params: WeightsCheckRequest }
  /** Pick a local weights file (Keras .h5 or TF.js model.json) in a file dialog. */
  | { type: 'weights/browse'; id: string; params: Record<string, never> }
  /** Run the range test (its curve in the Learning Rate Finder panel); answered with the suggestion once it ends. */
  | { type: 'lrFind/start'; id: string; params: LrFindRequest };

/** Requests the side bar makes, and what each is answered with. */
export interface SidebarRequests {
  'training/start': { params: TrainRequest; result: TrainStarted };
  'weights/browse': { params: Record<string, never>; result: WeightsFilePicked };
  'lrFind/start': { params: LrFindRequest; result: LrFindAnswer };
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
  'weights/check': exact({ type: str, params: exact({ model: literal(...MODEL_NAMES), alpha: optional(numberIn(0.35, 1.4)), size: int(32, 1024), again: optional(bool) }) }),
  'weights/browse': exact({ type: str, id: nonEmpty, params: exact({}) }),
  'lrFind/start': exact({ type: str, id: nonEmpty, params: exact({ phase: literal('head', 'finetune'), form: trainRequest }) }),
};
