/**
 * The webview side of the protocol, shared by every view, in GitLens' three kinds of message:
 *   commands       view → host, fire and forget (`samples/show`, `command/run`, `ready`);
 *   requests       view → host with an `id`, answered by one `response` carrying the result or an error
 *                  a person can read (`training/start`);
 *   notifications  host → view: full state snapshots (`sidebar/state`). A hidden webview keeps only the
 *                  newest message, so the host always sends whole snapshots, never deltas.
 * Each view has its own protocol (views/*.ts). What arrives from a view is checked against that view's
 * protocol only, so a panel cannot send another view's messages; views check what the host sends too.
 */
import type { Check, Validated } from '../validate';
import { arrayOf, bool, exact, literal, nonEmpty, obj, optional, str, unknownValue, validateTagged } from '../validate';
import type { AugmentPreviewToHost, AugmentPreviewToView } from './views/augmentPreview';
import { augmentPreviewToHostSchemas, augmentPreviewToViewSchemas } from './views/augmentPreview';
import type { DatasetToView } from './views/dataset';
import { datasetToViewSchemas } from './views/dataset';
import type { EvaluationToHost, EvaluationToView } from './views/evaluation';
import { evaluationToHostSchemas, evaluationToViewSchemas } from './views/evaluation';
import type { PredictionToHost, PredictionToView } from './views/prediction';
import { predictionToHostSchemas, predictionToViewSchemas } from './views/prediction';
import type { SamplesToHost, SamplesToView } from './views/samples';
import { samplesToHostSchemas, samplesToViewSchemas } from './views/samples';
import type { SidebarRequests, SidebarToHost, SidebarToView } from './views/sidebar';
import { sidebarToHostSchemas, sidebarToViewSchemas } from './views/sidebar';
import type { TrainingToHost, TrainingToView } from './views/training';
import { trainingToHostSchemas, trainingToViewSchemas } from './views/training';
import type { RunsToHost, RunsToView } from './views/runs';
import { runsToHostSchemas, runsToViewSchemas } from './views/runs';
import type { LrFinderToView } from './views/lrFinder';
import type { SweepToHost, SweepToView } from './views/sweep';
import { sweepToHostSchemas, sweepToViewSchemas } from './views/sweep';
import { lrFinderToViewSchemas } from './views/lrFinder';

export type ViewKind = 'sidebar' | 'dataset' | 'samples' | 'training' | 'evaluation' | 'prediction' | 'augmentPreview' | 'runs' | 'lrFinder' | 'sweep';

/** Commands a webview may ask the host to run; anything else is refused. */
export const WEBVIEW_COMMANDS = [
  'lesionLab.downloadDataset',
  'lesionLab.prepareDataset',
  'lesionLab.augment',
  'lesionLab.train',
  'lesionLab.fineTune',
  'lesionLab.stop',
  'lesionLab.resume',
  'lesionLab.evaluate',
  'lesionLab.exportModel',
  'lesionLab.showDataset',
  'lesionLab.showSamples',
  'lesionLab.showTraining',
  'lesionLab.showEvaluation',
  'lesionLab.showRuns',
  'lesionLab.selectEngine',
  'lesionLab.showEngines',
  'lesionLab.createDemoData',
  'lesionLab.openRun',
  'lesionLab.crossValidate',
  'lesionLab.runSweep',
  'lesionLab.openSweep',
] as const;
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

/** What any view may send. */
export type CommonToHost =
  /** The webview has loaded and wants a full state snapshot. */
  | { type: 'ready'; view: ViewKind }
  | { type: 'command/run'; command: WebviewCommand; args?: string[] }
  | { type: 'file/open'; path: string };

export type WebviewToHost = CommonToHost | SidebarToHost | TrainingToHost | SamplesToHost | AugmentPreviewToHost | PredictionToHost | RunsToHost | EvaluationToHost | SweepToHost;

/** Every request a view can make: its params and the result its response carries. */
export type WebviewRequests = SidebarRequests;
export type WebviewRequestType = keyof WebviewRequests;
/** The requests among the messages (they carry an `id` the response echoes). */
export type WebviewRequest = Extract<WebviewToHost, { type: WebviewRequestType }>;

/** Host → view: the answer to request `id`. */
export type IpcResponse = { type: 'response'; id: string; ok: true; result: unknown } | { type: 'response'; id: string; ok: false; error: string };

export type StateNotification = SidebarToView | DatasetToView | TrainingToView | EvaluationToView | SamplesToView | AugmentPreviewToView | PredictionToView | RunsToView | LrFinderToView | SweepToView;
export type HostToWebview = StateNotification | IpcResponse;

const viewKind = literal('sidebar', 'dataset', 'samples', 'training', 'evaluation', 'prediction', 'augmentPreview', 'runs', 'lrFinder', 'sweep');
const commonToHostSchemas: Record<CommonToHost['type'], Check> = {
  ready: obj({ view: viewKind }),
  'command/run': obj({ command: literal(...WEBVIEW_COMMANDS), args: optional(arrayOf(str)) }),
  'file/open': obj({ path: nonEmpty }),
};

/** What each view may send: the common messages plus its own. */
const toHostSchemas: Record<ViewKind, Readonly<Record<string, Check>>> = {
  sidebar: { ...commonToHostSchemas, ...sidebarToHostSchemas },
  dataset: commonToHostSchemas,
  samples: { ...commonToHostSchemas, ...samplesToHostSchemas },
  training: { ...commonToHostSchemas, ...trainingToHostSchemas },
  evaluation: { ...commonToHostSchemas, ...evaluationToHostSchemas },
  prediction: { ...commonToHostSchemas, ...predictionToHostSchemas },
  augmentPreview: { ...commonToHostSchemas, ...augmentPreviewToHostSchemas },
  runs: { ...commonToHostSchemas, ...runsToHostSchemas },
  lrFinder: commonToHostSchemas,
  sweep: { ...commonToHostSchemas, ...sweepToHostSchemas },
};

// Every message type has a schema (a compile error otherwise), and each is some view's.
const allToHostSchemas: Record<WebviewToHost['type'], Check> = {
  ...commonToHostSchemas,
  ...sidebarToHostSchemas,
  ...trainingToHostSchemas,
  ...samplesToHostSchemas,
  ...augmentPreviewToHostSchemas,
  ...predictionToHostSchemas,
  ...runsToHostSchemas,
  ...evaluationToHostSchemas,
  ...sweepToHostSchemas,
};

/** Checks a message from the `view` webview against that view's protocol. */
export function validateWebviewToHost(view: ViewKind, value: unknown): Validated<WebviewToHost> {
  const own = toHostSchemas[view];
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !(type in own) && type in allToHostSchemas) {
    return { ok: false, error: `the ${view} view sent "${type}", which belongs to another view's protocol` };
  }
  return validateTagged<WebviewToHost>(own as Record<WebviewToHost['type'], Check>, value, `${view} view message`);
}

/** The request id of a message that claims to be a request, even a malformed one, so it can be answered. */
export function requestId(value: unknown): string | undefined {
  const m = value as { type?: unknown; id?: unknown } | null;
  return typeof m === 'object' && m !== null && typeof m.id === 'string' && m.id.length > 0 ? m.id : undefined;
}

const responseSchema: Check = (v, p) =>
  exact({ type: str, id: nonEmpty, ok: bool, result: unknownValue, error: optional(str) })(v, p) ??
  ((v as { ok: boolean }).ok || typeof (v as { error?: unknown }).error === 'string' ? undefined : `${p}.error should say why the request failed`);

const toViewSchemas: Record<ViewKind, Readonly<Record<string, Check>>> = {
  sidebar: sidebarToViewSchemas,
  dataset: datasetToViewSchemas,
  samples: samplesToViewSchemas,
  training: trainingToViewSchemas,
  evaluation: evaluationToViewSchemas,
  prediction: predictionToViewSchemas,
  augmentPreview: augmentPreviewToViewSchemas,
  runs: runsToViewSchemas,
  lrFinder: lrFinderToViewSchemas,
  sweep: sweepToViewSchemas,
};

/** Webviews validate what they receive too: a stale or foreign message must not break a view. */
export function validateHostToWebview(view: ViewKind, value: unknown): Validated<HostToWebview> {
  return validateTagged<HostToWebview>({ ...toViewSchemas[view], response: responseSchema } as Record<HostToWebview['type'], Check>, value, `host message to the ${view} view`);
}
