/**
 * The freedesktop.org trash (Trash specification 1.0), where Linux file managers put what is deleted:
 * `$XDG_DATA_HOME/Trash` (else `~/.local/share/Trash`), the item under `files/` and a `.trashinfo` under
 * `info/` saying where it came from and when, so "Restore" in a file manager puts it back. VS Code's own
 * trash support exists only in the desktop app; a remote or browser-served workbench (code-server,
 * Remote - SSH) deletes for good, so Lesion Lab moves run folders here itself on Linux. No `vscode` here.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function homeTrashDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return path.join(dataHome, 'Trash');
}

/** `Path=` holds the original path URL-escaped, `/` kept (the specification's RFC 2396 escaping). */
export function trashInfo(original: string, deletedAt: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  // Local time, no zone: as the specification (and every file manager) writes it.
  const d = deletedAt;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `[Trash Info]\nPath=${original.split('/').map(encodeURIComponent).join('/')}\nDeletionDate=${date}\n`;
}

/**
 * Moves `target` (absolute) into the home trash and returns where it went. The `.trashinfo` is created first
 * and exclusively, which claims the name (`name`, `name.2`, …) against another program trashing at once. A
 * target on another filesystem than the trash cannot be renamed there: that throws (code EXDEV) and leaves
 * the target where it was.
 */
export async function moveToTrash(target: string, trashDir = homeTrashDir(), now = new Date()): Promise<string> {
  const files = path.join(trashDir, 'files');
  const info = path.join(trashDir, 'info');
  await fs.mkdir(files, { recursive: true, mode: 0o700 });
  await fs.mkdir(info, { recursive: true, mode: 0o700 });
  const base = path.basename(target);
  for (let n = 1; n < 10_000; n++) {
    const name = n === 1 ? base : `${base}.${n}`;
    const infoFile = path.join(info, `${name}.trashinfo`);
    try {
      await fs.writeFile(infoFile, trashInfo(path.resolve(target), now), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    const destination = path.join(files, name);
    try {
      // A name the info files do not know may still be taken in files/ (a trash some tool left half-written).
      if (await fs.lstat(destination).then(() => true, () => false)) throw Object.assign(new Error('taken'), { code: 'EEXIST' });
      await fs.rename(target, destination);
      return destination;
    } catch (err) {
      await fs.rm(infoFile, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
  }
  throw new Error(`The trash in ${trashDir} has no free name for ${base}.`);
}
