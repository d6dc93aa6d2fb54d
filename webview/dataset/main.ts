import '../common/elements';
import type { DatasetSummary, NearDuplicateImage, NearDuplicatePair, NearDuplicateSummary } from '../../src/shared/protocol/results';
import { chainWarning, describeNearDuplicates } from '../../src/shared/nearDuplicates';
import type { DatasetPanelState } from '../../src/shared/protocol/views/dataset';
import { describeClass, summaryClassLabels } from '../../src/shared/classes';
import { connect, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren, swatch } from '../common/dom';
import { button } from '../common/elements';
import { Chart, applyThemeDefaults, classColorAt } from '../common/charts';

const root = appRoot();
let chart: Chart | undefined;

/**
 * What one group of the split is ("lesion", "patient", "group"), or undefined where the data has no group
 * column. A summary from before groupings were recorded was grouped by HAM10000's lesion_id.
 */
function groupNoun(s: DatasetSummary): string | undefined {
  if (s.grouping) return s.grouping.noun;
  return s.leakage ? undefined : 'lesion';
}

/**
 * Each class's bars in the class's colour (the colour its swatch has in the tables, and its bar in
 * Classify): train solid, augmented (stacked on train) lighter, val as an outline with a light fill. The
 * legend explains those three fills in the text colour, since no one class colour stands for a series.
 */
function distributionChart(summary: DatasetSummary): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Images per class: train, validation and augmented' });
  const colors = summary.classes.map((_, k) => classColorAt(k));
  const hasAug = summary.classes.some((c) => (c.augmented ?? 0) > 0);
  const fills = { train: 1, augmented: 0.55, val: 0.22, test: 0.08 } as const;
  chart?.destroy();
  chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: summary.classes.map((c) => c.name),
      datasets: [
        { label: 'train', data: summary.classes.map((c) => c.train.images), backgroundColor: colors, stack: 'train' },
        ...(hasAug ? [{ label: 'augmented', data: summary.classes.map((c) => c.augmented ?? 0), backgroundColor: colors.map((c) => withAlpha(c, fills.augmented)), stack: 'train' }] : []),
        { label: 'val', data: summary.classes.map((c) => c.val.images), backgroundColor: colors.map((c) => withAlpha(c, fills.val)), borderColor: colors, borderWidth: 2, stack: 'val' },
        ...(hasTest(summary) ? [{ label: 'test', data: summary.classes.map((c) => c.test?.images ?? 0), backgroundColor: colors.map((c) => withAlpha(c, fills.test)), borderColor: colors, borderWidth: 1, stack: 'test' }] : []),
      ],
    },
    options: {
      plugins: {
        title: { display: true, text: hasAug ? 'Images per class (train bars include augmented images)' : 'Images per class' },
        legend: {
          position: 'bottom',
          labels: {
            generateLabels: (c) => {
              const text = String(Chart.defaults.color);
              return c.data.datasets.map((d, i) => {
                const alpha = fills[d.label as keyof typeof fills] ?? 1;
                return { text: d.label === 'test' ? 'test (held out)' : (d.label ?? ''), datasetIndex: i, hidden: !c.isDatasetVisible(i), fontColor: text, fillStyle: alpha < 1 ? withAlpha(text, alpha) : text, strokeStyle: text, lineWidth: d.label === 'val' ? 2 : d.label === 'test' ? 1 : 0 };
              });
            },
          },
        },
      },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'images' } } },
    },
  });
  return h('div', { class: 'chart tall' }, canvas);
}

/** A CSS colour (#rgb, #rrggbb or rgb()) at opacity `alpha`; other forms are returned as they are. */
function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (hex) {
    const full = hex[1]!.length === 3 ? hex[1]!.replace(/./g, (x) => x + x) : hex[1]!;
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(color.trim());
  return rgb ? `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})` : color;
}

/** The ISIC 2018 test set was prepared beside train/val, as test/. */
const hasTest = (summary: DatasetSummary): boolean => summary.classes.some((c) => (c.test?.images ?? 0) > 0);

function classTable(summary: DatasetSummary): HTMLElement {
  const hasAug = summary.classes.some((c) => (c.augmented ?? 0) > 0);
  const test = hasTest(summary);
  const noun = groupNoun(summary);
  const labels = summaryClassLabels(summary.classes);
  const sum = (f: (c: DatasetSummary['classes'][number]) => number): number => summary.classes.reduce((a, c) => a + f(c), 0);
  const cell = (c: Node | string | number, i: number): HTMLElement => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : undefined }, typeof c === 'number' ? String(c) : c);
  const row = (cells: (Node | string | number)[], cls = ''): HTMLElement => h('tr', { class: cls }, ...cells.map(cell));
  const name = (className: string, k: number): HTMLElement => h('span', { class: 'class-name' }, swatch(classColorAt(k)), describeClass(className, labels));
  // Without a group column every image is its own group: group counts would only repeat the image counts.
  const groups = (n: { images: number; lesions: number }): string => (noun ? ` (${n.lesions} ${noun.slice(0, 3)}.)` : '');
  const head = ['class', 'images', ...(noun ? [`${noun}s`, `images/${noun}`] : []), 'train', 'val', 'val share', ...(test ? ['test'] : []), ...(hasAug ? ['augmented'] : [])];
  // The validation share is of train + val: a held-out test set is neither.
  const valShare = (c: DatasetSummary['classes'][number]): string => (c.train.images + c.val.images ? `${((100 * c.val.images) / (c.train.images + c.val.images)).toFixed(1)}%` : '–');
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...summary.classes.map((c, k) =>
      row([name(c.name, k), c.all.images, ...(noun ? [c.all.lesions, c.all.lesions ? (c.all.images / c.all.lesions).toFixed(2) : '–'] : []), `${c.train.images}${groups(c.train)}`, `${c.val.images}${groups(c.val)}`, valShare(c), ...(test ? [c.test?.images ?? 0] : []), ...(hasAug ? [c.augmented ?? 0] : [])]))),
    // A lesion is of one class, so lesions add up over classes; a patient's (or group's) images may span several.
    h('tfoot', {}, row(['all', sum((c) => c.all.images), ...(noun ? [noun === 'lesion' ? sum((c) => c.all.lesions) : '', ''] : []), sum((c) => c.train.images), sum((c) => c.val.images), '', ...(test ? [sum((c) => c.test?.images ?? 0)] : []), ...(hasAug ? [sum((c) => c.augmented ?? 0)] : [])], 'total')));
}

/** What the split kept apart, in a sentence; a warning where it cannot rule out leakage. */
function splitStatement(s: DatasetSummary): HTMLElement[] {
  if (s.split === 'image') {
    return [h('p', { class: 'warning' }, `Image-level split (the reference workflow's): ${s.straddlingLesions ?? '?'} lesions have images in both train and val, so validation accuracy is optimistic.`)];
  }
  const noun = groupNoun(s);
  const kept = !noun ? [] : !s.grouping || s.grouping.column === 'lesion_id' && noun === 'lesion'
    ? [h('p', {}, `Split by ${noun}: no ${noun} has images in both train and val.`)]
    : [h('p', {}, `Split by ${noun} (${s.grouping.column}): no ${noun} has images in both train and val.`)];
  return kept;
}

function splitInfo(s: DatasetSummary): HTMLElement {
  const noun = groupNoun(s);
  const by = s.split === 'image' ? 'image' : noun ? (s.grouping && s.grouping.column !== 'lesion_id' ? `${noun} (${s.grouping.column})` : noun) : 'image (no group column)';
  return h('div', { class: 'facts' },
    h('dl', {},
      h('dt', {}, 'Source'), h('dd', {}, `${s.sourcePath} (${s.layout}${s.synthetic ? ', synthetic demo data: painted, not photographed' : ''})`),
      h('dt', {}, 'Split'), h('dd', {}, `${by}, val fraction ${s.valFraction}, seed ${s.seed}`),
      h('dt', {}, 'Files'), h('dd', {}, `${s.link === 'hard' ? 'hard links' : s.link === 'symlink' ? 'symbolic links' : 'copies'} — the source is never modified`),
      h('dt', {}, 'Prepared'), h('dd', {}, new Date(s.preparedAt).toLocaleString())),
    ...splitStatement(s));
}

function excludedTable(s: DatasetSummary): HTMLElement {
  if (s.excludedCount === 0) return h('p', {}, 'No files were excluded.');
  return h('div', {},
    h('p', {}, `${s.excludedCount} file(s) excluded${s.excludedCount > s.excluded.length ? ` — the first ${s.excluded.length} are listed; manifest.json › excluded has them all` : ''}.`),
    h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'file'), h('th', { scope: 'col' }, 'reason'))),
      h('tbody', {}, ...s.excluded.map((e) => h('tr', {}, h('td', { class: 'mono' }, e.file), h('td', {}, e.reason))))));
}

/**
 * The near-duplicate pairs side by side (thumbnails, ids, lesions, classes, splits, distance), under the sentence
 * that says what prepare found and did; said plainly when there are none.
 */
function nearDuplicatesSection(nd: NearDuplicateSummary | undefined, thumbnails: Record<string, string> | undefined, images: number): HTMLElement {
  if (!nd) return h('p', { class: 'muted' }, 'Not checked: this dataset was prepared before Lesion Lab looked for near-duplicates. Prepare it again to check.');
  const statement = describeNearDuplicates(nd).replace(/^near-duplicates: /, '');
  const sentence = statement.charAt(0).toUpperCase() + statement.slice(1);
  const leak = nd.mode === 'ignore' && nd.crossSplit > 0;
  const chain = chainWarning(nd, images);
  const side = (img: NearDuplicateImage): HTMLElement => {
    const uri = thumbnails?.[img.file];
    return h('figure', { class: 'tile' },
      uri ? h('img', { src: uri, alt: img.imageId, title: img.file }) : h('div', { class: 'placeholder muted small' }, thumbnails ? 'no thumbnail' : 'loading…'),
      h('figcaption', { class: 'small' },
        h('div', { class: 'mono' }, img.imageId),
        h('div', { class: 'muted' }, `${img.lesionId} · ${img.dx}`),
        h('div', { class: `split-tag ${img.split}` }, img.split)));
  };
  const pair = (p: NearDuplicatePair): HTMLElement => {
    const crosses = p.a.split !== p.b.split;
    return h('div', { class: `pair${crosses ? ' crosses' : ''}`, 'data-testid': 'near-duplicate-pair' },
      side(p.a), side(p.b),
      h('p', { class: 'small pair-note' }, `${p.distance} bit${p.distance === 1 ? '' : 's'} apart · ${crosses ? `${p.a.split} and ${p.b.split}: across the split` : `both in ${p.a.split}`}`));
  };
  return h('div', { 'data-testid': 'near-duplicates' },
    h('p', { class: leak ? 'warning' : '' }, `${sentence} Hash: 64-bit DCT perceptual hash of each image; a pair is two images of different groups.`),
    chain ? h('p', { class: 'warning' }, chain.charAt(0).toUpperCase() + chain.slice(1)) : null,
    nd.pairs > nd.shown.length ? h('p', { class: 'muted' }, `The first ${nd.shown.length} of ${nd.pairs} pairs, those across the split first; manifest.json › nearDuplicates lists more.`) : null,
    nd.shown.length ? h('div', { class: 'pairs' }, ...nd.shown.map(pair)) : null);
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
    s.leakage ? h('p', { class: 'warning', 'data-testid': 'leakage' }, s.leakage) : null,
    distributionChart(s),
    h('h2', {}, 'Per class'), h('div', { class: 'table-wrap' }, classTable(s)),
    h('h2', {}, 'Split'), splitInfo(s),
    h('h2', {}, 'Near-duplicates'), nearDuplicatesSection(s.nearDuplicates, state.thumbnails, total),
    h('h2', {}, 'Excluded files'), excludedTable(s));
}

connect('dataset', (m) => {
  if (m.type === 'dataset/state') render(m.state);
});
