import type { AugmentOptions } from '../../shared/protocol';
import { UserError } from '../errors';
import type { JobContext } from '../job';

// Placeholder until this step of the workflow lands; the command exists and says so honestly.
export async function augmentDataset(_options: AugmentOptions, _ctx: JobContext): Promise<void> {
  throw new UserError('`augment` is not available in this version of Lesion Lab yet.');
}
