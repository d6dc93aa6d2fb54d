import '../common/elements';
import type { AugmentParams, AugmentRanges, FillMode } from '../../src/shared/protocol/augmentation';
import type { AugmentPreviewState } from '../../src/shared/protocol/views/augmentPreview';
import { connect, post } from '../common/host';
import { appRoot, emptyState, h, replaceChildren } from '../common/dom';
import { button } from '../common/elements';

const root = appRoot();
let draft: { ranges: AugmentRanges; fill: FillMode } | undefined;

function describe(p: AugmentParams): string {
  const flips = [p.flipH ? 'flip H' : '', p.flipV ? 'flip V' : ''].filter(Boolean).join(', ');
  return `θ ${p.angleDeg.toFixed(0)}° · shift ${(p.tx * 100).toFixed(1)}%, ${(p.ty * 100).toFixed(1)}% · zoom ${p.zx.toFixed(2)}×${p.zy.toFixed(2)}${flips ? ` · ${flips}` : ''}`;
}

function numberField(label: string, value: number, step: number, min: number, max: number, set: (v: number) => void): HTMLElement {
  const input = h('input', { type: 'number', value, step, min, max, 'aria-label': label });
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (Number.isFinite(v)) set(Math.min(max, Math.max(min, v)));
  });
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

function render(s: AugmentPreviewState): void {
  if (!s.image) {
    replaceChildren(root, emptyState('No image', 'Right-click a .jpg or .png in the Explorer and choose Preview Augmentations.'));
    return;
  }
  draft = { ranges: { ...s.ranges }, fill: s.fill };
  const d = draft;
  const apply = (seed = s.seed): void => post({ type: 'augmentPreview/render', ranges: d.ranges, fill: d.fill, seed });
  const fill = h('select', { 'aria-label': 'Fill mode' }, ...(['nearest', 'reflect', 'wrap', 'constant'] as const).map((f) => h('option', { value: f, selected: f === s.fill }, f)));
  fill.addEventListener('change', () => (d.fill = (fill as HTMLSelectElement).value as FillMode));
  const flip = (label: string, key: 'horizontalFlip' | 'verticalFlip'): HTMLElement => {
    const box = h('input', { type: 'checkbox', checked: d.ranges[key], 'aria-label': label });
    box.addEventListener('change', () => (d.ranges[key] = (box as HTMLInputElement).checked));
    return h('label', { class: 'check' }, box, ` ${label}`);
  };
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Augmentations'), h('span', { class: 'muted' }, s.image)),
    h('div', { class: 'controls' },
      numberField('Rotation ±°', d.ranges.rotationDeg, 5, 0, 180, (v) => (d.ranges.rotationDeg = v)),
      numberField('Width shift ±', d.ranges.widthShift, 0.05, 0, 1, (v) => (d.ranges.widthShift = v)),
      numberField('Height shift ±', d.ranges.heightShift, 0.05, 0, 1, (v) => (d.ranges.heightShift = v)),
      numberField('Zoom ±', d.ranges.zoom, 0.05, 0, 0.9, (v) => (d.ranges.zoom = v)),
      h('label', { class: 'field' }, h('span', {}, 'Fill'), fill),
      flip('horizontal flip', 'horizontalFlip'), flip('vertical flip', 'verticalFlip')),
    h('div', { class: 'actions' }, button('Apply', () => apply()), button('Re-roll', () => apply(s.seed + 1), { secondary: true })),
    s.error ? h('p', { class: 'error' }, s.error) : null,
    s.loading && !s.variants.length ? h('p', { class: 'muted' }, 'Rendering…') : null,
    h('div', { class: 'grid large' },
      s.original ? h('figure', { class: 'tile original' }, h('img', { src: s.original, alt: 'original' }), h('figcaption', {}, h('strong', {}, 'original (resized)'))) : null,
      ...s.variants.map((v, i) => h('figure', { class: 'tile' }, h('img', { src: v.dataUri, alt: `variant ${i + 1}` }), h('figcaption', { class: 'small' }, describe(v.params))))),
    h('p', { class: 'muted small' }, 'Keras ImageDataGenerator semantics: the image is resized to the training size, then rotated, shifted and zoomed about its centre with bilinear sampling; flips with probability ½ each. Validation images are never augmented.'));
}

connect('augmentPreview', (m) => {
  if (m.type === 'augmentPreview/state') render(m.state);
});
