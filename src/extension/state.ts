import * as vscode from 'vscode';
import type { EngineInfo, EngineSelection } from '../shared/protocol/engines';
import type { DatasetSummary } from '../shared/protocol/results';
import type { JobState, RunFormDefaults, RunFormRequest, RunListItem, SidebarState, WeightsView } from '../shared/protocol/views/sidebar';
import { runFormDefaults } from './runDefaults';

/** A run folder as the side bar lists it. */
export type RunSummary = RunListItem;

/**
 * What the extension knows right now: engines, the prepared dataset, the running job, the runs.
 * Views render from snapshots of it; every change fires `onDidChange`.
 */
export class LabState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  engines?: { list: EngineInfo[]; selected: EngineSelection };
  enginesError?: string;
  dataset?: { path: string; summary: DatasetSummary };
  job?: JobState;
  runs: RunSummary[] = [];
  /** The settings' defaults for new runs (read again when a lesionLab.* setting changes). */
  runDefaults: RunFormDefaults = runFormDefaults();
  weights?: WeightsView;
  formRequest?: RunFormRequest;

  update(patch: Partial<Pick<LabState, 'engines' | 'enginesError' | 'dataset' | 'job' | 'runs' | 'runDefaults' | 'weights' | 'formRequest'>>): void {
    Object.assign(this, patch);
    this.changed.fire();
  }

  sidebarSnapshot(): SidebarState {
    return {
      engines: this.engines,
      enginesError: this.enginesError,
      dataset: this.dataset,
      job: this.job,
      runs: this.runs,
      trusted: vscode.workspace.isTrusted,
      runDefaults: this.runDefaults,
      weights: this.weights,
      formRequest: this.formRequest,
    };
  }

  dispose(): void {
    this.changed.dispose();
  }
}
