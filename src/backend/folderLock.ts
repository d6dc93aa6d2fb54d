/**
 * One writer per folder: `prepare` and `augment` (on a prepared folder) and `train` (on a run folder) hold
 * `<folder>/.lesion-lab.lock` — pid, start time, host and command — for as long as they write there. A second
 * process refuses at once, saying who holds the folder and since when, instead of both swapping folders under
 * each other (ENOENT/ENOTEMPTY mid-run, or the last one silently winning).
 *
 * A lock whose process is gone (killed, crashed, the machine rebooted) is stale and taken over: on this host the
 * pid is checked, and on Linux also the process's start time, so a recycled pid does not keep a dead lock alive.
 * A lock from another host (a shared network folder) cannot be checked and is respected.
 */
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FolderLockInfo } from '../shared/folderLock';
import { LOCK_FILE, describeLockHolder, parseFolderLock } from '../shared/folderLock';
import { UserError } from './errors';
import type { JobContext } from './job';

export interface FolderLock {
  readonly file: string;
  /** The lock it replaced, when that one's process was gone. */
  readonly tookOver?: FolderLockInfo;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Create the folder if it is missing (prepare's --out), rather than fail. */
  create?: boolean;
}

/** Process start time from /proc (Linux); undefined elsewhere or when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `info` still runs; undefined when this host cannot tell (another host). */
export function lockHolderAlive(info: FolderLockInfo): boolean | undefined {
  if (info.host !== os.hostname()) return undefined;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  if (info.processStart === undefined) return true;
  const now = processStartTime(info.pid);
  return now === undefined || now === info.processStart;
}

/** Whether a pid of this host runs (for leftovers named after the process that made them). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readFolderLock(dir: string): Promise<FolderLockInfo | undefined> {
  return parseFolderLock(await fs.readFile(path.join(dir, LOCK_FILE), 'utf8').catch(() => ''));
}

/**
 * Takes `dir`'s lock for `command`, or throws a UserError naming the process that holds it. `dir` must exist.
 * `what` says what the folder is, for the message ("the prepared folder").
 */
export async function acquireFolderLock(dir: string, command: string, what: string, opts: LockOptions = {}): Promise<FolderLock> {
  const file = path.join(dir, LOCK_FILE);
  const mine: FolderLockInfo = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    command,
    // Forked with an IPC channel: the extension's backend.
    from: process.send ? 'VS Code' : 'the command line',
    processStart: processStartTime(process.pid),
  };
  const text = JSON.stringify(mine, null, 2) + '\n';
  let tookOver: FolderLockInfo | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      // 'wx': created only if absent — of two processes, exactly one succeeds.
      await fs.writeFile(file, text, { flag: 'wx' });
      return { file, ...(tookOver ? { tookOver } : {}), release: () => releaseLock(file, mine) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The folder went away (a failed prepare removes the --out it created): make it again and retry.
      if (code === 'ENOENT' && opts.create) {
        await fs.mkdir(dir, { recursive: true });
        continue;
      }
      if (code === 'ENOENT') throw new UserError(`${what} ${dir} does not exist. Check the path.`);
      if (code !== 'EEXIST') throw err;
    }
    const holder = await readFolderLock(dir);
    if (!holder) {
      // Being written this very moment, or damaged: wait a little, then treat a damaged old one as stale.
      const age = await fs.stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age < 2000) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      await removeStale(file, undefined);
      continue;
    }
    const alive = lockHolderAlive(holder);
    if (alive === false) {
      tookOver = holder;
      await removeStale(file, holder);
      continue;
    }
    const remote = alive === undefined ? ` Lesion Lab cannot check a process on another host; if it is no longer running, delete ${file}.` : '';
    throw new UserError(`${what} ${dir} is in use by ${describeLockHolder(holder)}. Wait for it to finish (or stop it), then run this again.${remote}`);
  }
  throw new UserError(`Could not take the lock ${file}: other processes keep taking it. Run one Lesion Lab command at a time on ${dir}.`);
}

/**
 * Removes a stale lock. Another process may have replaced it between our look and now: the lock is moved aside
 * first and put back if it is not the one judged stale.
 */
async function removeStale(file: string, judged: FolderLockInfo | undefined): Promise<void> {
  const aside = `${file}.stale-${process.pid}`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => '');
  const info = parseFolderLock(moved);
  // Unreadable is what we judged damaged; otherwise it must be the very lock judged stale.
  const same = info === undefined ? judged === undefined : judged !== undefined && info.pid === judged.pid && info.startedAt === judged.startedAt;
  if (!same) await fs.link(aside, file).catch(() => undefined); // a live lock taken in between: put it back
  await fs.rm(aside, { force: true });
}

async function releaseLock(file: string, mine: FolderLockInfo): Promise<void> {
  const info = parseFolderLock(await fs.readFile(file, 'utf8').catch(() => ''));
  // Never remove a lock another process holds now.
  if (info && info.pid === mine.pid && info.startedAt === mine.startedAt) await fs.rm(file, { force: true });
}

/** Runs `work` holding `dir`'s lock (see acquireFolderLock); says so when it took over a dead process's lock. */
export async function withFolderLock<T>(dir: string, command: string, what: string, ctx: JobContext, work: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireFolderLock(dir, command, what, opts);
  if (lock.tookOver) ctx.emit({ type: 'log', level: 'info', message: `${dir}: took over the lock of ${describeLockHolder(lock.tookOver)}, which is no longer running` });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** Refuses to read `dir` while a live process writes it (train on a folder being prepared or augmented). */
export async function assertNotBeingWritten(dir: string, what: string): Promise<void> {
  const holder = await readFolderLock(dir);
  if (holder && lockHolderAlive(holder) !== false) {
    throw new UserError(`${what} ${dir} is being written by ${describeLockHolder(holder)}. Wait for it to finish, then run this again.`);
  }
}
