/**
 * Before a job starts: is another Lesion Lab process (the CLI, another VS Code window) already writing the
 * folder it would write? The backend holds `<folder>/.lesion-lab.lock` while it writes and would refuse; asking
 * first lets the extension show that job instead of starting a second one that fails.
 */
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FolderLockInfo } from '../shared/folderLock';
import { LOCK_FILE, describeLockHolder, parseFolderLock } from '../shared/folderLock';
import type { JobRequest } from '../shared/protocol/jobs';
import { processAlive } from './runFolders';

/** The folders a job writes (and, for training, the prepared folder it reads), as the backend locks them. */
export function foldersOf(request: JobRequest): { folder: string; what: string }[] {
  if (request.command === 'prepare') return [{ folder: request.options.out, what: 'the output folder' }];
  if (request.command === 'augment') return [{ folder: request.options.prepared, what: 'the prepared folder' }];
  if (request.command === 'train') {
    const { run, prepared } = request.options;
    return [{ folder: run, what: 'the run folder' }, ...(prepared ? [{ folder: prepared, what: 'the prepared folder' }] : [])];
  }
  return [];
}

/** The lock's holder while it runs; a lock from another host is assumed held (it cannot be checked from here). */
export async function liveLockHolder(folder: string): Promise<FolderLockInfo | undefined> {
  const info = parseFolderLock(await fs.readFile(path.join(folder, LOCK_FILE), 'utf8').catch(() => ''));
  if (!info || info.host !== os.hostname()) return info;
  if (!processAlive(info.pid)) return undefined;
  // Linux: a recycled pid has another start time than the one the lock recorded.
  const stat = info.processStart ? readProcStat(info.pid) : undefined;
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === info.processStart ? info : undefined;
}

function readProcStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** What to tell the user when a folder of `request` is in use by another process; undefined when all are free. */
export async function folderInUse(request: JobRequest): Promise<string | undefined> {
  for (const { folder, what } of foldersOf(request)) {
    const holder = await liveLockHolder(folder);
    if (holder) return `Already running on ${what} ${folder}: ${describeLockHolder(holder)}. Wait for it to finish, or stop it, before starting another job there.`;
  }
  return undefined;
}
