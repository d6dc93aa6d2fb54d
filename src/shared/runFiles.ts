/** Reading what a run folder holds, shared by the backend (resume) and the extension (panels). */
import type { BatchMetrics, EpochMetrics } from './protocol/results';

/** metrics.jsonl: one epoch per line. A line cut short by a crash is skipped, the rest kept. */
export function parseMetricsJsonl(text: string): EpochMetrics[] {
  return parseJsonLines<EpochMetrics>(text);
}

/** batches.jsonl: one training batch per line (the per-batch curves). A line cut short by a crash is skipped. */
export function parseBatchesJsonl(text: string): BatchMetrics[] {
  return parseJsonLines<BatchMetrics>(text).filter((b) => typeof b.step === 'number' && typeof b.epoch === 'number');
}

function parseJsonLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // partial last line
    }
  }
  return out;
}
