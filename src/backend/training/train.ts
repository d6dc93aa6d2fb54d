import type { TrainOptions } from '../../shared/protocol';
import { UserError } from '../errors';
import type { JobContext } from '../job';

// Placeholder until this step of the workflow lands; the command exists and says so honestly.
export async function train(_options: TrainOptions, _ctx: JobContext): Promise<void> {
  throw new UserError('`train` is not available in this version of Lesion Lab yet.');
}
