import '../common/elements';
import type { EpochMetrics, TrainingPanelState } from '../../src/shared/protocol';
import { formatDuration } from '../../src/shared/format';
import { connect, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren } from '../common/dom';
import { button } from '../common/elements';
import { Chart, applyThemeDefaults, seriesColors } from '../common/charts';

const root = appRoot();
let charts: Chart[] = [];

function lineChart(title: string, epochs: EpochMetrics[], series: { label: string; key: keyof EpochMetrics }[], yLabel: string, percent: boolean): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': title });
  const colors = seriesColors();
  const boundary = epochs.findIndex((m) => m.phase === 'finetune');
  charts.push(new Chart(canvas, {
    type: 'line',
    data: {
      labels: epochs.map((m) => m.epoch),
      datasets: series.map((s, i) => ({
        label: s.label,
        data: epochs.map((m) => m[s.key] as number),
        borderColor: colors[i % colors.length],
        backgroundColor: colors[i % colors.length],
        pointRadius: epochs.length > 40 ? 0 : 3,
        tension: 0.15,
      })),
    },
    options: {
      plugins: {
        title: { display: true, text: boundary > 0 ? `${title} (fine-tuning from epoch ${epochs[boundary]!.epoch})` : title },
        legend: { position: 'bottom' },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${percent ? `${((c.parsed.y ?? 0) * 100).toFixed(1)}%` : (c.parsed.y ?? 0).toFixed(4)}` } },
      },
      scales: {
        x: { title: { display: true, text: 'epoch' } },
        y: { title: { display: true, text: yLabel }, ...(percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : { beginAtZero: true }) },
      },
    },
  }));
  return h('div', { class: 'chart' }, canvas);
}

function epochTable(epochs: EpochMetrics[]): HTMLElement {
  const best = epochs.reduce((b, m) => (m.valAccuracy > b ? m.valAccuracy : b), -1);
  return h('table', { class: 'data mono' },
    h('thead', {}, h('tr', {}, ...['epoch', 'phase', 'time', 'loss', 'acc', 'val_loss', 'val_acc', 'val_bal_acc', 'lr'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...epochs.map((m) => h('tr', { class: m.valAccuracy === best ? 'best' : '' },
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
      button('Train…', () => runCommand('lesionLab.train')), button('Open Run Folder…', () => runCommand('lesionLab.showTraining'), { secondary: true })));
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
      h('div', { class: 'actions' }, s.status === 'running' ? button('Stop', () => runCommand('lesionLab.stop'), { secondary: true }) : button('Evaluate', () => runCommand('lesionLab.evaluate', s.run!), { secondary: true }))),
    progress,
    s.epochs.length === 0
      ? h('p', { class: 'muted' }, s.status === 'running' ? 'Waiting for the first epoch to finish…' : 'This run has no finished epochs.')
      : h('div', { class: 'charts' },
          lineChart('Loss', s.epochs, [{ label: 'loss', key: 'loss' }, { label: 'val_loss', key: 'valLoss' }], 'cross-entropy', false),
          lineChart('Accuracy', s.epochs, [{ label: 'acc', key: 'accuracy' }, { label: 'val_acc', key: 'valAccuracy' }, { label: 'balanced val_acc', key: 'valBalancedAccuracy' }], 'accuracy', true)),
    s.epochs.length ? h('h2', {}, 'Epoch log') : null,
    s.epochs.length ? epochTable(s.epochs) : null);
}

connect('training', (m) => {
  if (m.type === 'training/state') render(m.state);
});
