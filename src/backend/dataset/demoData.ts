import type { DemoDataOptions } from '../../shared/protocol';
import { UserError } from '../errors';
import type { JobContext } from '../job';

// Placeholder until this step of the workflow lands; the command exists and says so honestly.
export async function writeDemoData(_options: DemoDataOptions, _ctx: JobContext): Promise<void> {
  throw new UserError('`demo-data` is not available in this version of Lesion Lab yet.');
}
