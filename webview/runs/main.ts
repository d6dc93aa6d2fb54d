import '../common/elements';
import type { EpochMetrics } from '../../src/shared/protocol/results';
import type { RunEditField, RunOpenTarget, RunsPanelState, RunsToHost } from '../../src/shared/protocol/views/runs';
import type { RunRow } from '../../src/shared/runsTable';
import { isCleanupCandidate } from '../../src/shared/runsTable';
import { formatDuration, formatPercent } from '../../src/shared/format';
import { connect, post } from '../common/host';
import { appRoot, h, replaceChildren } from '../common/dom';
import { button } from '../common/elements';
import { Chart, applyThemeDefaults, seriesColors } from '../common/charts';
import { chartFrame, opaqueBackground, zoomOptions } from '../common/chartTools';

const root = appRoot();
const send = (m: RunsToHost): void => post(m);

interface Column {
  id: string;
  label: string;
  title?: string;
  /** What the column sorts by (undefined sorts last). */
  value(r: RunRow): string | number | undefined;
  cell(r: RunRow): Node | string;
  numeric?: boolean;
}

const dash = '—';
const pct = (x: number | undefined): string => (x === undefined ? dash : formatPercent(x));

const COLUMNS: Column[] = [
  { id: 'status', label: 'Status', value: (r) => r.status, cell: (r) => h('span', { class: `status status-${r.status}`, title: r.error ?? r.status }, r.status) },
  {
    id: 'balanced',
    label: 'Bal. acc',
    title: 'balanced accuracy (mean per-class recall) of the best checkpoint on validation, with its 95% bootstrap interval where the evaluation has one',
    value: (r) => r.balancedAccuracy,
    cell: (r) => h('span', { title: r.resultsFrom === 'evaluation' ? 'from evaluation.json' : r.resultsFrom === 'training' ? 'from training’s validation at the best epoch (not evaluated yet)' : '' },
      pct(r.balancedAccuracy), r.balancedAccuracyCi ? h('span', { class: 'muted small' }, ` (${formatPercent(r.balancedAccuracyCi.low)}–${formatPercent(r.balancedAccuracyCi.high)})`) : null),
    numeric: true,
  },
  { id: 'accuracy', label: 'Accuracy', value: (r) => r.accuracy, cell: (r) => pct(r.accuracy), numeric: true },
  { id: 'loss', label: 'Val loss', title: 'validation loss at the best epoch', value: (r) => r.loss, cell: (r) => (r.loss === undefined ? dash : r.loss.toFixed(4)), numeric: true },
  { id: 'best', label: 'Best epoch', title: 'the epoch whose weights are in checkpoints/best', value: (r) => r.bestEpoch, cell: (r) => String(r.bestEpoch ?? dash), numeric: true },
  { id: 'epochs', label: 'Epochs', value: (r) => r.epochs, cell: (r) => String(r.epochs), numeric: true },
  { id: 'duration', label: 'Duration', title: 'training time, the epochs added up', value: (r) => r.seconds, cell: (r) => (r.seconds > 0 ? formatDuration(r.seconds) : dash), numeric: true },
  { id: 'model', label: 'Model', value: (r) => r.setup?.model, cell: (r) => r.setup?.model ?? dash },
  { id: 'width', label: 'Width', title: 'MobileNetV2 width multiplier (α)', value: (r) => r.setup?.width, cell: (r) => (r.setup?.width !== undefined ? String(r.setup.width) : dash), numeric: true },
  { id: 'weights', label: 'Weights', value: (r) => r.setup?.weights, cell: (r) => r.setup?.weights ?? dash },
  { id: 'size', label: 'Size', title: 'input side in pixels', value: (r) => r.setup?.size, cell: (r) => (r.setup?.size ? `${r.setup.size} px` : dash), numeric: true },
  { id: 'batch', label: 'Batch', value: (r) => r.setup?.batch, cell: (r) => String(r.setup?.batch ?? dash), numeric: true },
  { id: 'optimizer', label: 'Optimizer', title: 'head → fine-tune', value: (r) => r.setup?.optimizer, cell: (r) => r.setup?.optimizer ?? dash },
  { id: 'lr', label: 'Learning rate', title: 'head → fine-tune', value: (r) => r.setup?.learningRate, cell: (r) => r.setup?.learningRate ?? dash },
  { id: 'augment', label: 'Augment', value: (r) => r.setup?.augment, cell: (r) => r.setup?.augment ?? dash },
  { id: 'engine', label: 'Engine', value: (r) => r.setup?.engine, cell: (r) => r.setup?.engine ?? dash },
  { id: 'precision', label: 'Precision', value: (r) => r.setup?.precision, cell: (r) => r.setup?.precision ?? dash },
  { id: 'seed', label: 'Seed', value: (r) => r.setup?.seed, cell: (r) => String(r.setup?.seed ?? dash), numeric: true },
  { id: 'created', label: 'Started', value: (r) => r.createdAt, cell: (r) => (r.createdAt ? new Date(r.createdAt).toLocaleString() : dash) },
];

/** The table's own settings: kept across snapshots. */
const view = {
  sort: { column: 'created', descending: true },
  filter: '',
  selected: new Set<string>(),
  metric: 'valBalancedAccuracy' as keyof EpochMetrics,
  x: 'epoch' as 'epoch' | 'step',
};
let last: RunsPanelState | undefined;
let compareChart: Chart<'line', { x: number; y: number }[]> | undefined;

const METRICS: { key: keyof EpochMetrics; label: string; percent?: boolean }[] = [
  { key: 'valBalancedAccuracy', label: 'balanced val_acc', percent: true },
  { key: 'valAccuracy', label: 'val_acc', percent: true },
  { key: 'valLoss', label: 'val_loss' },
  { key: 'loss', label: 'loss' },
  { key: 'accuracy', label: 'acc', percent: true },
  { key: 'lr', label: 'learning rate' },
  { key: 'seconds', label: 'seconds per epoch' },
];

function matches(r: RunRow, filter: string): boolean {
  if (!filter) return true;
  const hay = [r.name, r.folder, r.note, r.status, ...r.tags, ...Object.values(r.setup ?? {}).map(String)].join(' ').toLowerCase();
  return filter.toLowerCase().split(/\s+/).filter(Boolean).every((word) => hay.includes(word));
}

function sorted(rows: RunRow[]): RunRow[] {
  const column = COLUMNS.find((c) => c.id === view.sort.column) ?? (view.sort.column === 'name' ? { value: (r: RunRow) => r.name.toLowerCase() } : undefined);
  if (!column) return rows;
  const sign = view.sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    if (x === undefined && y === undefined) return 0;
    if (x === undefined) return 1; // unknown values last, either way
    if (y === undefined) return -1;
    return (x < y ? -1 : x > y ? 1 : 0) * sign;
  });
}

function headerCell(id: string, label: string, title?: string, numeric = false): HTMLElement {
  const active = view.sort.column === id;
  return h('th', { scope: 'col', class: numeric ? 'num' : '', 'aria-sort': active ? (view.sort.descending ? 'descending' : 'ascending') : 'none', title },
    h('button', {
      class: 'sort', 'data-column': id,
      onclick: () => {
        view.sort = { column: id, descending: active ? !view.sort.descending : numeric };
        if (last) render(last);
      },
    }, label, active ? (view.sort.descending ? ' ▼' : ' ▲') : ''));
}

function link(text: string, title: string, onClick: () => void, disabled = false): HTMLElement {
  return disabled
    ? h('span', { class: 'muted', title }, text)
    : h('a', { href: '#', title, 'data-action': text, onclick: (ev: Event) => { ev.preventDefault(); onClick(); } }, text);
}

function nameCell(r: RunRow, s: RunsPanelState): HTMLElement {
  const open = (target: RunOpenTarget) => () => send({ type: 'runs/open', path: r.path, target });
  const edit = (field: RunEditField) => () => send({ type: 'runs/edit', path: r.path, field });
  const busy = r.path === s.busyRun;
  return h('td', { class: 'run-cell' },
    h('div', {}, h('strong', { class: 'run-title', title: r.path }, r.name), r.name !== r.folder ? h('span', { class: 'muted small' }, ` ${r.folder}`) : null, r.archived ? h('span', { class: 'tag archived' }, 'archived') : null),
    r.tags.length ? h('div', { class: 'tags' }, ...r.tags.map((t) => h('span', { class: 'tag' }, t))) : null,
    r.note ? h('div', { class: 'note muted small' }, r.note) : null,
    r.error ? h('div', { class: 'error small' }, r.error) : null,
    h('div', { class: 'row-actions small' },
      link('Dashboard', 'Show its curves and epoch log in the Training panel', open('training')),
      link('Evaluation', r.hasEvaluation ? 'Show its evaluation' : 'Not evaluated yet', open('evaluation')),
      link('Model card', r.hasModelCard ? 'Read its model card' : 'No model card yet (Evaluate writes it)', open('modelCard'), !r.hasModelCard),
      link('Rename', 'A name to show instead of the folder’s', edit('name'), !s.trusted),
      link('Note', 'A note kept with the run', edit('note'), !s.trusted),
      link('Tags', 'Tags to filter by', edit('tags'), !s.trusted),
      link(r.archived ? 'Unarchive' : 'Archive', r.archived ? 'Show it in the lists again' : 'Hide it from the lists (the folder stays)', () => send({ type: 'runs/archive', paths: [r.path], archived: !r.archived }), !s.trusted),
      link('Delete…', busy ? 'It is training now' : 'Move its folder to the trash', () => send({ type: 'runs/delete', paths: [r.path] }), !s.trusted || busy)));
}

function table(s: RunsPanelState, rows: RunRow[]): HTMLElement {
  const all = rows.length > 0 && rows.every((r) => view.selected.has(r.path));
  const selectAll = h('input', { type: 'checkbox', checked: all, 'aria-label': 'Select every run shown' });
  selectAll.addEventListener('change', () => {
    for (const r of rows) {
      if ((selectAll as HTMLInputElement).checked) view.selected.add(r.path);
      else view.selected.delete(r.path);
    }
    if (last) render(last);
  });
  return h('table', { class: 'data runs-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, selectAll), headerCell('name', 'Run'), ...COLUMNS.map((c) => headerCell(c.id, c.label, c.title, c.numeric)))),
    h('tbody', {}, ...rows.map((r) => {
      const box = h('input', { type: 'checkbox', checked: view.selected.has(r.path), 'aria-label': `Select ${r.name}` });
      box.addEventListener('change', () => {
        if ((box as HTMLInputElement).checked) view.selected.add(r.path);
        else view.selected.delete(r.path);
        if (last) render(last);
      });
      return h('tr', { 'data-run': r.path, class: r.archived ? 'archived' : '' }, h('td', {}, box), nameCell(r, s), ...COLUMNS.map((c) => h('td', { class: c.numeric ? 'num' : '' }, c.cell(r))));
    })));
}

function compareSection(s: RunsPanelState): HTMLElement | null {
  compareChart?.destroy();
  compareChart = undefined;
  if (s.compare.length === 0) return null;
  const metric = METRICS.find((m) => m.key === view.metric) ?? METRICS[0]!;
  const select = h('select', { 'aria-label': 'Metric' }, ...METRICS.map((m) => h('option', { value: m.key, selected: m.key === metric.key }, m.label)));
  select.addEventListener('change', () => {
    view.metric = (select as HTMLSelectElement).value as keyof EpochMetrics;
    if (last) render(last);
  });
  const xSelect = h('select', { 'aria-label': 'Horizontal axis' }, h('option', { value: 'epoch', selected: view.x === 'epoch' }, 'Epoch'), h('option', { value: 'step', selected: view.x === 'step' }, 'Step'));
  xSelect.addEventListener('change', () => {
    view.x = (xSelect as HTMLSelectElement).value as 'epoch' | 'step';
    if (last) render(last);
  });
  const colors = seriesColors();
  const canvas = h('canvas', { role: 'img', 'aria-label': `Compared runs: ${metric.label}` });
  const frame = chartFrame(`Compare ${metric.label}`, canvas, () => compareChart);
  compareChart = new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: {
      datasets: s.compare.map((c, i) => ({
        label: c.name,
        data: c.epochs.map((m) => ({ x: view.x === 'step' ? (m.step ?? m.epoch) : m.epoch, y: m[metric.key] as number })),
        borderColor: colors[i % colors.length],
        backgroundColor: colors[i % colors.length],
        // Runs with equal values still show: each its own dash and point.
        borderDash: i === 0 ? [] : [[6, 3], [2, 3], [10, 4], [4, 2, 1, 2]][i % 4],
        pointStyle: (['circle', 'rectRot', 'triangle', 'rect', 'star', 'crossRot'] as const)[i % 6],
        pointRadius: 4,
        tension: 0.1,
      })),
    },
    options: {
      parsing: false,
      plugins: { title: { display: true, text: `${metric.label} by ${view.x}` }, legend: { position: 'bottom', labels: { usePointStyle: true } }, zoom: zoomOptions() },
      scales: {
        x: { type: 'linear', title: { display: true, text: view.x }, ticks: { precision: 0 } },
        y: metric.key === 'lr' ? { type: 'logarithmic', title: { display: true, text: metric.label } } : { title: { display: true, text: metric.label }, ...(metric.percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : {}) },
      },
    },
    plugins: [opaqueBackground],
  });
  return h('section', { class: 'compare', 'aria-label': 'Compare' },
    h('h2', {}, `Compare ${s.compare.length} runs`),
    h('div', { class: 'controls' }, h('label', { class: 'field' }, h('span', {}, 'Metric'), select), h('label', { class: 'field' }, h('span', {}, 'Horizontal axis'), xSelect),
      h('a', { href: '#', onclick: (ev: Event) => { ev.preventDefault(); send({ type: 'runs/compare', paths: [] }); } }, 'Close comparison')),
    frame);
}

function render(s: RunsPanelState): void {
  last = s;
  applyThemeDefaults();
  const known = new Set(s.runs.map((r) => r.path));
  for (const p of [...view.selected]) if (!known.has(p)) view.selected.delete(p);
  const rows = sorted(s.runs.filter((r) => matches(r, view.filter)));
  const selected = s.runs.filter((r) => view.selected.has(r.path));
  const cleanable = s.runs.filter((r) => isCleanupCandidate(r) && r.path !== s.busyRun).length;
  const filter = h('vscode-textfield', { value: view.filter, placeholder: 'Filter: name, tag, model, status…', 'aria-label': 'Filter runs', class: 'filter' });
  filter.addEventListener('input', (ev: Event) => {
    view.filter = (ev.target as HTMLInputElement).value;
    if (last) renderTableOnly(last);
  });
  const archived = h('input', { type: 'checkbox', checked: s.showArchived, 'aria-label': 'Show archived runs' });
  archived.addEventListener('change', () => send({ type: 'runs/showArchived', show: (archived as HTMLInputElement).checked }));
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Runs'), h('span', { class: 'muted' }, s.runsDir ?? 'no folder open'),
      h('div', { class: 'actions' },
        button(`Clean Up${cleanable ? ` (${cleanable})` : ''}…`, () => send({ type: 'runs/cleanUp' }), { secondary: true, disabled: !s.trusted || cleanable === 0, title: 'Move every failed run, and every run without a finished epoch, to the trash' }),
        button('Refresh', () => send({ type: 'runs/refresh' }), { secondary: true }))),
    s.runs.length === 0 && !view.filter
      ? h('p', { class: 'muted' }, 'No runs yet. Start one from the Lesion Lab view; each run keeps its checkpoints and metrics in a folder of its own here.')
      : null,
    h('div', { class: 'toolbar' },
      filter,
      h('label', { class: 'check' }, archived, 'Show archived'),
      button(`Compare${selected.length ? ` (${selected.length})` : ''}`, () => send({ type: 'runs/compare', paths: selected.map((r) => r.path) }), { disabled: selected.length < 2, title: 'Overlay a metric of the selected runs (select two or more)' }),
      button('Archive', () => send({ type: 'runs/archive', paths: selected.map((r) => r.path), archived: true }), { secondary: true, disabled: selected.length === 0 || !s.trusted }),
      button('Delete…', () => send({ type: 'runs/delete', paths: selected.map((r) => r.path) }), { secondary: true, disabled: selected.length === 0 || !s.trusted })),
    h('div', { class: 'table-wrap', id: 'runs-table' }, table(s, rows)),
    h('p', { class: 'muted small', id: 'runs-count' }, `${rows.length} of ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} shown${s.showArchived ? '' : ' (archived ones hidden)'} · click a column to sort`),
    compareSection(s));
}

/** Typing in the filter redraws the table only: the box keeps its focus. */
function renderTableOnly(s: RunsPanelState): void {
  const rows = sorted(s.runs.filter((r) => matches(r, view.filter)));
  const wrap = document.getElementById('runs-table');
  if (wrap) replaceChildren(wrap, table(s, rows));
  const count = document.getElementById('runs-count');
  if (count) count.textContent = `${rows.length} of ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} shown${s.showArchived ? '' : ' (archived ones hidden)'} · click a column to sort`;
}

replaceChildren(root, h('p', { class: 'muted' }, 'Loading…'));
connect('runs', (m) => {
  if (m.type === 'runs/state') render(m.state);
});
