import * as vscode from 'vscode';
import type { BackendEvent, JobStatus } from '../shared/protocol/backend';
import type { TrainingPanelState } from '../shared/protocol/views/training';
import path from 'node:path';
import { markerOf, readMarkers, readMetrics, readRunSetup, readRunStatus } from './runFolders';
import { assertNever } from '../shared/assertNever';

/**
 * The run the Training panel shows: live from backend events while training, or rebuilt from the
 * run folder (metrics.jsonl) when reopened, after a reload, or for a run trained by the CLI.
 */
export class TrainingSession implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  state: TrainingPanelState = { status: 'empty', epochs: [] };

  begin(run: string): void {
    this.state = { run, status: 'running', epochs: [], markers: [], compare: this.state.compare };
    this.changed.fire();
  }

  /** A resumed run: its finished epochs from disk, then live. */
  async resume(run: string): Promise<void> {
    const [epochs, markers, setup] = await Promise.all([readMetrics(run), readMarkers(run), readRunSetup(run)]);
    this.state = { run, status: 'running', epochs, markers, compare: this.state.compare, setup };
    this.changed.fire();
  }

  onEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'train/didStart': {
        // config.json (with the engine and precision actually used) is written just before this event.
        const run = this.state.run;
        void readRunSetup(e.run).then((setup) => {
          if (!setup || this.state.run !== run) return;
          this.state = { ...this.state, setup };
          this.changed.fire();
        });
        return;
      }
      case 'train/didEpoch':
        this.state = { ...this.state, epochs: [...this.state.epochs.filter((m) => m.epoch !== e.metrics.epoch), e.metrics] };
        break;
      case 'train/didCheckpoint':
      case 'train/didStopEarly': {
        const marker = markerOf(e);
        if (!marker) return;
        this.state = { ...this.state, markers: [...(this.state.markers ?? []).filter((m) => !(m.epoch === marker.epoch && m.kind === marker.kind)), marker] };
        break;
      }
      case 'train/didBatch':
        this.state = { ...this.state, batch: { phase: e.phase, epoch: e.epoch, batch: e.batch, batches: e.batches, rate: e.rate, etaSeconds: e.etaSeconds } };
        break;
      case 'log':
      case 'progress':
      case 'error':
      case 'engines/didDetect':
      case 'engine/didInstall':
      case 'demoData/didFinish':
      case 'download/didFinish':
      case 'prepare/didFinish':
      case 'dataset/didInspect':
      case 'augment/didFinish':
      case 'train/didFinish':
      case 'evaluate/didFinish':
      case 'predict/didFinish':
      case 'predict/didFailImage':
      case 'export/didFinish':
      case 'lrFind/didFinish':
      case 'weights/didCheck':
      case 'thumbnails/didRender':
      case 'augmentPreview/didRender':
      case 'job/didEnd':
        return; // the curves change only with epochs, batches, checkpoints and early stops
      default:
        assertNever(e, 'event');
    }
    this.changed.fire();
  }

  end(status: JobStatus): void {
    this.state = { ...this.state, status: status === 'done' ? 'finished' : status, batch: undefined };
    this.changed.fire();
  }

  async load(run: string): Promise<void> {
    const [epochs, status, markers, setup] = await Promise.all([readMetrics(run), readRunStatus(run), readMarkers(run), readRunSetup(run)]);
    const known = ['running', 'finished', 'failed', 'cancelled', 'interrupted'] as const;
    this.state = {
      run,
      epochs,
      markers,
      setup,
      status: (known as readonly string[]).includes(status) ? (status as (typeof known)[number]) : 'finished',
      compare: this.state.compare?.filter((c) => c.run !== run),
    };
    this.changed.fire();
  }

  /** Overlays other runs' curves (empty list: none). */
  async setCompare(runs: string[]): Promise<void> {
    const compare = await Promise.all(runs.filter((r) => r !== this.state.run).map(async (run) => ({ run, name: path.basename(run), epochs: await readMetrics(run) })));
    this.state = { ...this.state, compare };
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
