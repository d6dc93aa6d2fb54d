import type { Emit } from '../job';

/**
 * Progress of a transfer in bytes (unit 'byte'), throttled like ProgressReporter. The rate counts
 * only bytes moved since this reporter started, so resuming a half-done file does not inflate it.
 */
export class ByteProgress {
  private readonly started = Date.now();
  private baseline: number | undefined;
  private lastEmit = 0;

  constructor(
    private readonly emit: Emit,
    private readonly task: string,
    private readonly intervalMs = 250,
  ) {}

  update(done: number, total: number | undefined, force = false): void {
    this.baseline ??= done;
    const now = Date.now();
    const finished = total !== undefined && done >= total;
    if (!force && !finished && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    const seconds = (now - this.started) / 1000;
    const moved = done - this.baseline;
    const rate = seconds > 0 && moved > 0 ? moved / seconds : undefined;
    const etaSeconds = rate && total !== undefined ? Math.max(0, (total - done) / rate) : undefined;
    // An unknown size (no Content-Length) shows as done/done until the end.
    this.emit({ type: 'progress', task: this.task, done, total: total ?? done, unit: 'byte', rate, etaSeconds });
  }
}
