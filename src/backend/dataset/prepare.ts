import type { PrepareOptions } from '../../shared/protocol';
import { UserError } from '../errors';
import type { JobContext } from '../job';

// Placeholder until this step of the workflow lands; the command exists and says so honestly.
export async function prepareDataset(_options: PrepareOptions, _ctx: JobContext): Promise<void> {
  throw new UserError('`prepare` is not available in this version of Lesion Lab yet.');
}
