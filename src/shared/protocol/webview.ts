/**
 * The webview side of the protocol, shared by every view: the handshake (a view announces `ready`, the
 * host answers with a full state snapshot), the messages any view may send, and the unions over every
 * view's own protocol (views/*.ts). A hidden webview keeps only the newest message, so the host always
 * sends whole snapshots, never deltas. Both directions are validated before use.
 */
import type { Check, Validated } from '../validate';
import { arrayOf, literal, obj, optional, str, validateTagged } from '../validate';
import type { AugmentPreviewToHost, AugmentPreviewToView } from './views/augmentPreview';
import { augmentPreviewToHostSchemas, augmentPreviewToViewSchemas } from './views/augmentPreview';
import type { DatasetToView } from './views/dataset';
import { datasetToViewSchemas } from './views/dataset';
import type { EvaluationToView } from './views/evaluation';
import { evaluationToViewSchemas } from './views/evaluation';
import type { PredictionToHost, PredictionToView } from './views/prediction';
import { predictionToHostSchemas, predictionToViewSchemas } from './views/prediction';
import type { SamplesToHost, SamplesToView } from './views/samples';
import { samplesToHostSchemas, samplesToViewSchemas } from './views/samples';
import type { SidebarToHost, SidebarToView } from './views/sidebar';
import { sidebarToHostSchemas, sidebarToViewSchemas } from './views/sidebar';
import type { TrainingToHost, TrainingToView } from './views/training';
import { trainingToHostSchemas, trainingToViewSchemas } from './views/training';

export type ViewKind = 'sidebar' | 'dataset' | 'samples' | 'training' | 'evaluation' | 'prediction' | 'augmentPreview';

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
  'lesionLab.showDataset',
  'lesionLab.showSamples',
  'lesionLab.showTraining',
  'lesionLab.showEvaluation',
  'lesionLab.selectEngine',
  'lesionLab.showEngines',
  'lesionLab.createDemoData',
  'lesionLab.openRun',
] as const;
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

/** What any view may send. */
export type CommonToHost =
  /** The webview has loaded and wants a full state snapshot. */
  | { type: 'ready'; view: ViewKind }
  | { type: 'command/run'; command: WebviewCommand; args?: string[] }
  | { type: 'file/open'; path: string };

export type WebviewToHost = CommonToHost | SidebarToHost | TrainingToHost | SamplesToHost | AugmentPreviewToHost | PredictionToHost;

export type HostToWebview = SidebarToView | DatasetToView | TrainingToView | EvaluationToView | SamplesToView | AugmentPreviewToView | PredictionToView;

const viewKind = literal('sidebar', 'dataset', 'samples', 'training', 'evaluation', 'prediction', 'augmentPreview');
const commonToHostSchemas: Record<CommonToHost['type'], Check> = {
  ready: obj({ view: viewKind }),
  'command/run': obj({ command: literal(...WEBVIEW_COMMANDS), args: optional(arrayOf(str)) }),
  'file/open': obj({ path: str }),
};

const webviewToHostSchemas: Record<WebviewToHost['type'], Check> = {
  ...commonToHostSchemas,
  ...sidebarToHostSchemas,
  ...trainingToHostSchemas,
  ...samplesToHostSchemas,
  ...augmentPreviewToHostSchemas,
  ...predictionToHostSchemas,
};

export function validateWebviewToHost(value: unknown): Validated<WebviewToHost> {
  return validateTagged<WebviewToHost>(webviewToHostSchemas, value, 'webview message');
}

const hostToWebviewSchemas: Record<HostToWebview['type'], Check> = {
  ...sidebarToViewSchemas,
  ...datasetToViewSchemas,
  ...trainingToViewSchemas,
  ...evaluationToViewSchemas,
  ...samplesToViewSchemas,
  ...augmentPreviewToViewSchemas,
  ...predictionToViewSchemas,
};

/** Webviews validate what they receive too: a stale or foreign message must not break a view. */
export function validateHostToWebview(value: unknown): Validated<HostToWebview> {
  return validateTagged<HostToWebview>(hostToWebviewSchemas, value, 'host message');
}
