import * as vscode from 'vscode';
import type { BackendEvent, JobStatus, TrainingPanelState } from '../shared/protocol';
import { readMetrics, readRunStatus } from './runFolders';

/**
 * The run the Training panel shows: live from backend events while training, or rebuilt from the
 * run folder (metrics.jsonl) when reopened, after a reload, or for a run trained by the CLI.
 */
export class TrainingSession implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  state: TrainingPanelState = { status: 'empty', epochs: [] };

  begin(run: string): void {
    this.state = { run, status: 'running', epochs: [] };
    this.changed.fire();
  }

  /** A resumed run: its finished epochs from disk, then live. */
  async resume(run: string): Promise<void> {
    const epochs = await readMetrics(run);
    this.state = { run, status: 'running', epochs };
    this.changed.fire();
  }

  onEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'train/didEpoch':
        this.state = { ...this.state, epochs: [...this.state.epochs.filter((m) => m.epoch !== e.metrics.epoch), e.metrics] };
        break;
      case 'train/didBatch':
        this.state = { ...this.state, batch: { phase: e.phase, epoch: e.epoch, batch: e.batch, batches: e.batches, rate: e.rate, etaSeconds: e.etaSeconds } };
        break;
      default:
        return;
    }
    this.changed.fire();
  }

  end(status: JobStatus): void {
    this.state = { ...this.state, status: status === 'done' ? 'finished' : status, batch: undefined };
    this.changed.fire();
  }

  async load(run: string): Promise<void> {
    const [epochs, status] = await Promise.all([readMetrics(run), readRunStatus(run)]);
    const known = ['running', 'finished', 'failed', 'cancelled'] as const;
    this.state = { run, epochs, status: (known as readonly string[]).includes(status) ? (status as (typeof known)[number]) : 'finished' };
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
