/**
 * Where prepare may write. The dataset folder is never written to, so the output folder may not be
 * it, lie inside it, or contain it (compared after resolving symbolic links). An existing output
 * folder must be one prepare wrote before (or empty): prepare replaces train/ and val/ there, and will
 * not do that to a folder it does not own.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { LOCK_FILE } from '../../shared/folderLock';
import { MANIFEST_FILE } from './manifest';

/** Names prepare itself creates inside an output folder before a manifest exists. */
export const OWN_HIDDEN_PREFIXES = ['.extracted', '.prepare-', LOCK_FILE];

export async function resolvePrepareFolders(dataArg: string, outArg: string): Promise<{ data: string; out: string }> {
  const data = path.resolve(dataArg);
  const out = path.resolve(outArg);
  const stat = await fs.stat(data).catch(() => undefined);
  if (!stat) throw new UserError(`The dataset folder ${data} does not exist. Check --data, or get a dataset with \`lesion-lab download\` or \`lesion-lab demo-data\`.`);
  if (!stat.isDirectory()) throw new UserError(`--data ${data} is a file, not a folder. Point --data at the folder that holds the metadata file and the images.`);
  const realData = await fs.realpath(data);
  const realOut = await realpathOfNearest(out);
  if (realOut === realData) {
    throw new UserError(`--out ${out} is the dataset folder itself. Prepare never writes into the dataset; choose another folder, e.g. ${data}-prepared.`);
  }
  if (isInside(realData, realOut)) {
    throw new UserError(
      `--out ${out} is inside the dataset folder ${data}. Prepare never writes into the dataset; choose a folder outside it, e.g. ${data}-prepared.`,
    );
  }
  if (isInside(realOut, realData)) {
    throw new UserError(`--out ${out} contains the dataset folder ${data}; replacing its contents could touch the dataset. Choose a separate folder.`);
  }
  const outStat = await fs.stat(out).catch(() => undefined);
  if (outStat && !outStat.isDirectory()) throw new UserError(`--out ${out} is a file. Choose a folder (it is created if missing).`);
  if (outStat) {
    const entries = await fs.readdir(out);
    const foreign = entries.filter((e) => !OWN_HIDDEN_PREFIXES.some((p) => e.startsWith(p)));
    if (foreign.length > 0 && !entries.includes(MANIFEST_FILE)) {
      throw new UserError(
        `--out ${out} already holds other files (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}) and is not a prepared dataset (no ${MANIFEST_FILE}). ` +
          'Choose a new or empty folder; prepare replaces train/ and val/ in it.',
      );
    }
  }
  return { data, out };
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** realpath of a path that may not exist yet: resolve its nearest existing ancestor. */
async function realpathOfNearest(p: string): Promise<string> {
  const rest: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return p;
      rest.push(path.basename(current));
      current = parent;
    }
  }
}
