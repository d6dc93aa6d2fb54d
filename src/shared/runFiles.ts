/** Reading what a run folder holds, shared by the backend (resume) and the extension (panels). */
import type { BatchMetrics, EpochMetrics, Evaluation } from './protocol/results';

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

/** The validation report, written over on every validation evaluate. */
export const VALIDATION_REPORT = 'evaluation.json';

/**
 * The report file of an evaluated set: evaluation.json for the run's validation split, evaluation-test.json
 * for its test split, evaluation-<name>.json for another prepared folder. Never one for two sets.
 */
export function evaluationReportFile(setId: string): string {
  return setId === 'val' ? VALIDATION_REPORT : `evaluation-${setId}.json`;
}

/**
 * An ensemble's report (`evaluate --ensemble`), in the sweep folder or the --out folder: shown in the Evaluation
 * panel beside that folder's own reports, never in a member run's model card (it is not that run's figure).
 */
export const ENSEMBLE_REPORT = 'ensemble-evaluation.json';

/** Whether a file name in a run folder is an evaluation report. */
export function isEvaluationReport(name: string): boolean {
  return name === VALIDATION_REPORT || /^evaluation-[A-Za-z0-9._-]+\.json$/.test(name);
}

/** A set id from a folder name: letters, digits, dot, dash and underscore, never "val" or "test" (the run's own). */
export function externalSetId(folderName: string, split: 'val' | 'test'): string {
  const slug = folderName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'data';
  const id = split === 'test' ? slug : `${slug}-val`;
  return id === 'val' || id === 'test' ? `data-${id}` : id;
}

/** A report as read from `name`: one from before sets were named is the validation report. */
export function withEvaluatedSet(name: string, report: Evaluation): Evaluation {
  return report.set ? report : { ...report, set: { id: 'val', kind: 'validation', report: name, prepared: '', usedForSelection: true } };
}

/** Validation first, then the run's test split, then other sets by name. */
export function orderEvaluationReports(reports: Evaluation[]): Evaluation[] {
  const rank = (e: Evaluation): string => (e.set?.id === 'val' ? '0' : e.set?.id === 'test' ? '1' : `2${e.set?.id ?? ''}`);
  return [...reports].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** How a set is named in a selector or a heading: "validation", "ISIC 2018 test set", "isic-test — test split". */
export function describeEvaluatedSet(e: Pick<Evaluation, 'set'>): string {
  const set = e.set;
  if (!set || set.id === 'val') return 'validation';
  if (set.id === 'test') return set.isic2018Test ? 'ISIC 2018 test set' : 'test split';
  if (set.members) return `ensemble of ${set.members.length} — ${set.kind === 'test' ? 'test' : 'validation'} split`;
  return `${set.prepared ? set.prepared.split(/[\\/]/).pop() : set.id} — ${set.kind === 'test' ? 'test' : 'validation'} split`;
}
