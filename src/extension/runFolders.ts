/**
 * Reads run folders (written by `lesion-lab train`, from VS Code or the headless CLI) so panels can
 * show any run — live, finished or crashed — from what is on disk.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetSummary, EpochMetrics, Evaluation } from '../shared/protocol';
import type { RunSummary } from './state';

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function readMetrics(run: string): Promise<EpochMetrics[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: EpochMetrics[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as EpochMetrics);
    } catch {
      // a line cut short by a crash: skip it, keep the rest
    }
  }
  return out;
}

export function readEvaluation(run: string): Promise<Evaluation | undefined> {
  return readJson<Evaluation>(path.join(run, 'evaluation.json'));
}

export async function readRunStatus(run: string): Promise<string> {
  const status = await readJson<{ status?: string }>(path.join(run, 'status.json'));
  return status?.status ?? 'unknown';
}

export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(runsDir);
  } catch {
    return [];
  }
  const runs: RunSummary[] = [];
  for (const name of entries.sort()) {
    const dir = path.join(runsDir, name);
    if (!(await readJson(path.join(dir, 'config.json')))) continue;
    const metrics = await readMetrics(dir);
    const best = metrics.reduce<number | undefined>((b, m) => (b === undefined || m.valBalancedAccuracy > b ? m.valBalancedAccuracy : b), undefined);
    runs.push({ path: dir, name, epochs: metrics.length, bestValBalancedAccuracy: best, status: await readRunStatus(dir) });
  }
  return runs;
}

export async function readDatasetSummary(prepared: string): Promise<DatasetSummary | undefined> {
  const manifest = await readJson<{ summary?: DatasetSummary }>(path.join(prepared, 'manifest.json'));
  return manifest?.summary;
}
