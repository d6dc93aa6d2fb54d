/** Reading what a run folder holds, shared by the backend (resume) and the extension (panels). */
import type { EpochMetrics } from './protocol/results';

/** metrics.jsonl: one epoch per line. A line cut short by a crash is skipped, the rest kept. */
export function parseMetricsJsonl(text: string): EpochMetrics[] {
  const out: EpochMetrics[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as EpochMetrics);
    } catch {
      // partial last line
    }
  }
  return out;
}
