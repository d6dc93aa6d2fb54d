/**
 * Atomic writes: a reader (or a crash) sees the old file or the new one, never half of one.
 * Write to a temporary sibling, fsync, then rename over the target.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crashPoint } from './crashPoints';

let counter = 0;
/** The temporary sibling a write to `target` goes to first (a dot-file, `.tmp-` in its name). */
export const atomicTempPath = (target: string): string => path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${++counter}`);
const tempName = atomicTempPath;

export interface AtomicWriteOptions {
  /**
   * fsync before the rename (default). Bulk outputs that are cheap to regenerate (thousands of JPEGs)
   * skip it: a kill still leaves the old file or the new one, only a power loss could truncate one.
   */
  sync?: boolean;
}

export async function writeFileAtomic(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = tempName(target);
  try {
    if (options.sync === false) {
      await fs.writeFile(temp, data);
    } else {
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replaces a whole directory atomically: `fill(tempDir)` writes the new contents, then the old
 * directory is moved aside and the new one renamed into place. A crash in between leaves the
 * previous directory (or its `.old` copy) intact.
 */
export async function replaceDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = tempName(target);
  await fs.rm(temp, { recursive: true, force: true });
  await fs.mkdir(temp, { recursive: true });
  try {
    await fill(temp);
  } catch (err) {
    await fs.rm(temp, { recursive: true, force: true });
    throw err;
  }
  await swapInDirectory(target, temp);
}

/** Puts the complete directory `fresh` at `target`: the old one is moved aside first, then removed. */
export async function swapInDirectory(target: string, fresh: string): Promise<void> {
  const old = `${target}.old-${process.pid}`;
  let hadOld = false;
  try {
    await fs.rename(target, old);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  crashPoint('directory-swap'); // the moment only `<target>.old-<pid>` holds the previous contents
  await fs.rename(fresh, target);
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}
