/**
 * `executor.json` in a sweep folder: which executor ran the tasks, with which options, every submission (Slurm's job
 * ids and the array indices each covered), and the tasks a person cancelled (never resubmitted unless asked).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { writeJsonAtomic } from '../fsAtomic';
import type { ExecutorOptions } from './executor';
import type { SweepFolder } from './sweepFolder';

export interface Submission {
  /** Slurm's array job id; absent for the local executor. */
  jobId?: string;
  indices: number[];
  at: string;
}

export interface ExecutorRecord {
  options: ExecutorOptions;
  submissions: Submission[];
  cancelled: number[];
  /** The process that runs a local sweep, and where. */
  pid?: number;
  host?: string;
}

export async function readExecutorRecord(folder: SweepFolder): Promise<ExecutorRecord | undefined> {
  return fs.readFile(folder.executor, 'utf8').then(
    (t) => JSON.parse(t) as ExecutorRecord,
    () => undefined,
  );
}

/** Re-reads, changes and writes the record atomically. */
export async function updateExecutorRecord(folder: SweepFolder, options: ExecutorOptions, change: (r: ExecutorRecord) => void): Promise<ExecutorRecord> {
  const record = (await readExecutorRecord(folder)) ?? { options, submissions: [], cancelled: [] };
  record.options = { ...record.options, ...options };
  change(record);
  await writeJsonAtomic(folder.executor, record);
  return record;
}

/** Tasks submitted again are no longer "cancelled by a person". */
export function recordSubmission(record: ExecutorRecord, submission: Submission): void {
  record.submissions.push(submission);
  record.cancelled = record.cancelled.filter((i) => !submission.indices.includes(i));
}

export const thisHost = (): string => os.hostname();
