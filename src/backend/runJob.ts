import type { JobStatus } from '../shared/protocol/backend';
import type { JobRequest } from '../shared/protocol/jobs';
import { EXIT } from '../shared/protocol/backend';
import { UserError, isCancellation } from './errors';
import type { JobContext } from './job';

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

