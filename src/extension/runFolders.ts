/**
 * Reads run folders (written by `lesion-lab train`, from VS Code or the headless CLI) so panels can
 * show any run — live, finished or crashed — from what is on disk.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PreparedClass } from '../shared/classes';
import { preparedClasses } from '../shared/classes';
import type { BatchMetrics, DatasetSummary, EpochMetrics, Evaluation, ModelProvenance } from '../shared/protocol/results';
import { formatWithInterval } from '../shared/trust';
import type { TrainingMarker, TrainingPanelState } from '../shared/protocol/views/training';
import type { RunSummary } from './state';
import { ENSEMBLE_REPORT, VALIDATION_REPORT, isEvaluationReport, orderEvaluationReports, parseBatchesJsonl, parseMetricsJsonl, withEvaluatedSet } from '../shared/runFiles';
import type { RunConfig } from '../shared/runConfig';
import { describeRunSetup, runMonitor } from '../shared/runConfig';
import { checkpointValidation } from '../shared/modelEvidence';
import type { RunMeta, RunRow } from '../shared/runsTable';
import { runsTableRow } from '../shared/runsTable';

/** A JSON file's content, or undefined when it is missing or unreadable (a file being written, a damaged one). */
export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function readMetrics(run: string): Promise<EpochMetrics[]> {
  return parseMetricsJsonl(await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8').catch(() => ''));
}

export async function readBatches(run: string): Promise<BatchMetrics[]> {
  return parseBatchesJsonl(await fs.readFile(path.join(run, 'batches.jsonl'), 'utf8').catch(() => ''));
}

export function readEvaluation(run: string): Promise<Evaluation | undefined> {
  return readJson<Evaluation>(path.join(run, VALIDATION_REPORT));
}

/** Every evaluation report of a run (and an ensemble's, in the folder it was written to): validation first, then its test split, then other sets by name. */
export async function readEvaluationReports(run: string): Promise<Evaluation[]> {
  const names = (await fs.readdir(run).catch(() => [] as string[])).filter((name) => isEvaluationReport(name) || name === ENSEMBLE_REPORT);
  const reports = await Promise.all(names.map(async (name) => {
    const report = await readJson<Evaluation>(path.join(run, name));
    return report && withEvaluatedSet(name, report);
  }));
  return orderEvaluationReports(reports.filter((r): r is Evaluation => r !== undefined));
}

export function readRunConfig(run: string): Promise<RunConfig | undefined> {
  return readJson<RunConfig>(path.join(run, 'config.json'));
}

/**
 * From config.json (nothing until the backend has written it): one line on what the run trains and where,
 * what picks its checkpoint, and how many classes it tells apart.
 */
export async function readRunSetup(run: string): Promise<Pick<TrainingPanelState, 'setup' | 'monitor' | 'classes'>> {
  const config = await readRunConfig(run);
  if (!config?.options) return {};
  return { setup: describeRunSetup(config), monitor: runMonitor(config), ...(config.classes ? { classes: config.classes.length } : {}) };
}

/** The run's status; a "running" run whose process is gone was interrupted (crash, kill, reboot). */
export async function readRunStatus(run: string): Promise<string> {
  return (await readRunStatusFile(run)).status;
}

async function readRunStatusFile(run: string): Promise<{ status: string; error?: string }> {
  const status = await readJson<{ status?: string; pid?: number; error?: unknown }>(path.join(run, 'status.json'));
  if (status?.status === 'running' && typeof status.pid === 'number' && !processAlive(status.pid)) return { status: 'interrupted' };
  return { status: status?.status ?? 'unknown', ...(typeof status?.error === 'string' ? { error: status.error } : {}) };
}

/** What a person wrote about the run (meta.json); undefined when nothing was. */
export function readRunMeta(run: string): Promise<RunMeta | undefined> {
  return readJson<RunMeta>(path.join(run, 'meta.json'));
}

/** A row of the runs table: the run's setup, results, status and meta, from what its folder holds. */
export async function readRunRow(run: string): Promise<RunRow> {
  const [config, metrics, status, markers, evaluation, meta, hasModelCard] = await Promise.all([
    readRunConfig(run),
    readMetrics(run),
    readRunStatusFile(run),
    readMarkers(run),
    readEvaluation(run),
    readRunMeta(run),
    fs.access(path.join(run, 'model-card.md')).then(() => true, () => false),
  ]);
  return runsTableRow({
    path: run,
    config,
    metrics,
    status: status.status,
    error: status.error,
    bestCheckpointEpochs: markers.filter((m) => m.kind === 'best').map((m) => m.epoch),
    evaluation,
    meta,
    hasModelCard,
  });
}

/** Every run folder (one with a config.json) in `runsDir`, as runs-table rows, oldest first. */
export async function listRunRows(runsDir: string): Promise<RunRow[]> {
  return Promise.all((await runFolderPaths(runsDir)).map(readRunRow));
}

async function runFolderPaths(runsDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(runsDir);
  } catch {
    return [];
  }
  const dirs = entries.sort().map((name) => path.join(runsDir, name));
  const isRun = await Promise.all(dirs.map((dir) => fs.access(path.join(dir, 'config.json')).then(() => true, () => false)));
  return dirs.filter((_, i) => isRun[i]);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The runs for the side bar and the pickers (Resume, Fine-tune, Compare), oldest first: archived ones left
 * out unless asked for, each by the name a person gave it.
 */
export async function listRuns(runsDir: string, opts: { archived?: boolean } = {}): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  for (const dir of await runFolderPaths(runsDir)) {
    const meta = await readRunMeta(dir);
    if (meta?.archived && !opts.archived) continue;
    const [metrics, config, report, status] = await Promise.all([readMetrics(dir), readRunConfig(dir), readEvaluation(dir), readRunStatus(dir)]);
    // The kept checkpoint's figure (not the best epoch's whatever chose the checkpoint), with its interval.
    const checkpoint = config?.options && config.classes ? checkpointValidation(config, metrics, report) : undefined;
    runs.push({ path: dir, name: meta?.name?.trim() || path.basename(dir), epochs: metrics.length, ...(checkpoint ? { checkpoint } : {}), status, ...(config?.options ? { setup: runTooltip(config, metrics, status, checkpoint) } : {}) });
  }
  return runs;
}

/** A run's setup in a few lines (the runs list's tooltip): what it trains, how, how far it got, and where it is. */
export function runTooltip(config: RunConfig, metrics: readonly EpochMetrics[], status: string, checkpoint?: ModelProvenance['validation']): string {
  const o = config.options;
  const phases = o.phase === 'both' ? ['head', 'finetune'] : [o.phase];
  const plan = phases.map((phase) =>
    phase === 'head'
      ? `head: ${o.epochs} epochs, ${o.headOptimizer} lr ${o.lr}`
      : `fine-tune: ${o.finetuneEpochs} epochs from ${config.finetuneFrom ?? (o.unfreezeFrom === '1' ? 'the first layer' : o.unfreezeFrom)}, ${o.finetuneOptimizer} lr ${o.finetuneLr}`);
  return [
    describeRunSetup(config),
    plan.join(' → '),
    `${metrics.length} epoch${metrics.length === 1 ? '' : 's'} · ${status}${checkpoint ? ` · best checkpoint: epoch ${checkpoint.epoch}, balanced val acc ${formatWithInterval(checkpoint.balancedAccuracy, checkpoint.ci)}` : ''}`,
    `${config.dataset.train} train / ${config.dataset.val} val images · seed ${o.seed}`,
    o.run,
  ].join('\n');
}

export async function readDatasetSummary(prepared: string): Promise<DatasetSummary | undefined> {
  const manifest = await readJson<{ summary?: DatasetSummary }>(path.join(prepared, 'manifest.json'));
  return manifest?.summary;
}

/** The prepared dataset's classes (names, long names, folders), in the model's order; empty without a manifest. */
export async function readDatasetClasses(prepared: string): Promise<PreparedClass[]> {
  const manifest = await readJson<{ summary?: DatasetSummary; classes?: PreparedClass[] }>(path.join(prepared, 'manifest.json'));
  return manifest?.summary ? preparedClasses({ classes: manifest.classes, summary: manifest.summary }) : [];
}

/** Checkpoint-improved and early-stop events from events.jsonl, for the chart markers. */
export async function readMarkers(run: string): Promise<TrainingMarker[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(run, 'events.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const markers: TrainingMarker[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Parameters<typeof markerOf>[0];
      const marker = markerOf(e);
      if (marker) markers.push(marker);
    } catch {
      // a line cut short by a crash
    }
  }
  return markers;
}

export function markerOf(e: { type?: string; kind?: string; epoch?: number; valAccuracy?: number; monitor?: string; value?: number; patience?: number }): TrainingMarker | undefined {
  if (e.type === 'train/didCheckpoint' && e.kind === 'best' && typeof e.epoch === 'number') {
    // Events from before --monitor: their runs picked by val_acc.
    const monitor = e.monitor ?? 'val_acc';
    const value = e.value ?? e.valAccuracy ?? 0;
    return { epoch: e.epoch, kind: 'best', label: `best ${monitor} ${monitor === 'val_loss' ? value.toFixed(4) : `${(value * 100).toFixed(1)}%`}: checkpoint saved` };
  }
  if (e.type === 'train/didStopEarly' && typeof e.epoch === 'number') {
    return { epoch: e.epoch, kind: 'earlyStop', label: `early stop: ${e.monitor} did not improve for ${e.patience} epochs` };
  }
  return undefined;
}
