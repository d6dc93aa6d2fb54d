import type { BackendEvent, JobRequest, JobStatus } from '../shared/protocol';
import { EXIT } from '../shared/protocol';
import { CancelledError, UserError, isCancellation, throwIfCancelled } from './errors';

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

/**
 * Runs one job to completion and always ends with a `job/didEnd` event. Failures become an
 * `error` event; only unexpected ones carry a stack trace, and then only in `detail`.
 */
export async function runJob(request: JobRequest, ctx: JobContext): Promise<number> {
  let status: JobStatus = 'done';
  let exitCode: number = EXIT.done;
  try {
    const { dispatch } = await import('./commands');
    await dispatch(request, ctx);
  } catch (err) {
    if (isCancellation(err) || ctx.signal.aborted) {
      status = 'cancelled';
      exitCode = EXIT.cancelled;
    } else {
      status = 'failed';
      exitCode = EXIT.failed;
      if (err instanceof UserError) {
        ctx.emit({ type: 'error', message: err.message, detail: err.detail });
      } else {
        const e = err instanceof Error ? err : new Error(String(err));
        ctx.emit({
          type: 'error',
          message: `${request.command} failed unexpectedly: ${e.message}. This is a bug in Lesion Lab; the log has the details.`,
          detail: e.stack,
        });
      }
    }
  }
  ctx.emit({ type: 'job/didEnd', status, exitCode });
  return exitCode;
}

export { CancelledError };
