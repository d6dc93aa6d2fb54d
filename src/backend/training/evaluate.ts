import type { EvaluateOptions } from '../../shared/protocol';
import { UserError } from '../errors';
import type { JobContext } from '../job';

// Placeholder until this step of the workflow lands; the command exists and says so honestly.
export async function evaluateRun(_options: EvaluateOptions, _ctx: JobContext): Promise<void> {
  throw new UserError('`evaluate` is not available in this version of Lesion Lab yet.');
}
