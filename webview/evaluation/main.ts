import '../common/elements';
import type { Evaluation } from '../../src/shared/protocol/results';
import type { EvaluationPanelState } from '../../src/shared/protocol/views/evaluation';
import { describeClass } from '../../src/shared/classes';
import { formatPercent } from '../../src/shared/format';
import { connect, post, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren, swatch } from '../common/dom';
import { classColorAt } from '../common/charts';
import { button } from '../common/elements';

const root = appRoot();
let normalise = true;
let last: EvaluationPanelState | undefined;

function confusionMatrix(ev: Evaluation): HTMLElement {
  const rows = ev.confusion.map((r) => r.reduce((a, b) => a + b, 0));
  return h('table', { class: 'confusion', 'aria-label': 'Confusion matrix: rows are true classes, columns predicted' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'true ╲ predicted'), ...ev.classes.map((c) => h('th', { scope: 'col', title: describeClass(c, ev.classLabels) }, c)))),
    h('tbody', {}, ...ev.confusion.map((r, i) => h('tr', {},
      h('th', { scope: 'row' }, `${ev.classes[i]} (${rows[i]})`),
      ...r.map((count, j) => {
        const share = rows[i] ? count / rows[i]! : 0;
        // Heat from the theme's accent colour; the diagonal is what should be hot.
        const cls = [i === j ? 'diag' : '', share > 0.55 ? 'hot' : ''].filter(Boolean).join(' ');
        return h('td', { class: cls, style: `--heat:${share.toFixed(3)}`, title: `${count} of ${rows[i]} ${ev.classes[i]} predicted ${ev.classes[j]}` },
          normalise ? formatPercent(share, 0) : String(count));
      })))));
}

function perClassTable(ev: Evaluation): HTMLElement {
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ...['class', 'precision', 'recall', 'F1', 'support'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...ev.perClass.map((c, k) => h('tr', {}, h('th', { scope: 'row', title: describeClass(c.name, ev.classLabels) }, swatch(classColorAt(k)), c.name), h('td', {}, formatPercent(c.precision)), h('td', {}, formatPercent(c.recall)), h('td', {}, formatPercent(c.f1)), h('td', {}, String(c.support))))));
}

function mostConfused(ev: Evaluation): HTMLElement {
  const pairs: { t: string; p: string; n: number }[] = [];
  ev.confusion.forEach((r, i) => r.forEach((n, j) => i !== j && n > 0 && pairs.push({ t: ev.classes[i]!, p: ev.classes[j]!, n })));
  pairs.sort((a, b) => b.n - a.n);
  if (!pairs.length) return h('p', {}, 'No confusions.');
  return h('ol', {}, ...pairs.slice(0, 8).map((x) => h('li', {}, `${x.t} predicted as ${x.p}: ${x.n}`)));
}

function topLosses(ev: Evaluation, thumbs: Record<string, string> | undefined): HTMLElement {
  if (!ev.topLosses.length) return h('p', {}, 'No validation images.');
  return h('div', { class: 'grid' }, ...ev.topLosses.map((t) => {
    const src = thumbs?.[t.image];
    const name = t.image.split(/[\\/]/).pop() ?? t.image;
    return h('figure', { class: 'tile' },
      src ? h('img', { src, alt: name, title: t.image, onclick: () => post({ type: 'file/open', path: t.image }) }) : h('div', { class: 'placeholder muted small' }, 'loading…'),
      h('figcaption', { class: 'small' }, h('strong', {}, `${t.trueClass} → ${t.predicted}`), h('br'), h('span', { class: 'muted' }, `loss ${t.loss.toFixed(2)} · ${name}`)));
  }));
}

function render(state: EvaluationPanelState): void {
  last = state;
  const ev = state.evaluation;
  if (!ev) {
    replaceChildren(root, emptyState('No evaluation yet', 'Evaluate a trained run to see its confusion matrix, per-class precision, recall and F1, and balanced accuracy.',
      button('Evaluate', () => runCommand('lesionLab.evaluate'))));
    return;
  }
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Evaluation'), h('span', { class: 'muted' }, `${ev.split} · ${ev.count} images · ${state.run ?? ''}`),
      h('div', { class: 'actions' }, button('Export Model…', () => runCommand('lesionLab.exportModel', ...(state.run ? [state.run] : [])), { secondary: true, title: 'Export this run as ONNX, TF.js or Keras, with its classes, preprocessing and model card' }))),
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, formatPercent(ev.balancedAccuracy)), h('span', { class: 'kpi-label' }, 'balanced accuracy (mean per-class recall, the ISIC 2018 metric)')),
      h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, formatPercent(ev.accuracy)), h('span', { class: 'kpi-label' }, 'accuracy (dominated by the largest class)'))),
    h('h2', {}, 'Confusion matrix'),
    h('div', { class: 'actions' }, button(normalise ? 'Show counts' : 'Show row-normalised', () => { normalise = !normalise; if (last) render(last); }, { secondary: true })),
    h('div', { class: 'scroll-x' }, confusionMatrix(ev)),
    h('h2', {}, 'Per class'), h('div', { class: 'table-wrap' }, perClassTable(ev)),
    h('h2', {}, 'Most confused'), mostConfused(ev),
    h('h2', {}, 'Highest-loss validation images'), h('p', { class: 'muted small' }, 'True class → predicted class. Click an image to open it.'), topLosses(ev, state.thumbnails),
    h('p', { class: 'muted small disclaimer' }, 'A research and education tool, not a medical device.'));
}

connect('evaluation', (m) => {
  if (m.type === 'evaluation/state') render(m.state);
});
