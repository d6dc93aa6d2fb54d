/**
 * What every backend stage imports: the job's context (emit, cancel signal), progress reporting and a
 * cancellable sleep. A leaf: it imports no stage, so no stage can import itself back through it
 * (the runner that dispatches to the stages is runJob.ts).
 */
import type { BackendEvent } from '../shared/protocol/backend';
import { CancelledError, throwIfCancelled } from './errors';

export type Emit = (event: BackendEvent) => void;

/** What every command receives: a way to report, and a way to be stopped. */
export interface JobContext {
  emit: Emit;
  signal: AbortSignal;
}

/** Reports `done/total` with rate and ETA, at most every `intervalMs` (and always at the end). */
export class ProgressReporter {
  private readonly started = Date.now();
  private lastEmit = 0;

  constructor(
    private readonly emit: Emit,
    private readonly task: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly intervalMs = 250,
  ) {}

  update(done: number, force = false): void {
    const now = Date.now();
    if (!force && done < this.total && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : undefined;
    const etaSeconds = rate && rate > 0 ? Math.max(0, (this.total - done) / rate) : undefined;
    this.emit({ type: 'progress', task: this.task, done, total: this.total, unit: this.unit, rate, etaSeconds });
  }
}

/** Resolves after `ms`, or rejects with CancelledError as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    throwIfCancelled(signal);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
