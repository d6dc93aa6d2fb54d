import type * as vscode from 'vscode';
import type { JobRunner } from './jobRunner';
import type { LabPanels } from './panels/labPanels';
import type { LabState } from './state';
import type { WeightsAvailability } from './weightsAvailability';

/** What command handlers need; passed explicitly instead of living in module globals. */
export interface LabContext {
  extension: vscode.ExtensionContext;
  state: LabState;
  jobs: JobRunner;
  panels: LabPanels;
  output: vscode.OutputChannel;
  /** Whether new runs can have their ImageNet weights (checked before a run starts, shown in the Run form). */
  weights: WeightsAvailability;
  /** The run shown in the Training and Evaluation panels. */
  currentRun?: string;
  /** Shows a run folder in the Training and Evaluation panels. */
  openRunFolder(run: string): Promise<void>;
  /** Shows a folder's evaluation reports in the Evaluation panel alone (a sweep folder's ensemble report). */
  openEvaluations(folder: string): Promise<void>;
}
