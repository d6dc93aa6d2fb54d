import '../common/elements';
import type { DatasetSummary } from '../../src/shared/protocol/results';
import type { DatasetPanelState } from '../../src/shared/protocol/views/dataset';
import { LESION_CLASS_INFO, isLesionClass } from '../../src/shared/classes';
import { connect, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren } from '../common/dom';
import { button } from '../common/elements';
import { Chart, applyThemeDefaults, seriesColors } from '../common/charts';

const root = appRoot();
let chart: Chart | undefined;

const label = (name: string): string => (isLesionClass(name) ? `${name} — ${LESION_CLASS_INFO[name].label}` : name);

function distributionChart(summary: DatasetSummary): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Images per class: train, validation and augmented' });
  const colors = seriesColors();
  const hasAug = summary.classes.some((c) => (c.augmented ?? 0) > 0);
  chart?.destroy();
  chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: summary.classes.map((c) => c.name),
      datasets: [
        { label: 'train', data: summary.classes.map((c) => c.train.images), backgroundColor: colors[0], stack: 'train' },
        ...(hasAug ? [{ label: 'augmented', data: summary.classes.map((c) => c.augmented ?? 0), backgroundColor: colors[2], stack: 'train' }] : []),
        { label: 'val', data: summary.classes.map((c) => c.val.images), backgroundColor: colors[1], stack: 'val' },
      ],
    },
    options: {
      plugins: { title: { display: true, text: hasAug ? 'Images per class (train bars include augmented images)' : 'Images per class' }, legend: { position: 'bottom' } },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'images' } } },
    },
  });
  return h('div', { class: 'chart tall' }, canvas);
}

function classTable(summary: DatasetSummary): HTMLElement {
  const hasAug = summary.classes.some((c) => (c.augmented ?? 0) > 0);
  const sum = (f: (c: DatasetSummary['classes'][number]) => number): number => summary.classes.reduce((a, c) => a + f(c), 0);
  const row = (cells: (string | number)[], cls = ''): HTMLElement => h('tr', { class: cls }, ...cells.map((c, i) => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : undefined }, String(c))));
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ...['class', 'images', 'lesions', 'images/lesion', 'train', 'val', 'val share', ...(hasAug ? ['augmented'] : [])].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...summary.classes.map((c) =>
      row([label(c.name), c.all.images, c.all.lesions, c.all.lesions ? (c.all.images / c.all.lesions).toFixed(2) : '–', `${c.train.images} (${c.train.lesions} les.)`, `${c.val.images} (${c.val.lesions} les.)`, c.all.images ? `${((100 * c.val.images) / c.all.images).toFixed(1)}%` : '–', ...(hasAug ? [c.augmented ?? 0] : [])]))),
    h('tfoot', {}, row(['all', sum((c) => c.all.images), sum((c) => c.all.lesions), '', sum((c) => c.train.images), sum((c) => c.val.images), '', ...(hasAug ? [sum((c) => c.augmented ?? 0)] : [])], 'total')));
}

function splitInfo(s: DatasetSummary): HTMLElement {
  const leak = s.split === 'image'
    ? h('p', { class: 'warning' }, `Image-level split (the reference workflow's): ${s.straddlingLesions ?? '?'} lesions have images in both train and val, so validation accuracy is optimistic.`)
    : h('p', {}, 'Split by lesion: no lesion has images in both train and val.');
  return h('div', { class: 'facts' },
    h('dl', {},
      h('dt', {}, 'Source'), h('dd', {}, `${s.sourcePath} (${s.layout})`),
      h('dt', {}, 'Split'), h('dd', {}, `${s.split}, val fraction ${s.valFraction}, seed ${s.seed}`),
      h('dt', {}, 'Files'), h('dd', {}, `${s.link === 'hard' ? 'hard links' : s.link === 'symlink' ? 'symbolic links' : 'copies'} — the source is never modified`),
      h('dt', {}, 'Prepared'), h('dd', {}, new Date(s.preparedAt).toLocaleString())),
    leak);
}

function excludedTable(s: DatasetSummary): HTMLElement {
  if (s.excludedCount === 0) return h('p', {}, 'No files were excluded.');
  return h('div', {},
    h('p', {}, `${s.excludedCount} file(s) excluded${s.excludedCount > s.excluded.length ? ` — the first ${s.excluded.length} are listed; manifest.json › excluded has them all` : ''}.`),
    h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'file'), h('th', { scope: 'col' }, 'reason'))),
      h('tbody', {}, ...s.excluded.map((e) => h('tr', {}, h('td', { class: 'mono' }, e.file), h('td', {}, e.reason))))));
}

function render(state: DatasetPanelState): void {
  applyThemeDefaults();
  const s = state.summary;
  if (!s) {
    chart?.destroy();
    chart = undefined;
    replaceChildren(root, emptyState('No prepared dataset', 'Prepare a dataset to see its class distribution, the split and any excluded files here.',
      button('Create Demo Dataset', () => runCommand('lesionLab.createDemoData')),
      button('Prepare Dataset…', () => runCommand('lesionLab.prepareDataset'), { secondary: true })));
    return;
  }
  const total = s.classes.reduce((a, c) => a + c.all.images, 0);
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Dataset'), h('span', { class: 'muted' }, `${total} images · ${state.preparedPath ?? ''}`),
      h('div', { class: 'actions' }, button('Augment…', () => runCommand('lesionLab.augment'), { secondary: true }), button('Samples', () => runCommand('lesionLab.showSamples'), { secondary: true }))),
    distributionChart(s),
    h('h2', {}, 'Per class'), h('div', { class: 'table-wrap' }, classTable(s)),
    h('h2', {}, 'Split'), splitInfo(s),
    h('h2', {}, 'Excluded files'), excludedTable(s));
}

connect('dataset', (m) => {
  if (m.type === 'dataset/state') render(m.state);
});
