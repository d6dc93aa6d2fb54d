import '../common/elements';
import type { SampleSource, SamplesPanelState } from '../../src/shared/protocol/views/samples';
import { describeClass, summaryClassLabels } from '../../src/shared/classes';
import { connect, post, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren, swatch } from '../common/dom';
import { classColorAt } from '../common/charts';
import { button } from '../common/elements';

const root = appRoot();
const SOURCES: { id: SampleSource; label: string }[] = [
  { id: 'train', label: 'train originals' },
  { id: 'aug', label: 'augmented' },
  { id: 'val', label: 'validation' },
];

function render(s: SamplesPanelState): void {
  if (!s.preparedPath) {
    replaceChildren(root, emptyState('No prepared dataset', 'Prepare a dataset to browse its images by class here.', button('Prepare Dataset…', () => runCommand('lesionLab.prepareDataset'))));
    return;
  }
  const ask = (patch: Partial<Pick<SamplesPanelState, 'dx' | 'source' | 'page' | 'seed'>>): void =>
    post({ type: 'samples/show', dx: patch.dx ?? s.dx, source: patch.source ?? s.source, page: patch.page ?? s.page, seed: patch.seed ?? s.seed });
  const pages = Math.max(1, Math.ceil(s.total / s.pageSize));
  const labels = summaryClassLabels(s.classes);
  const classTabs = h('div', { class: 'chips', role: 'tablist', 'aria-label': 'Class' },
    ...s.classes.map((c, k) =>
      h('button', { class: `chip${c.name === s.dx ? ' selected' : ''}`, role: 'tab', 'aria-selected': c.name === s.dx ? 'true' : 'false', title: describeClass(c.name, labels), onclick: () => ask({ dx: c.name, page: 0 }) },
        swatch(classColorAt(k)), `${c.name} `, h('span', { class: 'muted' }, `${c.train}${c.aug ? ` + ${c.aug} aug` : ''} · ${c.val} val`))));
  const sourceTabs = h('div', { class: 'chips', role: 'tablist', 'aria-label': 'Images' },
    ...SOURCES.map((src) => h('button', { class: `chip${src.id === s.source ? ' selected' : ''}`, role: 'tab', 'aria-selected': src.id === s.source ? 'true' : 'false', onclick: () => ask({ source: src.id, page: 0 }) }, src.label)));
  const grid = s.items.length
    ? h('div', { class: 'grid' }, ...s.items.map((i) => h('figure', { class: 'tile' }, h('img', { src: i.dataUri, alt: i.name, loading: 'lazy', title: i.file, onclick: () => post({ type: 'file/open', path: i.file }) }), h('figcaption', { class: 'muted small' }, i.name))))
    : h('p', { class: 'muted' }, s.loading ? 'Loading thumbnails…' : s.source === 'aug' ? 'No augmented images for this class yet: run Augment… to write them.' : 'No images in this class.');
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Samples'), h('span', { class: 'muted' }, s.preparedPath),
      h('div', { class: 'actions' }, button('Re-roll', () => ask({ seed: s.seed + 1, page: 0 }), { secondary: true, title: 'Show a different random selection' }))),
    classTabs, sourceTabs,
    h('p', { class: 'muted' }, `${describeClass(s.dx, labels)}: ${s.total} image(s) · page ${s.page + 1} of ${pages}`),
    grid,
    h('div', { class: 'actions' },
      button('‹ Previous', () => ask({ page: s.page - 1 }), { secondary: true, disabled: s.page <= 0 }),
      button('Next ›', () => ask({ page: s.page + 1 }), { secondary: true, disabled: s.page + 1 >= pages })));
}

connect('samples', (m) => {
  if (m.type === 'samples/state') render(m.state);
});
