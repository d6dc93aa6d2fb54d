import '../common/elements';
import type { LrFinderPanelState } from '../../src/shared/protocol/views/lrFinder';
import { connect } from '../common/host';
import { appRoot, emptyState, h, replaceChildren, themeColor } from '../common/dom';
import { Chart, applyThemeDefaults, seriesColors } from '../common/charts';
import type { MarkerLine } from '../common/chartTools';
import { chartFrame, markerLines, opaqueBackground, powersOfTenTicks, titleAboveMarkers, zoomOptions } from '../common/chartTools';
import { formatLearningRate } from '../../src/shared/runsTable';

const root = appRoot();
let chart: Chart<'line', { x: number; y: number }[]> | undefined;
const lr = (x: number | undefined): string => (x === undefined ? '—' : x.toExponential(1));

/**
 * The loss axis spans the smoothed curve (with a margin): the raw losses of the last, diverging batches
 * would otherwise stretch it until the part that matters is a flat line. Zoom out to see them whole.
 */
function lossRange(s: LrFinderPanelState): { min?: number; max?: number } {
  const smoothed = s.points.map((p) => p.smoothed).filter((y): y is number => typeof y === 'number' && Number.isFinite(y));
  if (!smoothed.length) return {};
  const lo = Math.min(...smoothed);
  const hi = Math.max(...smoothed);
  const margin = Math.max(hi - lo, 0.05 * Math.abs(hi), 1e-3) * 0.25;
  return { min: Math.max(0, lo - margin), max: hi + margin };
}

function render(s: LrFinderPanelState): void {
  applyThemeDefaults();
  chart?.destroy();
  chart = undefined;
  if (s.status === 'empty') {
    replaceChildren(root, emptyState('Learning rate finder', 'Press Find beside a learning rate in the Lesion Lab view’s More options: about 100 batches at growing learning rates show where the loss falls fastest.'));
    return;
  }
  const phase = s.phase === 'finetune' ? 'fine-tuning' : 'head';
  const header = h('header', { class: 'panel-header' }, h('h1', {}, 'Learning rate finder'), h('span', { class: `status status-${s.status === 'done' ? 'finished' : s.status}` }, s.status), h('span', { class: 'muted' }, `${phase} phase${s.setup ? ` · ${s.setup}` : ''}`));
  if (s.status === 'running') {
    replaceChildren(root, header, h('p', { class: 'muted' }, 'Training about 100 batches at learning rates from 1e-7 up, until the loss diverges. Its progress is in the notification; the weights are thrown away afterwards.'), h('vscode-progress-bar', { indeterminate: true }));
    return;
  }
  if (s.status === 'failed') {
    replaceChildren(root, header, h('p', { class: 'error' }, s.error ?? 'The range test failed.'));
    return;
  }
  const g = s.suggestion ?? {};
  const colors = seriesColors();
  const lines: MarkerLine[] = [
    ...(g.steepest !== undefined ? [{ x: g.steepest, label: `steepest descent ${lr(g.steepest)}`, color: colors[2]! }] : []),
    ...(g.minimumTenth !== undefined ? [{ x: g.minimumTenth, label: `minimum/10 ${lr(g.minimumTenth)}`, color: themeColor('--vscode-descriptionForeground', '#888') }] : []),
  ];
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Loss against learning rate' });
  chart = new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'loss (raw)', data: s.points.map((p) => ({ x: p.lr, y: p.loss as number })), borderColor: `${colors[0]}55`, backgroundColor: `${colors[0]}55`, borderWidth: 1, pointRadius: 0, order: 2 },
        { label: 'smoothed loss', data: s.points.map((p) => ({ x: p.lr, y: p.smoothed as number })), borderColor: colors[0], backgroundColor: colors[0], borderWidth: 2, pointRadius: 0, order: 1 },
      ],
    },
    options: {
      parsing: false,
      plugins: { title: titleAboveMarkers('Loss against learning rate', lines), legend: { position: 'bottom' }, zoom: zoomOptions() },
      scales: {
        x: { type: 'logarithmic', title: { display: true, text: 'learning rate (log scale)' }, ticks: powersOfTenTicks(formatLearningRate) },
        y: { title: { display: true, text: 'training loss' }, ...lossRange(s) },
      },
    },
    plugins: [opaqueBackground, markerLines(lines)],
  });
  const stopped = s.stoppedBy === 'divergence' ? 'stopped when the loss diverged (4× its best)' : s.stoppedBy === 'nan' ? 'stopped when the loss was not a number' : 'ran the whole range';
  replaceChildren(root, header,
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi', 'data-testid': 'lr-suggested' }, h('span', { class: 'kpi-value' }, lr(g.suggested)), h('span', { class: 'kpi-label' }, s.applied ? `put into the ${s.applied.field === 'lr' ? 'head' : 'fine-tune'} learning rate` : 'suggested')),
      h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, lr(g.steepest)), h('span', { class: 'kpi-label' }, 'steepest descent of the smoothed loss')),
      h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, lr(g.minimumTenth)), h('span', { class: 'kpi-label' }, `a tenth of the minimum (at ${lr(g.minimum)})`))),
    h('p', { class: 'muted small' }, `${s.points.length} batches, ${stopped}. ${g.steepest !== undefined ? 'A learning rate between the two readings usually trains well; the steepest one trains fastest, the smaller one is safer.' : 'The smoothed loss never fell clearly before it rose (common when training from scratch on little data): a tenth of its minimum is suggested, a cautious value.'}`),
    chartFrame('Learning rate finder', canvas, () => chart));
}

replaceChildren(root, h('p', { class: 'muted' }, 'Loading…'));
connect('lrFinder', (m) => {
  if (m.type === 'lrFinder/state') render(m.state);
});
