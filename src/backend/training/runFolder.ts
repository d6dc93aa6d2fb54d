/**
 * The run folder: everything a run writes, in files a person (and the extension) can read while it
 * runs or long after: config.json, metrics.jsonl (one line per epoch), batches.jsonl (one line per
 * training batch), events.jsonl, status.json, checkpoints/{best,last}/, evaluation.json, model-card.md,
 * and meta.json (the name, note, tags a person gave the run; written by the extension only).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { BatchMetrics, EpochMetrics, Evaluation } from '../../shared/protocol/results';
import { writeJsonAtomic } from '../fsAtomic';
import { parseBatchesJsonl, parseMetricsJsonl } from '../../shared/runFiles';

export type RunStatus = 'running' | 'finished' | 'failed' | 'cancelled';

export class RunFolder {
  constructor(readonly dir: string) {}

  get config(): string {
    return path.join(this.dir, 'config.json');
  }
  get metrics(): string {
    return path.join(this.dir, 'metrics.jsonl');
  }
  get batches(): string {
    return path.join(this.dir, 'batches.jsonl');
  }
  get events(): string {
    return path.join(this.dir, 'events.jsonl');
  }
  get status(): string {
    return path.join(this.dir, 'status.json');
  }
  get bestCheckpoint(): string {
    return path.join(this.dir, 'checkpoints', 'best');
  }
  get lastCheckpoint(): string {
    return path.join(this.dir, 'checkpoints', 'last');
  }
  get evaluation(): string {
    return path.join(this.dir, 'evaluation.json');
  }
  get modelCard(): string {
    return path.join(this.dir, 'model-card.md');
  }

  async exists(): Promise<boolean> {
    return fs.access(this.config).then(
      () => true,
      () => false,
    );
  }

  async writeStatus(status: RunStatus, extra: Record<string, unknown> = {}): Promise<void> {
    await writeJsonAtomic(this.status, { status, updatedAt: new Date().toISOString(), pid: process.pid, ...extra });
  }

  async appendMetrics(m: EpochMetrics): Promise<void> {
    await fs.appendFile(this.metrics, JSON.stringify(m) + '\n');
  }

  /** The validation report (evaluation.json), if one was written and is readable. */
  async readValidationReport(): Promise<Evaluation | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.evaluation, 'utf8')) as Evaluation;
    } catch {
      return undefined;
    }
  }

  async readMetrics(): Promise<EpochMetrics[]> {
    return parseMetricsJsonl(await fs.readFile(this.metrics, 'utf8').catch(() => ''));
  }

  /** On resume: keep only the epochs the last checkpoint contains, so no epoch is listed twice. */
  async truncateMetrics(upToEpoch: number): Promise<EpochMetrics[]> {
    const kept = (await this.readMetrics()).filter((m) => m.epoch <= upToEpoch);
    await writeJsonLines(this.metrics, kept);
    return kept;
  }

  async readBatches(): Promise<BatchMetrics[]> {
    return parseBatchesJsonl(await fs.readFile(this.batches, 'utf8').catch(() => ''));
  }

  /**
   * On resume, with the metrics: keep the batches of the epochs the last checkpoint contains. The epoch cut
   * short is trained again, so its batches would otherwise be drawn twice.
   */
  async truncateBatches(upToEpoch: number): Promise<void> {
    const kept = (await this.readBatches()).filter((b) => b.epoch <= upToEpoch);
    await writeJsonLines(this.batches, kept);
  }

  /**
   * Appends training batches to batches.jsonl: held in memory and written in one append every second or so
   * (a batch can take a millisecond), and always by `flush()`, which the training loop awaits at each
   * epoch's end, before the epoch's metrics and checkpoint: every epoch a checkpoint holds has all its batches.
   */
  batchLog(): { append(b: BatchMetrics): void; flush(): Promise<void> } {
    let pending: string[] = [];
    let chain = Promise.resolve();
    let lastWrite = Date.now();
    const flush = (): Promise<void> => {
      if (pending.length > 0) {
        const text = pending.join('');
        pending = [];
        lastWrite = Date.now();
        chain = chain.then(() => fs.appendFile(this.batches, text));
      }
      return chain;
    };
    return {
      append: (b) => {
        pending.push(JSON.stringify(b) + '\n');
        if (Date.now() - lastWrite > 1000) void flush().catch(() => undefined);
      },
      flush,
    };
  }

  /** Appends events to events.jsonl in order, without blocking the training loop on each write. */
  eventLog(): { append(e: BackendEvent): void; flush(): Promise<void> } {
    let chain = Promise.resolve();
    let pending: string[] = [];
    const drain = (): Promise<void> => {
      if (pending.length === 0) return chain;
      const text = pending.join('');
      pending = [];
      chain = chain.then(() => fs.appendFile(this.events, text)).catch(() => undefined);
      return chain;
    };
    return {
      append: (e) => {
        if (e.type === 'progress' || e.type === 'train/didBatch') return; // thousands per run; metrics have the substance
        pending.push(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
        void drain();
      },
      flush: drain,
    };
  }
}

async function writeJsonLines(file: string, rows: unknown[]): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(temp, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  await fs.rename(temp, file);
}
