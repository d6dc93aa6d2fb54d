/**
 * Every image file under a folder, any number of levels down (within reason): what a folder per class
 * (`<root>/<class>/**`) and the layouts that name images in a table (ISIC 2020, a CSV of the user's) are
 * made of. Hidden entries are skipped; symbolic links are followed, and the depth limit stops a link loop.
 */
import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { throwIfCancelled } from '../errors';
import { isImageFileName } from './folderScan';

const MAX_DEPTH = 8;

export interface TreeImage {
  /** Absolute path. */
  path: string;
  /** Relative to the folder walked, `/`-separated. */
  rel: string;
}

export async function listImageTree(dir: string, signal: AbortSignal, maxDepth = MAX_DEPTH): Promise<TreeImage[]> {
  const out: TreeImage[] = [];
  const walk = async (abs: string, rel: string, depth: number): Promise<void> => {
    throwIfCancelled(signal);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(abs, e.name);
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      const kind = await entryKind(full, e);
      if (kind === 'dir' && depth < maxDepth) await walk(full, relPath, depth + 1);
      else if (kind === 'file' && isImageFileName(e.name)) out.push({ path: full, rel: relPath });
    }
  };
  await walk(dir, '', 0);
  return out;
}

/** The subfolders of `dir` (hidden ones left out), sorted by name. */
export async function listSubfolders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  const names: string[] = [];
  for (const e of entries) if (!e.name.startsWith('.') && (await entryKind(path.join(dir, e.name), e)) === 'dir') names.push(e.name);
  return names.sort();
}

async function entryKind(full: string, e: Dirent): Promise<'dir' | 'file' | 'other'> {
  if (e.isDirectory()) return 'dir';
  if (e.isFile()) return 'file';
  if (!e.isSymbolicLink()) return 'other';
  const st = await fs.stat(full).catch(() => undefined);
  return st?.isDirectory() ? 'dir' : st?.isFile() ? 'file' : 'other';
}
