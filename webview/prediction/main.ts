import '../common/elements';
import type { PredictionPanelState } from '../../src/shared/protocol/views/prediction';
import { describeClass } from '../../src/shared/classes';
import { formatPercent } from '../../src/shared/format';
import { connect, post } from '../common/host';
import { appRoot, emptyState, h, replaceChildren } from '../common/dom';
import { classColorAt } from '../common/charts';

const root = appRoot();

type Item = PredictionPanelState['items'][number];

function bars(s: PredictionPanelState, p: NonNullable<Item['prediction']>): HTMLElement {
  const order = s.classes ?? Object.keys(p.probabilities);
  const rows = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
  const longest = Math.max(...rows.map(([name]) => [...name].length));
  return h('div', { class: 'bars', role: 'list', 'aria-label': 'Class probabilities', style: `--label-ch:${longest}` },
    ...rows.map(([name, prob]) =>
      h('div', { class: `bar-row${name === p.predicted ? ' top' : ''}`, role: 'listitem' },
        h('span', { class: 'bar-label', title: describeClass(name, s.classLabels) }, name),
        h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: `width:${(prob * 100).toFixed(1)}%;background:${classColorAt(Math.max(0, order.indexOf(name)))}` })),
        h('span', { class: 'bar-value' }, formatPercent(prob)))));
}

const fileName = (file: string): string => file.split(/[\\/]/).pop() ?? file;

/** One image: the verdict (or why it could not be classified), the image and its Grad-CAM, the probabilities. */
function itemView(s: PredictionPanelState, item: Item): HTMLElement[] {
  const p = item.prediction;
  const parts: (HTMLElement | null)[] = [
    item.error ? h('p', { class: 'error' }, item.error) : null,
    p ? h('p', { class: 'verdict' }, 'Most likely: ', h('strong', {}, describeClass(p.predicted, s.classLabels)), ` (${formatPercent(p.probabilities[p.predicted] ?? 0)})`) : null,
    h('div', { class: 'prediction' },
      h('div', { class: 'images' },
        item.imageUri && !item.error ? h('figure', { class: 'tile' }, h('img', { src: item.imageUri, alt: `image ${fileName(item.image)}` }), h('figcaption', {}, 'image')) : null,
        item.gradcamUri ? h('figure', { class: 'tile' }, h('img', { src: item.gradcamUri, alt: `Grad-CAM overlay of ${fileName(item.image)}` }), h('figcaption', {}, `Grad-CAM for ${p?.predicted ?? ''}: where the evidence lies`)) : null),
      p ? bars(s, p) : null),
  ];
  return parts.filter((e): e is HTMLElement => e !== null);
}

function render(s: PredictionPanelState): void {
  if (s.items.length === 0) {
    replaceChildren(root, emptyState('Nothing classified yet', 'Right-click a lesion image in the Explorer (or select several) and choose Classify Lesion.'));
    return;
  }
  const tta = h('input', { type: 'checkbox', checked: s.tta, disabled: s.loading, 'aria-label': 'test-time augmentation' });
  tta.addEventListener('change', () => post({ type: 'prediction/run', tta: (tta as HTMLInputElement).checked }));
  const single = s.items.length === 1 ? s.items[0]! : undefined;
  const failed = s.items.filter((i) => i.error).length;
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Prediction'), h('span', { class: 'muted' }, single ? single.image : `${s.items.length} images${failed ? `, ${failed} could not be classified` : ''}`)),
    h('p', { class: 'muted small' }, `Model: ${s.run ?? ''} (best checkpoint)`),
    h('label', { class: 'check' }, tta, ' Test-time augmentation (average over 8 flips and rotations)'),
    s.error ? h('p', { class: 'error' }, s.error) : null,
    s.loading ? h('p', { class: 'muted' }, s.items.length === 1 ? 'Classifying…' : `Classifying ${s.items.length} images…`) : null,
    ...(single
      ? itemView(s, single)
      : s.items.map((item) => h('section', { class: 'prediction-item', 'aria-label': fileName(item.image) }, h('h2', { title: item.image }, fileName(item.image)), ...itemView(s, item)))),
    h('p', { class: 'warning' }, 'A research and education tool, not a medical device: do not use this to diagnose or triage anyone.'));
}

connect('prediction', (m) => {
  if (m.type === 'prediction/state') render(m.state);
});
