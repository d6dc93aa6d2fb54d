/** The Training panel's "Save as CSV": one row per epoch, or per training batch, with a header row. */
import type { BatchMetrics, EpochMetrics } from './protocol/results';

const EPOCH_COLUMNS = ['epoch', 'phase', 'step', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'val_balanced_accuracy', 'lr', 'seconds', 'finished_at'] as const;
const BATCH_COLUMNS = ['step', 'epoch', 'batch', 'batches', 'phase', 'loss', 'accuracy', 'lr', 'time'] as const;

/** A CSV field: quoted when it holds a comma, quote or line break; an absent number is an empty field. */
function field(v: unknown): string {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const rows = (header: readonly string[], values: unknown[][]): string => [header, ...values].map((r) => r.map(field).join(',')).join('\n') + '\n';

export function epochsCsv(epochs: readonly EpochMetrics[]): string {
  return rows(EPOCH_COLUMNS, epochs.map((m) => [m.epoch, m.phase, m.step, m.loss, m.accuracy, m.valLoss, m.valAccuracy, m.valBalancedAccuracy, m.lr, m.seconds, m.finishedAt]));
}

/** `time` as an ISO date, so a spreadsheet reads it. */
export function batchesCsv(batches: readonly BatchMetrics[]): string {
  return rows(BATCH_COLUMNS, batches.map((b) => [b.step, b.epoch, b.batch, b.batches, b.phase, b.loss, b.accuracy, b.lr, new Date(b.time).toISOString()]));
}
