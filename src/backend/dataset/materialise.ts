/**
 * Puts each chosen image at its place in the prepared layout (`train/<dx>/<image_id>.jpg` …) as a hard
 * link (no extra disk space; the bytes are shared with the original, so nothing may write through it —
 * prepare and the later steps only ever create new files), a symbolic link, or a copy. Hard links
 * cannot cross file systems: then the remaining files are copied and the manifest says so.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { LinkMode } from '../../shared/protocol/jobs';
import { throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';

export interface Placement {
  /** Absolute path of the original. */
  source: string;
  /** Path relative to the prepared folder, `/`-separated. */
  file: string;
}

export interface MaterialiseResult {
  /** The mode that describes every file: the requested one, or `copy` when hard links had to fall back. */
  materialisedWith: LinkMode;
  copiedInsteadOfLinked: number;
}

// Errors that mean "this file system will not hard-link here", not "something is broken".
const NO_HARD_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);
const IN_FLIGHT = 16;

export async function materialise(placements: readonly Placement[], dir: string, mode: LinkMode, ctx: JobContext): Promise<MaterialiseResult> {
  const dirs = new Set(placements.map((p) => path.dirname(path.join(dir, ...p.file.split('/')))));
  for (const d of [...dirs].sort()) await fs.mkdir(d, { recursive: true });
  const progress = new ProgressReporter(ctx.emit, 'link', placements.length, 'file');
  progress.update(0, true);
  let hardLinksWork = mode === 'hard';
  let copied = 0;
  let next = 0;
  let done = 0;
  const place = async (p: Placement): Promise<void> => {
    const target = path.join(dir, ...p.file.split('/'));
    if (mode === 'symlink') return fs.symlink(p.source, target);
    if (hardLinksWork) {
      try {
        return await fs.link(p.source, target);
      } catch (err) {
        if (!NO_HARD_LINK.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        hardLinksWork = false;
      }
    }
    if (mode === 'hard') copied++;
    // A reflink where the file system offers one (btrfs, XFS, APFS), else a plain copy.
    await fs.copyFile(p.source, target, constants.COPYFILE_FICLONE);
  };
  const worker = async (): Promise<void> => {
    while (next < placements.length) {
      throwIfCancelled(ctx.signal);
      await place(placements[next++]!);
      progress.update(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, placements.length) }, worker));
  throwIfCancelled(ctx.signal);
  progress.update(done, true);
  return { materialisedWith: copied > 0 ? 'copy' : mode, copiedInsteadOfLinked: copied };
}
