import * as vscode from 'vscode';
import type { EngineInfo, EngineSelection } from '../shared/protocol/engines';
import type { DatasetSummary, Evaluation } from '../shared/protocol/results';
import type { JobState, SidebarState } from '../shared/protocol/views/sidebar';

export interface RunSummary {
  path: string;
  name: string;
  bestValBalancedAccuracy?: number;
  epochs: number;
  status: string;
}

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
  evaluation?: { run: string; evaluation: Evaluation; thumbnails?: Record<string, string> };

  update(patch: Partial<Pick<LabState, 'engines' | 'enginesError' | 'dataset' | 'job' | 'runs' | 'evaluation'>>): void {
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
    };
  }

  dispose(): void {
    this.changed.dispose();
  }
}
