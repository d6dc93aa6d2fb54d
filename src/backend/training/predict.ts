import type { PredictOptions } from '../../shared/protocol';
import { UserError } from '../errors';
import type { JobContext } from '../job';

// Placeholder until this step of the workflow lands; the command exists and says so honestly.
export async function predict(_options: PredictOptions, _ctx: JobContext): Promise<void> {
  throw new UserError('`predict` is not available in this version of Lesion Lab yet.');
}
