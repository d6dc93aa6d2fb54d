/**
 * `<folder>/.lesion-lab.lock`: which process writes a prepared or run folder right now. The backend takes and
 * releases it (backend/folderLock.ts); the extension reads it to show a job already running on a folder.
 */
export const LOCK_FILE = '.lesion-lab.lock';

export interface FolderLockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** What holds it, e.g. "prepare --data … --out …". */
  command: string;
  /** Who started it: "VS Code" or "the command line". */
  from?: string;
  /** The process's start time as the kernel counts it (Linux: clock ticks after boot), to tell a recycled pid. */
  processStart?: string;
}

export function parseFolderLock(text: string): FolderLockInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<FolderLockInfo>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.startedAt === 'string' && typeof value.command === 'string' ? (value as FolderLockInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** "`prepare --data … --out …` (pid 123 on host, from the command line, started 04/12/2026, 12:01:02, 3 min ago)". */
export function describeLockHolder(info: FolderLockInfo, now = Date.now()): string {
  const started = new Date(info.startedAt);
  const ago = Math.max(0, Math.round((now - started.getTime()) / 1000));
  const since = ago < 90 ? `${ago} s ago` : ago < 5400 ? `${Math.round(ago / 60)} min ago` : `${(ago / 3600).toFixed(1)} h ago`;
  const when = Number.isNaN(started.getTime()) ? info.startedAt : `${started.toLocaleString('en-GB')}, ${since}`;
  return `\`${info.command}\` (pid ${info.pid} on ${info.host}${info.from ? `, from ${info.from}` : ''}, started ${when})`;
}
