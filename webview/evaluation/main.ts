import '../common/elements';
import type { EvaluatedImage, Evaluation } from '../../src/shared/protocol/results';
import type { EvaluationPanelState } from '../../src/shared/protocol/views/evaluation';
import { describeClass } from '../../src/shared/classes';
import { formatPercent } from '../../src/shared/format';
import { ISIC2018_LEADERBOARD, chanceLevel, chanceWarning, formatInterval } from '../../src/shared/trust';
import { describeMonitor } from '../../src/shared/runConfig';
import { connect, post, runCommand } from '../common/host';
import { appRoot, emptyState, h, keyedSections, replaceChildren, swatch, themeColor } from '../common/dom';
import { button } from '../common/elements';
import { Chart, applyThemeDefaults, classColorAt, seriesColors } from '../common/charts';

const root = appRoot();
let normalise = true;
/** The confusion cell whose images are listed: true and predicted class indices. */
let cell: { t: number; p: number } | undefined;
/** Top losses of one true class (an index), or of all. */
let lossClass: number | 'all' = 'all';
let charts: Chart[] = [];
let last: EvaluationPanelState | undefined;
/** Cell and filter belong to one report; another report starts without them. */
let shownReport: string | undefined;

const TOP_LOSSES = 24;
const CELL_IMAGES = 48;

const lossOf = (i: EvaluatedImage): number => -Math.log(Math.min(1 - 1e-7, Math.max(1e-7, i.probabilities[i.label] ?? 0)));
const fileName = (file: string): string => file.split(/[\\/]/).pop() ?? file;

function rerender(): void {
  if (last) render(last);
}

/** Asks the host for thumbnails of images about to be listed (it sends only the missing ones). */
function wantThumbnails(files: string[]): void {
  const missing = files.filter((f) => !last?.thumbnails?.[f]);
  if (missing.length) post({ type: 'evaluation/thumbnails', files: missing });
}

function headline(label: string, value: number, ci: { low: number; high: number } | undefined, note: string, testid: string): HTMLElement {
  return h('div', { class: 'kpi', 'data-testid': testid },
    h('span', { class: 'kpi-value' }, formatPercent(value)),
    ci ? h('span', { class: 'kpi-ci' }, `95% CI ${formatInterval(ci)}`) : h('span', { class: 'kpi-ci muted' }, 'no interval (an older report: evaluate again)'),
    h('span', { class: 'kpi-label' }, label),
    note ? h('span', { class: 'kpi-label small' }, note) : null);
}

function trustNotes(ev: Evaluation): (HTMLElement | null)[] {
  const set = ev.set;
  const chance = chanceWarning(ev.chance?.verdict, ev.classes.length);
  return [
    chance ? h('p', { class: 'alert', role: 'alert', 'data-testid': 'chance-warning' }, chance) : null,
    set?.members
      ? h('p', { class: 'callout', 'data-testid': 'ensemble-note' }, h('strong', {}, `Ensemble of ${set.members.length} models: `),
          `their class probabilities averaged (${set.members.map(fileName).join(', ')}). Every figure and interval here is the ensemble's.`)
      : null,
    set?.overlapWithTraining ? h('p', { class: 'warning' }, `${set.overlapWithTraining} of these ${ev.count} images were in the run's training split: these figures are optimistic.`) : null,
    set?.usedForSelection
      ? h('p', { class: 'callout', 'data-testid': 'selection-note' }, h('strong', {}, 'Optimistic: used for model selection. '),
          `This validation split chose ${set.members ? 'each member\'s checkpoint' : 'the checkpoint'}${ev.monitor ? ` (${describeMonitor(ev.monitor)}${ev.checkpointEpoch ? `, epoch ${ev.checkpointEpoch}` : ''})` : ''}, so its figures flatter the model. A held-out test set gives an unbiased figure.`)
      : set?.kind === 'test' ? h('p', { class: 'callout' }, 'Held out: never trained on, and not used to choose the checkpoint.') : null,
    set?.isic2018Test
      ? h('div', { class: 'callout', 'data-testid': 'leaderboard' },
          h('strong', {}, 'ISIC 2018 Task 3 leaderboard, for context. '),
          `Balanced multi-class accuracy: ${ISIC2018_LEADERBOARD.top}. ${ISIC2018_LEADERBOARD.caveat}`)
      : null,
  ];
}

function confusionMatrix(ev: Evaluation): HTMLElement {
  const rows = ev.confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const clickable = (ev.images?.length ?? 0) > 0;
  return h('table', { class: 'confusion', 'aria-label': 'Confusion matrix: rows are true classes, columns predicted' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'true ╲ predicted'), ...ev.classes.map((c) => h('th', { scope: 'col', title: describeClass(c, ev.classLabels) }, c)))),
    h('tbody', {}, ...ev.confusion.map((r, i) => h('tr', {},
      h('th', { scope: 'row' }, `${ev.classes[i]} (${rows[i]})`),
      ...r.map((count, j) => {
        const share = rows[i] ? count / rows[i]! : 0;
        // Heat from the theme's accent colour; the diagonal is what should be hot.
        const selected = cell?.t === i && cell.p === j;
        const cls = [i === j ? 'diag' : '', share > 0.55 ? 'hot' : '', clickable && count > 0 ? 'clickable' : '', selected ? 'selected' : ''].filter(Boolean).join(' ');
        const open = (): void => {
          cell = selected ? undefined : { t: i, p: j };
          rerender();
        };
        return h('td', {
          class: cls,
          style: `--heat:${share.toFixed(3)}`,
          title: `${count} of ${rows[i]} ${ev.classes[i]} predicted ${ev.classes[j]}${clickable && count > 0 ? ' — click to list them' : ''}`,
          ...(clickable && count > 0 ? { tabindex: 0, role: 'button', 'aria-pressed': String(selected), onclick: open, onkeydown: (e: Event) => ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') && (e.preventDefault(), open()) } : {}),
        }, normalise ? formatPercent(share, 0) : String(count));
      })))));
}

/** A tile: the thumbnail, true → predicted with both probabilities, and Grad-CAM on demand. */
function imageTile(ev: Evaluation, i: EvaluatedImage, state: EvaluationPanelState): HTMLElement {
  const src = state.thumbnails?.[i.file];
  const cam = state.gradcams?.[i.file];
  const name = fileName(i.file);
  const pTrue = i.probabilities[i.label] ?? 0;
  const pPred = i.probabilities[i.predicted] ?? 0;
  return h('figure', { class: 'tile', 'data-file': i.file },
    cam?.uri ? h('img', { src: cam.uri, alt: `Grad-CAM of ${name}`, title: `Grad-CAM for ${ev.classes[i.predicted]} on ${i.file}`, onclick: () => post({ type: 'file/open', path: i.file }) })
      : src ? h('img', { src, alt: name, title: i.file, onclick: () => post({ type: 'file/open', path: i.file }) })
        : h('div', { class: 'placeholder muted small' }, 'loading…'),
    h('figcaption', { class: 'small' },
      h('strong', {}, `${ev.classes[i.label]} → ${ev.classes[i.predicted]}`), h('br'),
      h('span', { class: 'probs' }, i.label === i.predicted ? `p = ${formatPercent(pPred)}` : `p(${ev.classes[i.label]}) ${formatPercent(pTrue)} · p(${ev.classes[i.predicted]}) ${formatPercent(pPred)}`), h('br'),
      h('span', { class: 'muted' }, name), h('br'),
      cam?.note ? h('span', { class: 'muted' }, cam.note)
        // Grad-CAM explains one model: an ensemble's averaged probabilities have no single map.
        : ev.set?.members ? h('span', { class: 'muted', title: 'Open a member run to see its Grad-CAM' }, 'Grad-CAM: per member')
        : cam?.uri ? h('span', { class: 'muted' }, `Grad-CAM for ${ev.classes[i.predicted]}`)
          : h('a', { href: '#', class: 'gradcam-link', onclick: (e: Event) => { e.preventDefault(); post({ type: 'evaluation/gradcam', file: i.file }); } }, cam?.loading ? 'Grad-CAM…' : 'Grad-CAM')));
}

function cellImages(ev: Evaluation, state: EvaluationPanelState): HTMLElement | null {
  if (!cell || !ev.images) return null;
  const { t, p } = cell;
  const list = ev.images.filter((i) => i.label === t && i.predicted === p).sort((a, b) => lossOf(b) - lossOf(a));
  const shown = list.slice(0, CELL_IMAGES);
  wantThumbnails(shown.map((i) => i.file));
  return h('section', { class: 'cell-images', 'aria-label': 'Images of the selected cell', 'data-testid': 'cell-images' },
    h('h3', {}, `${ev.classes[t]} predicted as ${ev.classes[p]}: ${list.length} image${list.length === 1 ? '' : 's'}${list.length > shown.length ? ` (the ${shown.length} with the highest loss)` : ''}`),
    h('div', { class: 'actions' }, button('Close', () => { cell = undefined; rerender(); }, { secondary: true })),
    list.length ? h('div', { class: 'grid' }, ...shown.map((i) => imageTile(ev, i, state))) : h('p', { class: 'muted' }, 'No images.'));
}

function perClassTable(ev: Evaluation): HTMLElement {
  const rank = ev.ranking?.perClass;
  return h('table', { class: 'data', 'data-testid': 'per-class' },
    h('thead', {}, h('tr', {}, ...['class', 'precision', 'recall', 'recall 95% CI', 'F1', 'AUC', 'AP', 'support'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...ev.perClass.map((c, k) => h('tr', {},
      h('th', { scope: 'row', title: describeClass(c.name, ev.classLabels) }, swatch(classColorAt(k)), c.name),
      h('td', {}, formatPercent(c.precision)), h('td', {}, formatPercent(c.recall)),
      h('td', { class: 'muted' }, c.recallCi ? formatInterval(c.recallCi) : '–'),
      h('td', {}, formatPercent(c.f1)),
      h('td', {}, rank?.[k]?.auc !== undefined ? rank[k]!.auc!.toFixed(3) : '–'),
      h('td', {}, rank?.[k]?.averagePrecision !== undefined ? rank[k]!.averagePrecision!.toFixed(3) : '–'),
      h('td', {}, String(c.support))))));
}

/** ROC or precision–recall: one curve per class, x and y in [0, 1]. */
function curveChart(ev: Evaluation, kind: 'roc' | 'pr'): HTMLElement | null {
  const per = ev.ranking?.perClass;
  if (!per || per.every((c) => !c[kind])) return null;
  const canvas = h('canvas', { role: 'img', 'aria-label': kind === 'roc' ? 'ROC curves, one per class' : 'Precision–recall curves, one per class' });
  const muted = themeColor('--vscode-descriptionForeground', '#888');
  const datasets = per.flatMap((c, k) => {
    const curve = c[kind];
    if (!curve) return [];
    const area = kind === 'roc' ? c.auc : c.averagePrecision;
    return [{
      label: `${ev.classes[k]} (${kind === 'roc' ? 'AUC' : 'AP'} ${area?.toFixed(2) ?? '–'})`,
      data: curve.x.map((x, i) => ({ x, y: curve.y[i]! })),
      borderColor: classColorAt(k),
      backgroundColor: classColorAt(k),
      showLine: true,
      pointRadius: 0,
      borderWidth: 2,
      stepped: kind === 'pr' ? ('after' as const) : false,
    }];
  });
  if (kind === 'roc') datasets.push({ label: 'chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: muted, backgroundColor: muted, showLine: true, pointRadius: 0, borderWidth: 1, stepped: false, borderDash: [4, 4] } as (typeof datasets)[number]);
  const title = kind === 'roc'
    ? `ROC, one class against the rest${ev.ranking?.macroAuc !== undefined ? ` — macro AUC ${ev.ranking.macroAuc.toFixed(3)}` : ''}`
    : `Precision–recall${ev.ranking?.macroAveragePrecision !== undefined ? ` — macro AP ${ev.ranking.macroAveragePrecision.toFixed(3)}` : ''}`;
  charts.push(new Chart(canvas, {
    type: 'scatter',
    data: { datasets },
    options: {
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      scales: {
        x: { min: 0, max: 1, title: { display: true, text: kind === 'roc' ? 'false-positive rate' : 'recall' } },
        y: { min: 0, max: 1, title: { display: true, text: kind === 'roc' ? 'true-positive rate' : 'precision' } },
      },
    },
  }));
  return h('div', { class: 'chart tall', 'data-testid': `${kind}-chart` }, canvas);
}

/** Accuracy per confidence bin against the diagonal, raw and temperature-scaled. */
function reliabilityChart(ev: Evaluation): HTMLElement | null {
  const cal = ev.calibration;
  if (!cal) return null;
  const colors = seriesColors();
  const muted = themeColor('--vscode-descriptionForeground', '#888');
  const labels = cal.bins.map((b) => `${Math.round(b.low * 100)}–${Math.round(b.high * 100)}%`);
  const accuracy = (bins: typeof cal.bins): (number | null)[] => bins.map((b) => (b.count > 0 ? (b.accuracy ?? 0) : null));
  const t = cal.temperature;
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Reliability diagram: accuracy per confidence bin' });
  charts.push(new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar' as const, label: `accuracy (ECE ${formatPercent(cal.ece)})`, data: accuracy(cal.bins), backgroundColor: colors[0], borderColor: colors[0] },
        ...(t ? [{ type: 'bar' as const, label: `temperature-scaled, T = ${t.value.toFixed(2)} (ECE ${formatPercent(t.ece)})`, data: accuracy(t.bins), backgroundColor: colors[1], borderColor: colors[1] }] : []),
        { type: 'line' as const, label: 'perfectly calibrated', data: cal.bins.map((b) => (b.low + b.high) / 2), borderColor: muted, backgroundColor: muted, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
      ],
    },
    options: {
      plugins: {
        title: { display: true, text: `Reliability: accuracy against confidence (15 bins) — ECE ${formatPercent(cal.ece)}${t ? ` → ${formatPercent(t.ece)} with temperature scaling` : ''}` },
        legend: { position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: { callbacks: { afterLabel: (c) => `${(c.datasetIndex === 1 && t ? t.bins : cal.bins)[c.dataIndex]?.count ?? 0} images in this bin` } },
      },
      scales: {
        x: { title: { display: true, text: 'top-class confidence' } },
        y: { min: 0, max: 1, title: { display: true, text: 'accuracy' }, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } },
      },
    },
  }));
  return h('div', { class: 'chart tall', 'data-testid': 'reliability-chart' }, canvas);
}

function mostConfused(ev: Evaluation): HTMLElement {
  const pairs: { t: number; p: number; n: number }[] = [];
  ev.confusion.forEach((r, i) => r.forEach((n, j) => i !== j && n > 0 && pairs.push({ t: i, p: j, n })));
  pairs.sort((a, b) => b.n - a.n);
  if (!pairs.length) return h('p', {}, 'No confusions.');
  return h('ol', {}, ...pairs.slice(0, 8).map((x) => h('li', {},
    ev.images ? h('a', { href: '#', onclick: (e: Event) => { e.preventDefault(); cell = { t: x.t, p: x.p }; rerender(); } }, `${ev.classes[x.t]} predicted as ${ev.classes[x.p]}`) : `${ev.classes[x.t]} predicted as ${ev.classes[x.p]}`,
    `: ${x.n}`)));
}

function topLosses(ev: Evaluation, state: EvaluationPanelState): HTMLElement {
  if (!ev.images) {
    // An older report: its stored top losses, without probabilities or a class filter.
    if (!ev.topLosses.length) return h('p', {}, 'No images.');
    return h('div', { class: 'grid' }, ...ev.topLosses.map((t) => {
      const src = state.thumbnails?.[t.image];
      return h('figure', { class: 'tile' },
        src ? h('img', { src, alt: fileName(t.image), title: t.image, onclick: () => post({ type: 'file/open', path: t.image }) }) : h('div', { class: 'placeholder muted small' }, 'loading…'),
        h('figcaption', { class: 'small' }, h('strong', {}, `${t.trueClass} → ${t.predicted}`), h('br'), h('span', { class: 'muted' }, `loss ${t.loss.toFixed(2)} · ${fileName(t.image)}`)));
    }));
  }
  const list = ev.images.filter((i) => lossClass === 'all' || i.label === lossClass).sort((a, b) => lossOf(b) - lossOf(a)).slice(0, TOP_LOSSES);
  wantThumbnails(list.map((i) => i.file));
  const filter = h('vscode-single-select', { 'aria-label': 'Top losses of which true class', value: String(lossClass) },
    h('vscode-option', { value: 'all', selected: lossClass === 'all' }, 'all classes'),
    ...ev.classes.map((c, k) => h('vscode-option', { value: String(k), selected: lossClass === k }, c)));
  filter.addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    lossClass = v === 'all' ? 'all' : Number(v);
    rerender();
  });
  return h('div', {},
    h('div', { class: 'loss-filter' }, h('span', { class: 'muted' }, 'True class:'), filter),
    list.length ? h('div', { class: 'grid', 'data-testid': 'top-losses' }, ...list.map((i) => imageTile(ev, i, state))) : h('p', { class: 'muted' }, 'No images of this class in the set.'));
}

function setSelector(state: EvaluationPanelState): HTMLElement | null {
  const reports = state.reports ?? [];
  if (reports.length === 0) return null;
  const select = h('vscode-single-select', { 'aria-label': 'Evaluated set', 'data-testid': 'set-selector', value: state.selected ?? '' },
    ...reports.map((r) => h('vscode-option', { value: r.id, selected: r.id === state.selected, description: `${r.count} images` }, `${r.label} (${r.count})`)));
  select.addEventListener('change', (e) => {
    const id = (e.target as HTMLSelectElement).value;
    if (id && id !== state.selected) post({ type: 'evaluation/select', set: id });
  });
  return h('label', { class: 'set-selector' }, h('span', { class: 'muted' }, 'Set'), select);
}

const SECTIONS = ['header', 'summary', 'confusion', 'cell', 'tables', 'charts', 'confused', 'losses', 'footer'] as const;
let section: ReturnType<typeof keyedSections> | undefined;
/** Charts per section, destroyed when their section is rebuilt. */
const chartsOf = new Map<string, Chart[]>();

/** Builds a section's content, keeping the charts it makes so a rebuild can destroy them. */
function withCharts(name: string, build: () => Node | null): () => Node | null {
  return () => {
    for (const c of chartsOf.get(name) ?? []) c.destroy();
    charts = [];
    const node = build();
    chartsOf.set(name, charts);
    return node;
  };
}

/** What a tile shows of an image: whether its thumbnail and Grad-CAM are there (not the data itself). */
const tileKey = (state: EvaluationPanelState, files: string[]): unknown =>
  files.map((f) => [!!state.thumbnails?.[f], state.gradcams?.[f]?.loading ?? false, state.gradcams?.[f]?.note ?? '', !!state.gradcams?.[f]?.uri]);

function render(state: EvaluationPanelState): void {
  last = state;
  applyThemeDefaults();
  const ev = state.evaluation;
  if (!ev) {
    for (const list of chartsOf.values()) for (const c of list) c.destroy();
    chartsOf.clear();
    section = undefined;
    replaceChildren(root, emptyState('No evaluation yet', 'Evaluate a trained run to see its balanced accuracy with a 95% interval, the confusion matrix, per-class metrics, ROC and calibration.',
      button('Evaluate', () => runCommand('lesionLab.evaluate'))));
    return;
  }
  section ??= keyedSections(root, SECTIONS);
  const report = `${state.run}\0${state.selected}\0${ev.evaluatedAt ?? ''}`;
  if (report !== shownReport) {
    shownReport = report;
    cell = undefined;
    lossClass = 'all';
  }
  // Charts hold concrete colours: a theme change redraws them.
  const theme = `${document.body.className} ${themeColor('--vscode-foreground', '')}`;
  const k = ev.classes.length;
  const cal = ev.calibration;
  section('header', [state.run, state.reports, state.selected, ev.split, ev.count, ev.set?.members?.length], () =>
    h('header', { class: 'panel-header' }, h('h1', {}, 'Evaluation'), setSelector(state), h('span', { class: 'muted' }, `${ev.split} · ${ev.count} images · ${state.run ?? ''}`),
      // An ensemble's folder is no run: it is evaluated and exported from the CLI (evaluate/export --ensemble).
      ev.set?.members
        ? h('span', { class: 'muted small', 'data-testid': 'ensemble-cli' }, 'An ensemble is evaluated again and exported (as one ONNX model) from the command line: see the README, “Ensemble export”.')
        : h('div', { class: 'actions' },
          button('Evaluate…', () => runCommand('lesionLab.evaluate', ...(state.run ? [state.run] : [])), { secondary: true, title: 'Evaluate this run on its validation or test split, or on another prepared folder' }),
          button('Export Model…', () => runCommand('lesionLab.exportModel', ...(state.run ? [state.run] : [])), { secondary: true, title: 'Export this run as ONNX, TF.js or Keras, with its classes, preprocessing and model card' }))));
  section('summary', [report], () => h('div', {},
    ...trustNotes(ev),
    h('div', { class: 'kpis' },
      headline('balanced accuracy (mean per-class recall, the ISIC 2018 metric)', ev.balancedAccuracy, ev.balancedAccuracyCi, `chance: ${formatPercent(chanceLevel(k))} for ${k} classes`, 'kpi-balanced'),
      headline('accuracy (dominated by the largest class)', ev.accuracy, ev.accuracyCi, '', 'kpi-accuracy'),
      ev.ranking?.macroAuc !== undefined ? h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, ev.ranking.macroAuc.toFixed(3)), h('span', { class: 'kpi-ci muted' }, 'one class against the rest'), h('span', { class: 'kpi-label' }, 'macro AUC (0.5 is chance)')) : null,
      cal ? h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, formatPercent(cal.ece)), h('span', { class: 'kpi-ci muted' }, cal.temperature ? `${formatPercent(cal.temperature.ece)} temperature-scaled (T ${cal.temperature.value.toFixed(2)}, fitted on ${cal.temperature.fittedOn})` : ev.set?.members ? 'the averaged probabilities, not temperature-scaled' : 'no temperature fitted for this checkpoint'), h('span', { class: 'kpi-label' }, 'expected calibration error (15 bins)')) : null),
    ev.bootstrap ? h('p', { class: 'muted small' }, `Intervals: ${Math.round(ev.bootstrap.level * 100)}% percentile bootstrap, ${ev.bootstrap.resamples} resamples stratified by class (seed ${ev.bootstrap.seed}); each class's recall: Wilson score interval.`) : null));
  section('confusion', [report, normalise, cell], () => h('div', {},
    h('h2', {}, 'Confusion matrix'),
    h('div', { class: 'actions' }, button(normalise ? 'Show counts' : 'Show row-normalised', () => { normalise = !normalise; rerender(); }, { secondary: true }),
      ev.images ? h('span', { class: 'muted small' }, 'Click a cell to list its images.') : null),
    h('div', { class: 'scroll-x' }, confusionMatrix(ev))));
  const cellFiles = cell && ev.images ? ev.images.filter((i) => i.label === cell!.t && i.predicted === cell!.p).map((i) => i.file) : [];
  section('cell', [report, cell, tileKey(state, cellFiles)], () => cellImages(ev, state));
  section('tables', [report], () => h('div', {}, h('h2', {}, 'Per class'), h('div', { class: 'table-wrap' }, perClassTable(ev))));
  section('charts', [report, theme], withCharts('charts', () => h('div', {},
    ev.ranking || cal ? h('h2', {}, 'Ranking and calibration') : null,
    h('div', { class: 'charts' }, curveChart(ev, 'roc'), curveChart(ev, 'pr'), reliabilityChart(ev)))));
  section('confused', [report], () => h('div', {}, h('h2', {}, 'Most confused'), mostConfused(ev)));
  const lossFiles = ev.images ? ev.images.filter((i) => lossClass === 'all' || i.label === lossClass).map((i) => i.file) : ev.topLosses.map((t) => t.image);
  section('losses', [report, lossClass, tileKey(state, lossFiles)], () => h('div', {},
    h('h2', {}, 'Highest-loss images'), h('p', { class: 'muted small' }, 'True class → predicted class, with both probabilities. Click an image to open it.'), topLosses(ev, state)));
  section('footer', 0, () => h('p', { class: 'muted small disclaimer' }, 'A research and education tool, not a medical device.'));
}

connect('evaluation', (m) => {
  if (m.type === 'evaluation/state') render(m.state);
});
