/** What a task's run folder says about it: its status, epochs so far, and its latest and best validation figures. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../shared/runConfig';
import { parseMetricsJsonl } from '../../shared/runFiles';
import type { EpochMetrics } from '../../shared/protocol/results';

export const VAL_PREDICTIONS_FILE = 'val-predictions.json';

export interface RunProgress {
  /** status.json's word, or undefined when the run has not started. */
  status?: 'running' | 'finished' | 'failed' | 'cancelled';
  error?: string;
  epochs: EpochMetrics[];
  epochsTotal?: number;
  /** The task wrote its validation predictions: it is complete. */
  predicted: boolean;
}

const readJson = async <T>(file: string): Promise<T | undefined> =>
  fs.readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as T,
    () => undefined,
  );

export async function readRunProgress(runDir: string): Promise<RunProgress> {
  const [status, config, metrics, predicted] = await Promise.all([
    readJson<{ status: RunProgress['status']; error?: string }>(path.join(runDir, 'status.json')),
    readJson<RunConfig>(path.join(runDir, 'config.json')),
    fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8').catch(() => ''),
    fs.access(path.join(runDir, VAL_PREDICTIONS_FILE)).then(
      () => true,
      () => false,
    ),
  ]);
  const o = config?.options;
  const epochsTotal = o ? (o.phase === 'both' ? o.epochs + (o.finetuneEpochs ?? o.epochs) : o.phase === 'finetune' ? (o.finetuneEpochs ?? o.epochs) : o.epochs) : undefined;
  return { status: status?.status, ...(status?.error ? { error: status.error } : {}), epochs: parseMetricsJsonl(metrics), ...(epochsTotal ? { epochsTotal } : {}), predicted };
}

/** The epoch whose checkpoint is "best": the highest validation balanced accuracy, the earliest among equals (as training keeps it). */
export function bestEpoch(epochs: readonly EpochMetrics[]): EpochMetrics | undefined {
  return epochs.reduce<EpochMetrics | undefined>((best, m) => (!best || m.valBalancedAccuracy > best.valBalancedAccuracy ? m : best), undefined);
}
