import * as vscode from 'vscode';
import type { BackendEvent, JobStatus } from '../shared/protocol/backend';
import type { BatchMetrics } from '../shared/protocol/results';
import type { TrainingPanelState } from '../shared/protocol/views/training';
import { TRAINING_BATCH_POINTS } from '../shared/protocol/views/training';
import path from 'node:path';
import { markerOf, readBatches, readMarkers, readMetrics, readRunSetup, readRunStatus } from './runFolders';
import { assertNever } from '../shared/assertNever';

/**
 * The run the Training panel shows: live from backend events while training, or rebuilt from the
 * run folder (metrics.jsonl) when reopened, after a reload, or for a run trained by the CLI.
 */
export class TrainingSession implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  state: TrainingPanelState = { status: 'empty', epochs: [] };
  /** Every batch of the run shown (the panel gets them thinned); what Save as CSV writes. */
  private allBatches: BatchMetrics[] = [];

  begin(run: string): void {
    this.allBatches = [];
    this.state = { run, status: 'running', epochs: [], batches: [], markers: [], compare: this.state.compare };
    this.changed.fire();
  }

  /** A resumed run: its finished epochs from disk, then live. */
  async resume(run: string): Promise<void> {
    const [epochs, markers, setup, batches] = await Promise.all([readMetrics(run), readMarkers(run), readRunSetup(run), readBatches(run)]);
    // The epoch the run stopped in is trained again: its batches on disk are replaced as they come.
    this.allBatches = batches.filter((b) => epochs.some((m) => m.epoch === b.epoch));
    this.state = { run, status: 'running', epochs, markers, compare: this.state.compare, ...setup, batches: thinned(this.allBatches) };
    this.changed.fire();
  }

  /** The run's batches, all of them. */
  get batches(): readonly BatchMetrics[] {
    return this.allBatches;
  }

  onEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'train/didStart': {
        // config.json (with the engine and precision actually used) is written just before this event.
        const run = this.state.run;
        void readRunSetup(e.run).then((setup) => {
          if (!setup.setup || this.state.run !== run) return;
          this.state = { ...this.state, ...setup };
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
      case 'train/didBatch': {
        const first = e.points[0]?.step;
        // A resumed epoch starts again at its first batch: what was there from before goes.
        if (first !== undefined && this.allBatches.length && this.allBatches.at(-1)!.step >= first) this.allBatches = this.allBatches.filter((b) => b.step < first);
        this.allBatches.push(...e.points);
        this.state = { ...this.state, batches: thinned(this.allBatches), batch: { phase: e.phase, epoch: e.epoch, batch: e.batch, batches: e.batches, rate: e.rate, etaSeconds: e.etaSeconds } };
        break;
      }
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
      case 'sweep/didStatus':
      case 'sweep/didFinish':
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
    const [epochs, status, markers, setup, batches] = await Promise.all([readMetrics(run), readRunStatus(run), readMarkers(run), readRunSetup(run), readBatches(run)]);
    const known = ['running', 'finished', 'failed', 'cancelled', 'interrupted'] as const;
    this.allBatches = batches;
    this.state = {
      run,
      epochs,
      batches: thinned(batches),
      markers,
      ...setup,
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

  /** Shows nothing (the run shown was deleted). */
  clear(): void {
    this.allBatches = [];
    this.state = { status: 'empty', epochs: [] };
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** At most TRAINING_BATCH_POINTS batches, evenly spaced, the first and the last kept (a long run's curve keeps its shape). */
export function thinned(batches: BatchMetrics[]): BatchMetrics[] {
  if (batches.length <= TRAINING_BATCH_POINTS) return batches;
  const stride = batches.length / TRAINING_BATCH_POINTS;
  const out: BatchMetrics[] = [];
  for (let i = 0; i < TRAINING_BATCH_POINTS - 1; i++) out.push(batches[Math.floor(i * stride)]!);
  out.push(batches.at(-1)!);
  return out;
}
