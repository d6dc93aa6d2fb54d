import '../common/elements';
import type { ChartDataset, ScatterDataPoint } from 'chart.js';
import type { BatchMetrics, EpochMetrics } from '../../src/shared/protocol/results';
import type { TrainingPanelState } from '../../src/shared/protocol/views/training';
import { formatDuration } from '../../src/shared/format';
import { formatLearningRate } from '../../src/shared/runsTable';
import { emaSmooth } from '../../src/shared/smoothing';
import { bestEpochOf } from '../../src/shared/modelEvidence';
import { describeMonitor } from '../../src/shared/runConfig';
import { chanceVerdict, chanceWarning, formatWithInterval } from '../../src/shared/trust';
import { connect, post, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren, themeColor } from '../common/dom';
import { button } from '../common/elements';
import { Chart, applyThemeDefaults, seriesColors } from '../common/charts';
import type { MarkerLine } from '../common/chartTools';
import { chartFrame, markerLines, opaqueBackground, titleAboveMarkers, zoomOptions } from '../common/chartTools';

const root = appRoot();

/** The view's own settings, as TensorBoard's: they survive every state snapshot. */
const view = {
  smoothing: 0.6,
  x: 'step' as 'step' | 'epoch' | 'time',
  logLoss: false,
};

type Point = ScatterDataPoint;
type LineDataset = ChartDataset<'line', Point[]>;

interface Axis {
  title: string;
  /** x of a batch, and of an epoch's validation (at the step its last batch ended). */
  batch(b: BatchMetrics): number;
  epoch(m: EpochMetrics): number;
}

/** The x axis: training steps, epochs (fractional for batches), or minutes since the run's first batch. */
function axisFor(s: TrainingPanelState): Axis {
  const batches = s.batches ?? [];
  const perEpoch = batches[0]?.batches;
  const lastStepOf = new Map<number, number>();
  for (const b of batches) lastStepOf.set(b.epoch, Math.max(lastStepOf.get(b.epoch) ?? 0, b.step));
  const stepOf = (m: EpochMetrics): number => m.step ?? lastStepOf.get(m.epoch) ?? (perEpoch ? m.epoch * perEpoch : m.epoch);
  if (view.x === 'epoch' || (view.x === 'step' && batches.length === 0 && s.epochs.every((m) => m.step === undefined))) {
    return { title: 'epoch', batch: (b) => b.epoch - 1 + b.batch / b.batches, epoch: (m) => m.epoch };
  }
  if (view.x === 'time') {
    const finished = (m: EpochMetrics): number => Date.parse(m.finishedAt);
    const t0 = batches.length ? batches[0]!.time - 1 : s.epochs.length ? finished(s.epochs[0]!) - s.epochs[0]!.seconds * 1000 : Date.now();
    return { title: 'minutes since the first batch (wall time)', batch: (b) => (b.time - t0) / 60_000, epoch: (m) => (finished(m) - t0) / 60_000 };
  }
  return { title: 'step (training batches)', batch: (b) => b.step, epoch: stepOf };
}

interface SeriesSpec {
  id: string;
  label: string;
  color: string;
  /** Per-batch values, smoothed (with the raw ones faint behind). */
  batch?: (b: BatchMetrics) => number | null;
  /** Per-epoch values, as points joined by a line. */
  epoch?: (m: EpochMetrics) => number;
  dash?: number[];
  pointStyle?: 'circle' | 'rectRot' | 'triangle';
  /** Drawn above the others (smaller order is drawn last in chart.js). */
  order?: number;
}

function datasetsFor(s: TrainingPanelState, axis: Axis, specs: SeriesSpec[], compareKey?: keyof EpochMetrics, compareLabel?: string): LineDataset[] {
  const out: LineDataset[] = [];
  const batches = s.batches ?? [];
  const best = new Set((s.markers ?? []).filter((m) => m.kind === 'best').map((m) => m.epoch));
  for (const spec of specs) {
    if (spec.batch && batches.length) {
      const raw = batches.map((b) => spec.batch!(b));
      const smooth = emaSmooth(raw, view.smoothing);
      const xs = batches.map(axis.batch);
      out.push({ label: `${spec.label} (raw)`, data: xs.map((x, i) => ({ x, y: raw[i] as number })), borderColor: fade(spec.color), backgroundColor: fade(spec.color), borderWidth: 1, pointRadius: 0, spanGaps: false, order: 20 });
      out.push({ label: spec.label, data: xs.map((x, i) => ({ x, y: smooth[i] as number })), borderColor: spec.color, backgroundColor: spec.color, borderWidth: 2, pointRadius: 0, spanGaps: false, order: 10 });
    } else if (spec.epoch) {
      const points = s.epochs.map((m) => ({ x: axis.epoch(m), y: spec.epoch!(m) }));
      const isVal = spec.id.startsWith('val');
      out.push({
        label: spec.label,
        data: points,
        borderColor: spec.color,
        backgroundColor: spec.color,
        borderWidth: 2,
        borderDash: spec.dash,
        pointStyle: s.epochs.map((m) => (isVal && best.has(m.epoch) ? 'triangle' : (spec.pointStyle ?? 'circle'))),
        pointRadius: s.epochs.map((m) => (isVal && best.has(m.epoch) ? 6 : s.epochs.length > 60 ? 0 : 3)),
        tension: 0.1,
        order: spec.order ?? 5,
      });
    }
  }
  const colors = seriesColors();
  // Compared runs: on the epoch axis, or on their own steps; wall times of other runs do not line up.
  for (const [i, c] of (s.compare ?? []).entries()) {
    if (!compareKey || view.x === 'time') break;
    const color = colors[(specs.length + i) % colors.length]!;
    const x = (m: EpochMetrics): number => (axis.title === 'epoch' ? m.epoch : (m.step ?? m.epoch));
    out.push({ label: `${c.name}: ${compareLabel}`, data: c.epochs.map((m) => ({ x: x(m), y: m[compareKey] as number })), borderColor: color, backgroundColor: color, borderDash: [6, 3], borderWidth: 2, pointRadius: 2, tension: 0.1, order: 6 });
  }
  return out;
}

/** Legend label of the band's lower edge: hidden from the legend and the tooltip, the upper edge names the band. */
const CI_LOW = 'balanced val_acc 95% CI (low)';
const CI_HIGH = 'balanced val_acc 95% CI';
const percentOf = (p: Point | undefined): string => (p && p.y !== null ? `${(p.y * 100).toFixed(1)}%` : '—');

/**
 * The 95% bootstrap interval of each epoch's validation balanced accuracy, shaded between its two edges
 * (chart.js fills from the upper edge to the dataset before it): how far one epoch's figure can be trusted.
 */
function intervalBand(s: TrainingPanelState, axis: Axis, color: string): LineDataset[] {
  if (!s.epochs.some((m) => m.valBalancedAccuracyCi)) return [];
  const edge = (pick: 'low' | 'high'): Point[] => s.epochs.map((m) => ({ x: axis.epoch(m), y: m.valBalancedAccuracyCi ? m.valBalancedAccuracyCi[pick] : (null as unknown as number) }));
  const band = fade(color, 0.2);
  const common = { borderColor: fade(color, 0.45), borderWidth: 1, pointRadius: 0, pointHitRadius: 0, pointStyle: 'rect' as const, tension: 0.1, spanGaps: false, order: 8 };
  return [
    { ...common, label: CI_LOW, data: edge('low'), backgroundColor: band, fill: false },
    { ...common, label: CI_HIGH, data: edge('high'), backgroundColor: band, fill: '-1' },
  ];
}

/** Guessing's balanced accuracy, 1 / number of classes, as a dashed line across every x the chart holds. */
function chanceLine(s: TrainingPanelState, axis: Axis): LineDataset[] {
  if (!s.classes || s.classes < 2 || !s.epochs.length) return [];
  const xs = [...(s.batches ?? []).map(axis.batch), ...s.epochs.map(axis.epoch)];
  const y = 1 / s.classes;
  const color = themeColor('--vscode-descriptionForeground', '#888');
  return [{
    label: `chance (1/${s.classes} = ${(100 * y).toFixed(1)}%)`,
    data: [{ x: Math.min(...xs), y }, { x: Math.max(...xs), y }],
    borderColor: color, backgroundColor: color, borderDash: [3, 4], borderWidth: 1.5, pointRadius: 0, pointHitRadius: 0, pointStyle: 'line', order: 30,
  }];
}

/** The raw series behind a smoothed one: the same colour, faint (the palette is #rrggbb). */
function fade(color: string, alpha = 0.3): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  return m ? `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${alpha})` : color;
}

interface ChartSpec {
  id: string;
  title: string;
  yTitle: string;
  percent?: boolean;
  log?: boolean;
  build(s: TrainingPanelState, axis: Axis): LineDataset[];
}

function chartSpecs(): ChartSpec[] {
  const c = seriesColors();
  return [
    {
      id: 'loss',
      title: 'Loss',
      yTitle: 'cross-entropy',
      log: view.logLoss,
      build: (s, axis) => datasetsFor(s, axis, [
        s.batches?.length ? { id: 'loss', label: 'loss', color: c[0]!, batch: (b) => b.loss } : { id: 'loss', label: 'loss', color: c[0]!, epoch: (m) => m.loss },
        { id: 'valLoss', label: 'val_loss', color: c[1]!, epoch: (m) => m.valLoss },
      ], 'valLoss', 'val_loss'),
    },
    {
      id: 'accuracy',
      title: 'Accuracy',
      yTitle: 'accuracy',
      percent: true,
      build: (s, axis) => datasetsFor(s, axis, [
        s.batches?.length ? { id: 'acc', label: 'acc', color: c[0]!, batch: (b) => b.accuracy } : { id: 'acc', label: 'acc', color: c[0]!, epoch: (m) => m.accuracy },
        { id: 'valAcc', label: 'val_acc', color: c[1]!, epoch: (m) => m.valAccuracy },
        // Often equal to val_acc: dashed and drawn on top, so both stay visible.
        { id: 'valBalAcc', label: 'balanced val_acc', color: c[2]!, epoch: (m) => m.valBalancedAccuracy, dash: [7, 4], pointStyle: 'rectRot', order: 1 },
      ], 'valBalancedAccuracy', 'balanced val_acc').concat(intervalBand(s, axis, c[2]!)).concat(chanceLine(s, axis)),
    },
    {
      id: 'lr',
      title: 'Learning rate',
      yTitle: 'learning rate',
      log: true,
      build: (s, axis) => {
        const batches = s.batches ?? [];
        const data = batches.length ? batches.map((b) => ({ x: axis.batch(b), y: b.lr })) : s.epochs.map((m) => ({ x: axis.epoch(m), y: m.lr }));
        return [{ label: 'lr', data, borderColor: c[3]!, backgroundColor: c[3]!, borderWidth: 2, pointRadius: batches.length ? 0 : 3, stepped: 'before', order: 5 }];
      },
    },
  ];
}

/** Phase boundary and early stops as labelled dashed lines. */
function markerLinesFor(s: TrainingPanelState, axis: Axis): MarkerLine[] {
  const lines: MarkerLine[] = [];
  const batches = s.batches ?? [];
  const firstFine = batches.find((b) => b.phase === 'finetune');
  const boundaryEpoch = s.epochs.find((m) => m.phase === 'finetune' && s.epochs.some((x) => x.phase === 'head'));
  if (firstFine && batches.some((b) => b.phase === 'head')) lines.push({ x: axis.batch({ ...firstFine, batch: firstFine.batch - 1 }), label: 'fine-tuning starts', color: themeColor('--vscode-descriptionForeground', '#888') });
  else if (boundaryEpoch) {
    const before = s.epochs.filter((m) => m.epoch < boundaryEpoch.epoch).at(-1);
    if (before) lines.push({ x: axis.epoch(before), label: 'fine-tuning starts', color: themeColor('--vscode-descriptionForeground', '#888') });
  }
  for (const m of (s.markers ?? []).filter((x) => x.kind === 'earlyStop')) {
    const at = s.epochs.find((e) => e.epoch === m.epoch);
    if (at) lines.push({ x: axis.epoch(at), label: `early stop (epoch ${m.epoch})`, color: themeColor('--vscode-charts-red', '#f14c4c') });
  }
  return lines;
}

interface LiveChart {
  chart: Chart<'line', Point[]>;
  signature: string;
  frame: HTMLElement;
  lines: MarkerLine[];
}
const live = new Map<string, LiveChart>();

/**
 * Draws each chart, or updates it in place when only its data changed: zoom and pan survive the
 * snapshots that arrive several times a second while a run trains.
 */
function drawCharts(s: TrainingPanelState): HTMLElement[] {
  const axis = axisFor(s);
  const lines = markerLinesFor(s, axis);
  const frames: HTMLElement[] = [];
  for (const spec of chartSpecs()) {
    const datasets = spec.build(s, axis);
    // What is drawn, for a person's tools and the tests: batches on the chart, the smoothing applied.
    const mark = (frame: HTMLElement): void => {
      frame.dataset.batches = String(s.batches?.length ?? 0);
      frame.dataset.smoothing = String(view.smoothing);
      // The accuracy chart's reference line and interval band, for the tests.
      const chance = datasets.find((d) => d.label?.startsWith('chance ('));
      if (chance) frame.dataset.chance = String(chance.data[0]!.y);
      const band = datasets.find((d) => d.label === CI_LOW);
      if (band) frame.dataset.intervalEpochs = String(band.data.filter((p) => p.y !== null).length);
    };
    const signature = JSON.stringify([document.body.className, axis.title, spec.log, datasets.map((d) => d.label), lines.map((l) => l.label)]);
    const existing = live.get(spec.id);
    if (existing && existing.signature === signature) {
      existing.chart.data.datasets.forEach((d, i) => {
        d.data = datasets[i]!.data;
        if (datasets[i]!.pointStyle) (d as LineDataset).pointStyle = datasets[i]!.pointStyle;
        if (datasets[i]!.pointRadius !== undefined) (d as LineDataset).pointRadius = datasets[i]!.pointRadius;
      });
      existing.lines.splice(0, existing.lines.length, ...lines);
      existing.chart.update('none');
      mark(existing.frame);
      frames.push(existing.frame);
      continue;
    }
    existing?.chart.destroy();
    const canvas = h('canvas', { role: 'img', 'aria-label': spec.title });
    const ownLines = [...lines];
    const frame = chartFrame(spec.title, canvas, () => live.get(spec.id)?.chart, (dataUrl) => post({ type: 'training/savePng', chart: spec.title, dataUrl }));
    const chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          title: titleAboveMarkers(spec.title, ownLines),
          legend: { position: 'bottom', labels: { filter: (item) => !item.text.endsWith('(raw)') && item.text !== CI_LOW, usePointStyle: true } },
          tooltip: {
            filter: (item) => !String(item.dataset.label).endsWith('(raw)') && item.dataset.label !== CI_LOW && !String(item.dataset.label).startsWith('chance ('),
            callbacks: {
              label: (c) => c.dataset.label === CI_HIGH
                ? `${CI_HIGH}: ${percentOf(c.chart.data.datasets[c.datasetIndex - 1]?.data[c.dataIndex] as Point | undefined)}–${percentOf(c.raw as Point)}`
                : `${c.dataset.label}: ${c.parsed.y === null ? '—' : spec.percent ? `${(c.parsed.y * 100).toFixed(1)}%` : spec.id === 'lr' ? c.parsed.y.toExponential(2) : c.parsed.y.toFixed(4)}`,
            },
          },
          zoom: zoomOptions(),
        },
        scales: {
          x: { type: 'linear', title: { display: true, text: axis.title } },
          y: spec.log
            ? { type: 'logarithmic', title: { display: true, text: `${spec.yTitle} (log scale)` }, ...(spec.id === 'lr' ? { ticks: { callback: lrTick, autoSkip: false } } : {}) }
            : { type: 'linear', title: { display: true, text: spec.yTitle }, ...(spec.percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : { beginAtZero: true }) },
        },
      },
      plugins: [opaqueBackground, markerLines(ownLines)],
    });
    live.set(spec.id, { chart, signature, frame, lines: ownLines });
    mark(frame);
    frames.push(frame);
  }
  return frames;
}

/** What the curves hold and how to zoom; its text follows every snapshot, the controls stay. */
function curveNote(s: TrainingPanelState): string {
  const n = s.batches?.length ?? 0;
  const hint = 'Ctrl+wheel or drag to zoom, Shift+drag to pan';
  return n ? `${n.toLocaleString('en')} ${n === 1 ? 'batch' : 'batches'}; ${hint}` : hint;
}

/** A log axis of learning rates labelled at its ends and at 1, 2 and 5 × 10ⁿ: chart.js' own ticks crowd between. */
function lrTick(v: string | number, i: number, ticks: readonly unknown[]): string {
  const x = Number(v);
  const mantissa = Number((x / 10 ** Math.floor(Math.log10(x) + 1e-9)).toPrecision(3));
  return i === 0 || i === ticks.length - 1 || [1, 2, 5].includes(mantissa) ? formatLearningRate(x) : '';
}

function controls(note: HTMLElement): HTMLElement {
  const slider = h('input', { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(view.smoothing), 'aria-label': 'Smoothing', id: 'smoothing' });
  const shown = h('output', { for: 'smoothing', class: 'mono' }, view.smoothing.toFixed(2));
  slider.addEventListener('input', () => {
    view.smoothing = Number((slider as HTMLInputElement).value);
    shown.textContent = view.smoothing.toFixed(2);
    if (last) render(last);
  });
  const xAxis = h('select', { 'aria-label': 'Horizontal axis' },
    ...(['step', 'epoch', 'time'] as const).map((x) => h('option', { value: x, selected: view.x === x }, { step: 'Step', epoch: 'Epoch', time: 'Wall time' }[x])));
  xAxis.addEventListener('change', () => {
    view.x = (xAxis as HTMLSelectElement).value as typeof view.x;
    if (last) render(last);
  });
  const log = h('input', { type: 'checkbox', checked: view.logLoss, 'aria-label': 'Log scale for loss' });
  log.addEventListener('change', () => {
    view.logLoss = (log as HTMLInputElement).checked;
    if (last) render(last);
  });
  return h('div', { class: 'controls curve-controls' },
    h('label', { class: 'field', title: 'Exponential moving average of the per-batch curves (as TensorBoard); the raw values are drawn faint behind' }, h('span', {}, 'Smoothing'), slider, shown),
    h('label', { class: 'field' }, h('span', {}, 'Horizontal axis'), xAxis),
    h('label', { class: 'check' }, log, 'Log scale for loss'),
    note);
}

function bestEpoch(s: TrainingPanelState): number | undefined {
  const marked = (s.markers ?? []).filter((m) => m.kind === 'best').map((m) => m.epoch);
  if (marked.length) return Math.max(...marked);
  return bestEpochOf(s.epochs, s.monitor ?? 'val_acc')?.epoch;
}

/** The kept checkpoint's validation balanced accuracy with its interval, labelled for what it is; and the warning when it is at chance. */
function checkpointSummary(s: TrainingPanelState): (HTMLElement | null)[] {
  const at = bestEpoch(s);
  const m = s.epochs.find((e) => e.epoch === at);
  if (!m) return [];
  const verdict = m.valBalancedAccuracyCi && s.classes ? chanceVerdict(m.valBalancedAccuracyCi, s.classes) : undefined;
  const warning = s.classes ? chanceWarning(verdict, s.classes) : undefined;
  return [
    warning ? h('p', { class: 'alert', role: 'alert', 'data-testid': 'chance-warning' }, warning) : null,
    h('p', { class: 'epoch-summary', 'data-testid': 'checkpoint-summary' },
      h('strong', {}, `Kept checkpoint: epoch ${m.epoch}`), `, chosen by ${describeMonitor(s.monitor ?? 'val_acc')} — validation balanced accuracy ${formatWithInterval(m.valBalancedAccuracy, m.valBalancedAccuracyCi)}. `,
      h('span', { class: 'muted' }, 'Optimistic: used for model selection.')),
  ];
}

function epochTable(s: TrainingPanelState): HTMLElement {
  const bestAt = bestEpoch(s);
  return h('table', { class: 'data mono' },
    h('thead', {}, h('tr', {}, ...['epoch', 'phase', 'time', 'loss', 'acc', 'val_loss', 'val_acc', 'val_bal_acc', '95% CI', 'lr'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...s.epochs.map((m) => h('tr', { class: m.epoch === bestAt ? 'best' : '', title: m.epoch === bestAt ? `${describeMonitor(s.monitor ?? 'val_acc')}: the checkpoint evaluation and prediction use` : '' },
      h('th', { scope: 'row' }, String(m.epoch)), h('td', {}, m.phase), h('td', {}, formatDuration(m.seconds)),
      h('td', {}, m.loss.toFixed(4)), h('td', {}, m.accuracy.toFixed(4)), h('td', {}, m.valLoss.toFixed(4)),
      h('td', {}, m.valAccuracy.toFixed(4)), h('td', {}, m.valBalancedAccuracy.toFixed(4)),
      h('td', { class: 'muted' }, m.valBalancedAccuracyCi ? `${m.valBalancedAccuracyCi.low.toFixed(2)}–${m.valBalancedAccuracyCi.high.toFixed(2)}` : '–'),
      h('td', {}, m.lr.toExponential(1))))));
}

/** The parts of the page, kept between snapshots so that the charts and the controls are not rebuilt. */
let shell: { key: string; header: HTMLElement; progress: HTMLElement; summary: HTMLElement; note: HTMLElement; charts: HTMLElement; table: HTMLElement } | undefined;
let last: TrainingPanelState | undefined;

function render(s: TrainingPanelState): void {
  last = s;
  applyThemeDefaults();
  if (s.status === 'empty' || !s.run) {
    for (const c of live.values()) c.chart.destroy();
    live.clear();
    shell = undefined;
    replaceChildren(root, emptyState('No training run', 'Start a run from the Lesion Lab view, or open a run folder written by the CLI to see its curves here.',
      button('Train…', () => runCommand('lesionLab.train')), button('Open Run Folder…', () => runCommand('lesionLab.openRun'), { secondary: true }), button('All Runs', () => runCommand('lesionLab.showRuns'), { secondary: true })));
    return;
  }
  const hasCurves = s.epochs.length > 0 || (s.batches?.length ?? 0) > 0;
  const key = JSON.stringify([s.run, s.status, s.setup, hasCurves]);
  if (!shell || shell.key !== key) {
    const header = h('header', { class: 'panel-header' }, h('h1', {}, 'Training'), h('span', { class: `status status-${s.status}` }, s.status), h('span', { class: 'muted' }, s.run),
      h('div', { class: 'actions' },
        button('Compare…', () => post({ type: 'training/compare' }), { secondary: true, title: 'Overlay other runs on these charts' }),
        button('All Runs', () => runCommand('lesionLab.showRuns'), { secondary: true, title: 'Every run in a table: setups and results side by side' }),
        s.status === 'running' ? button('Stop', () => runCommand('lesionLab.stop'), { secondary: true }) : button('Evaluate', () => runCommand('lesionLab.evaluate', s.run!, 'val'), { secondary: true, title: 'Evaluate the kept checkpoint on the validation split' }),
        s.status === 'interrupted' || s.status === 'cancelled' ? button('Resume…', () => runCommand('lesionLab.resume'), { secondary: true }) : null));
    shell = { key, header, progress: h('div'), summary: h('div'), note: h('span', { class: 'muted small', 'data-testid': 'curve-note' }), charts: h('div', { class: 'charts' }), table: h('div') };
    replaceChildren(root,
      header,
      s.setup ? h('p', { class: 'muted small run-setup', 'data-testid': 'run-setup' }, s.setup) : null,
      s.status === 'interrupted' ? h('p', { class: 'warning' }, 'This run stopped without finishing (a crash, a kill or a reboot). Its last checkpoint is intact: Resume continues from it.') : null,
      shell.progress,
      shell.summary,
      hasCurves ? controls(shell.note) : null,
      shell.charts,
      shell.table);
  }
  shell.note.textContent = curveNote(s);
  replaceChildren(shell.summary, ...checkpointSummary(s));
  const b = s.batch;
  replaceChildren(shell.progress, b
    ? h('div', { class: 'batch' },
        h('span', {}, `${b.phase} · epoch ${b.epoch} · batch ${b.batch}/${b.batches} · ${b.rate.toFixed(1)} img/s${b.etaSeconds !== undefined ? ` · ETA ${formatDuration(b.etaSeconds)}` : ''}`),
        h('vscode-progress-bar', { value: Math.round((100 * b.batch) / Math.max(1, b.batches)), max: 100 }))
    : null);
  if (!hasCurves) {
    replaceChildren(shell.charts, h('p', { class: 'muted' }, s.status === 'running' ? 'Waiting for the first batches…' : 'This run has no finished batches.'));
  } else {
    const frames = drawCharts(s);
    // Only attach what is not already in place: a chart's canvas stays in the page between snapshots.
    if (frames.some((f, i) => shell!.charts.children[i] !== f) || shell.charts.children.length !== frames.length) replaceChildren(shell.charts, ...frames);
  }
  replaceChildren(shell.table,
    s.epochs.length ? h('h2', {}, 'Epoch log', h('span', { class: 'actions inline' },
      button('Save epochs as CSV…', () => post({ type: 'training/saveCsv', what: 'epochs' }), { secondary: true }),
      s.batches?.length ? button('Save batches as CSV…', () => post({ type: 'training/saveCsv', what: 'batches' }), { secondary: true }) : null)) : null,
    s.epochs.length ? h('p', { class: 'muted small' }, `Highlighted: the kept checkpoint, chosen by ${describeMonitor(s.monitor ?? 'val_acc')} — validation figures are optimistic, as they chose it. 95% CI: bootstrap interval of val_bal_acc.`) : null,
    s.epochs.length ? h('div', { class: 'table-wrap' }, epochTable(s)) : null);
}

connect('training', (m) => {
  if (m.type === 'training/state') render(m.state);
});
