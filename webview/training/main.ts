import '../common/elements';
import type { EpochMetrics } from '../../src/shared/protocol/results';
import type { TrainingPanelState } from '../../src/shared/protocol/views/training';
import { formatDuration } from '../../src/shared/format';
import { connect, post, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren, themeColor } from '../common/dom';
import { button } from '../common/elements';
import type { Plugin } from 'chart.js';
import { Chart, applyThemeDefaults, seriesColors } from '../common/charts';

const root = appRoot();
let charts: Chart[] = [];

/** Draws the phase boundary and early-stop epochs as dashed vertical lines, labelled. */
function verticalLines(lines: { epoch: number; label: string; color: string }[]): Plugin<'line'> {
  return {
    id: 'verticalLines',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const labels = chart.data.labels as number[];
      for (const line of lines) {
        const index = labels.indexOf(line.epoch);
        if (index < 0) continue;
        const x = scales.x!.getPixelForValue(index);
        ctx.save();
        ctx.strokeStyle = line.color;
        ctx.fillStyle = line.color;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = '11px sans-serif';
        ctx.textAlign = x > chartArea.right - 90 ? 'right' : 'left';
        ctx.fillText(line.label, x + (ctx.textAlign === 'right' ? -4 : 4), chartArea.top + 12);
        ctx.restore();
      }
    },
  };
}

interface Series {
  label: string;
  key: keyof EpochMetrics;
}

function lineChart(title: string, s: TrainingPanelState, series: Series[], compareKey: keyof EpochMetrics, yLabel: string, percent: boolean): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': title });
  const colors = seriesColors();
  const epochs = s.epochs;
  const allEpochs = [...new Set([...epochs.map((m) => m.epoch), ...(s.compare ?? []).flatMap((c) => c.epochs.map((m) => m.epoch))])].sort((a, b) => a - b);
  const valueAt = (list: EpochMetrics[], key: keyof EpochMetrics) => allEpochs.map((e) => {
    const m = list.find((x) => x.epoch === e);
    return m ? (m[key] as number) : null;
  });
  const best = new Set((s.markers ?? []).filter((m) => m.kind === 'best').map((m) => m.epoch));
  const boundary = epochs.find((m) => m.phase === 'finetune' && epochs.some((x) => x.phase === 'head'));
  const lines = [
    ...(boundary ? [{ epoch: boundary.epoch, label: 'fine-tuning starts', color: themeColor('--vscode-descriptionForeground', '#888') }] : []),
    ...(s.markers ?? []).filter((m) => m.kind === 'earlyStop').map((m) => ({ epoch: m.epoch, label: 'early stop', color: themeColor('--vscode-charts-red', '#f14c4c') })),
  ];
  const datasets = [
    ...series.map((x, i) => ({
      label: x.label,
      data: valueAt(epochs, x.key),
      borderColor: colors[i % colors.length],
      backgroundColor: colors[i % colors.length],
      // Checkpoint-improved epochs are drawn as larger triangles on the validation series.
      pointStyle: allEpochs.map((e) => (best.has(e) && String(x.key).startsWith('val') ? 'triangle' : 'circle')),
      pointRadius: allEpochs.map((e) => (best.has(e) && String(x.key).startsWith('val') ? 6 : allEpochs.length > 40 ? 0 : 3)),
      tension: 0.15,
      spanGaps: true,
    })),
    ...(s.compare ?? []).map((c, i) => ({
      label: `${c.name}: ${series.find((x) => x.key === compareKey)?.label ?? String(compareKey)}`,
      data: valueAt(c.epochs, compareKey),
      borderColor: colors[(series.length + i) % colors.length],
      backgroundColor: colors[(series.length + i) % colors.length],
      borderDash: [6, 3],
      pointRadius: 2,
      tension: 0.15,
      spanGaps: true,
    })),
  ];
  charts.push(new Chart(canvas, {
    type: 'line',
    data: { labels: allEpochs, datasets },
    options: {
      plugins: {
        title: { display: true, text: title },
        legend: { position: 'bottom' },
        tooltip: {
          callbacks: {
            label: (c) => `${c.dataset.label}: ${percent ? `${((c.parsed.y ?? 0) * 100).toFixed(1)}%` : (c.parsed.y ?? 0).toFixed(4)}`,
            afterBody: (items) => (s.markers ?? []).filter((m) => m.epoch === allEpochs[items[0]?.dataIndex ?? -1]).map((m) => m.label),
          },
        },
      },
      scales: {
        x: { title: { display: true, text: 'epoch' } },
        y: { title: { display: true, text: yLabel }, ...(percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : { beginAtZero: true }) },
      },
    },
    plugins: [verticalLines(lines)],
  }));
  return h('div', { class: 'chart' }, canvas);
}

/** The epoch whose weights are in checkpoints/best: the last "improved" event, else the first epoch with the highest val_acc (as Keras' strict improvement picks it). */
function bestEpoch(s: TrainingPanelState): number | undefined {
  const marked = (s.markers ?? []).filter((m) => m.kind === 'best').map((m) => m.epoch);
  if (marked.length) return Math.max(...marked);
  let best: EpochMetrics | undefined;
  for (const m of s.epochs) if (!best || m.valAccuracy > best.valAccuracy) best = m;
  return best?.epoch;
}

function epochTable(s: TrainingPanelState): HTMLElement {
  const epochs = s.epochs;
  const bestAt = bestEpoch(s);
  return h('table', { class: 'data mono' },
    h('thead', {}, h('tr', {}, ...['epoch', 'phase', 'time', 'loss', 'acc', 'val_loss', 'val_acc', 'val_bal_acc', 'lr'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...epochs.map((m) => h('tr', { class: m.epoch === bestAt ? 'best' : '', title: m.epoch === bestAt ? 'best val_acc: the checkpoint evaluation and prediction use' : '' },
      h('th', { scope: 'row' }, String(m.epoch)), h('td', {}, m.phase), h('td', {}, formatDuration(m.seconds)),
      h('td', {}, m.loss.toFixed(4)), h('td', {}, m.accuracy.toFixed(4)), h('td', {}, m.valLoss.toFixed(4)),
      h('td', {}, m.valAccuracy.toFixed(4)), h('td', {}, m.valBalancedAccuracy.toFixed(4)), h('td', {}, m.lr.toExponential(1))))));
}

function render(s: TrainingPanelState): void {
  applyThemeDefaults();
  for (const c of charts) c.destroy();
  charts = [];
  if (s.status === 'empty' || !s.run) {
    replaceChildren(root, emptyState('No training run', 'Start a run from the Lesion Lab view, or open a run folder written by the CLI to see its curves here.',
      button('Train…', () => runCommand('lesionLab.train')), button('Open Run Folder…', () => runCommand('lesionLab.openRun'), { secondary: true })));
    return;
  }
  const b = s.batch;
  const progress = b
    ? h('div', { class: 'batch' },
        h('span', {}, `${b.phase} · epoch ${b.epoch} · batch ${b.batch}/${b.batches} · ${b.rate.toFixed(1)} img/s${b.etaSeconds !== undefined ? ` · ETA ${formatDuration(b.etaSeconds)}` : ''}`),
        h('vscode-progress-bar', { value: Math.round((100 * b.batch) / Math.max(1, b.batches)), max: 100 }))
    : null;
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Training'), h('span', { class: `status status-${s.status}` }, s.status), h('span', { class: 'muted' }, s.run),
      h('div', { class: 'actions' },
        button('Compare…', () => post({ type: 'training/compare' }), { secondary: true, title: 'Overlay other runs on these charts' }),
        s.status === 'running' ? button('Stop', () => runCommand('lesionLab.stop'), { secondary: true }) : button('Evaluate', () => runCommand('lesionLab.evaluate', s.run!), { secondary: true }),
        s.status === 'interrupted' || s.status === 'cancelled' ? button('Resume…', () => runCommand('lesionLab.resume'), { secondary: true }) : null)),
    s.setup ? h('p', { class: 'muted small run-setup', 'data-testid': 'run-setup' }, s.setup) : null,
    s.status === 'interrupted' ? h('p', { class: 'warning' }, 'This run stopped without finishing (a crash, a kill or a reboot). Its last checkpoint is intact: Resume continues from it.') : null,
    progress,
    s.epochs.length === 0
      ? h('p', { class: 'muted' }, s.status === 'running' ? 'Waiting for the first epoch to finish…' : 'This run has no finished epochs.')
      : h('div', { class: 'charts' },
          lineChart('Loss', s, [{ label: 'loss', key: 'loss' }, { label: 'val_loss', key: 'valLoss' }], 'valLoss', 'cross-entropy', false),
          lineChart('Accuracy', s, [{ label: 'acc', key: 'accuracy' }, { label: 'val_acc', key: 'valAccuracy' }, { label: 'balanced val_acc', key: 'valBalancedAccuracy' }], 'valBalancedAccuracy', 'accuracy', true)),
    s.epochs.length ? h('h2', {}, 'Epoch log') : null,
    s.epochs.length ? h('div', { class: 'table-wrap' }, epochTable(s)) : null);
}

connect('training', (m) => {
  if (m.type === 'training/state') render(m.state);
});
