import '../common/elements';
import type { PredictionPanelState } from '../../src/shared/protocol/views/prediction';
import type { ModelProvenance } from '../../src/shared/protocol/results';
import { describeClass } from '../../src/shared/classes';
import { formatPercent } from '../../src/shared/format';
import { describeMonitor } from '../../src/shared/runConfig';
import { chanceWarning, formatWithInterval } from '../../src/shared/trust';
import { connect, post, runCommand } from '../common/host';
import { appRoot, emptyState, h, replaceChildren } from '../common/dom';
import { classColorAt } from '../common/charts';

const root = appRoot();

type Item = PredictionPanelState['items'][number];

/** The Grad-CAM layer's opacity, kept across re-renders and shared by every image. */
let opacity = 0.6;

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

/** Where the model comes from and how far its figures go: beside every prediction. */
function provenance(m: ModelProvenance, numClasses: number): HTMLElement {
  const v = m.validation;
  const runName = m.run.split(/[\\/]/).pop() ?? m.run;
  return h('section', { class: 'provenance', 'aria-label': 'About this model', 'data-testid': 'provenance' },
    h('h3', {}, 'About this model'),
    h('dl', {},
      h('dt', {}, 'Run'), h('dd', { title: m.run }, `${runName} · checkpoint of epoch ${m.checkpointEpoch} of ${m.epochs}, chosen by ${describeMonitor(m.monitor)}`),
      h('dt', {}, 'Trained on'), h('dd', { 'data-testid': 'trained-on' },
        m.trainedOn.synthetic
          ? h('span', {}, h('strong', {}, 'synthetic demo data'), ` (painted shapes, not photographs; ${m.trainedOn.images} images): predictions on real photographs are meaningless.`)
          : `${m.trainedOn.images} images from ${m.trainedOn.source ?? m.trainedOn.prepared}`),
      h('dt', {}, 'Validation'), h('dd', { 'data-testid': 'validation' },
        v ? `balanced accuracy ${formatWithInterval(v.balancedAccuracy, v.ci)} on ${v.images} image${v.images === 1 ? '' : 's'} — optimistic: this split chose the checkpoint` : 'no validation figure recorded for this checkpoint'),
      h('dt', {}, 'Probabilities'), h('dd', { 'data-testid': 'calibration' },
        m.calibration.applied
          ? `temperature-scaled (T = ${m.calibration.temperature?.toFixed(2)}, fitted on validation${m.calibration.eceScaled !== undefined ? `; validation ECE ${formatPercent(m.calibration.eceScaled)}` : ''})`
          : `the model's softmax, not calibrated${m.calibration.ece !== undefined ? ` (validation ECE ${formatPercent(m.calibration.ece)})` : ''}`)),
    v?.chance && v.chance !== 'above' ? h('p', { class: 'alert', role: 'alert', 'data-testid': 'chance-warning' }, chanceWarning(v.chance, numClasses)!) : null);
}

/** The image with the heat map laid over it at the chosen opacity, its colour scale, and the opacity slider. */
function gradCamView(item: Item): HTMLElement | null {
  const p = item.prediction;
  if (!p) return null;
  if (p.gradcamNote) return h('figure', { class: 'tile gradcam' }, h('div', { class: 'placeholder muted small', 'data-testid': 'gradcam-note' }, p.gradcamNote), h('figcaption', {}, `Grad-CAM for ${p.predicted}`));
  if (!item.gradcamHeatUri || !item.imageUri) return null;
  const heat = h('img', { class: 'heat', src: item.gradcamHeatUri, alt: `Grad-CAM heat map for ${p.predicted} on ${fileName(item.image)}`, style: `opacity:${opacity}` });
  const slider = h('input', { type: 'range', min: 0, max: 100, value: Math.round(opacity * 100), 'aria-label': 'Grad-CAM opacity' }) as HTMLInputElement;
  slider.addEventListener('input', () => {
    opacity = Number(slider.value) / 100;
    // One opacity for every image's map, as one setting.
    for (const img of root.querySelectorAll<HTMLImageElement>('img.heat')) img.style.opacity = String(opacity);
    for (const other of root.querySelectorAll<HTMLInputElement>('input[aria-label="Grad-CAM opacity"]')) if (other !== slider) other.value = slider.value;
  });
  return h('figure', { class: 'tile gradcam' },
    h('div', { class: 'overlay' }, h('img', { src: item.imageUri, alt: `${fileName(item.image)} under the Grad-CAM map` }), heat),
    h('figcaption', {}, `Grad-CAM for ${p.predicted}: where the evidence for it lies`),
    h('div', { class: 'legend', 'aria-label': 'Grad-CAM colour scale' }, h('span', { class: 'small muted' }, 'none'), h('span', { class: 'legend-bar' }), h('span', { class: 'small muted' }, 'strongest in this image')),
    h('label', { class: 'check small' }, 'Opacity ', slider));
}

/** One image: the verdict (or why it could not be classified), the image and its Grad-CAM, the probabilities. */
function itemView(s: PredictionPanelState, item: Item): HTMLElement[] {
  const p = item.prediction;
  const atChance = s.model?.validation?.chance === 'at' || s.model?.validation?.chance === 'below';
  const parts: (HTMLElement | null)[] = [
    item.error ? h('p', { class: 'error' }, item.error) : null,
    p
      ? atChance
        ? h('p', { class: 'verdict', 'data-testid': 'verdict' }, 'The model’s top class is ', h('strong', {}, describeClass(p.predicted, s.classLabels)), ` (${formatPercent(p.probabilities[p.predicted] ?? 0)}), but the model is at chance level: this is no better than a guess.`)
        : h('p', { class: 'verdict', 'data-testid': 'verdict' }, 'Most likely: ', h('strong', {}, describeClass(p.predicted, s.classLabels)), ` (${formatPercent(p.probabilities[p.predicted] ?? 0)}${s.calibrated ? ', calibrated' : ''})`)
      : null,
    h('div', { class: 'prediction' },
      h('div', { class: 'images' },
        item.imageUri && !item.error ? h('figure', { class: 'tile' }, h('img', { src: item.imageUri, alt: `image ${fileName(item.image)}` }), h('figcaption', {}, 'image')) : null,
        gradCamView(item)),
      p ? bars(s, p) : null),
  ];
  return parts.filter((e): e is HTMLElement => e !== null);
}

function render(s: PredictionPanelState): void {
  if (s.items.length === 0) {
    replaceChildren(root, emptyState('Nothing classified yet', 'Right-click a lesion image in the Explorer (or select several) and choose Classify Lesion.'));
    return;
  }
  const tta = h('input', { type: 'checkbox', checked: s.tta, disabled: s.loading, 'aria-label': 'test-time augmentation' }) as HTMLInputElement;
  const canCalibrate = s.model?.calibration.temperature !== undefined;
  const calibrated = h('input', { type: 'checkbox', checked: s.calibrated, disabled: s.loading || (!canCalibrate && !s.calibrated), 'aria-label': 'calibrated probabilities' }) as HTMLInputElement;
  const rerun = (): void => post({ type: 'prediction/run', tta: tta.checked, calibrated: calibrated.checked });
  tta.addEventListener('change', rerun);
  calibrated.addEventListener('change', rerun);
  const single = s.items.length === 1 ? s.items[0]! : undefined;
  const failed = s.items.filter((i) => i.error).length;
  const numClasses = s.classes?.length ?? Object.keys(s.items.find((i) => i.prediction)?.prediction?.probabilities ?? {}).length;
  replaceChildren(root,
    h('header', { class: 'panel-header' }, h('h1', {}, 'Prediction'), h('span', { class: 'muted' }, single ? single.image : `${s.items.length} images${failed ? `, ${failed} could not be classified` : ''}`)),
    s.model ? provenance(s.model, numClasses) : h('p', { class: 'muted small' }, `Model: ${s.run ?? ''} (best checkpoint)`),
    h('div', { class: 'options' },
      h('label', { class: 'check' }, tta, ' Test-time augmentation (average over 8 flips and rotations)'),
      h('label', { class: 'check', title: canCalibrate ? 'Divide the logits by the temperature fitted on the validation split' : 'Evaluate the run first: that fits a temperature on its validation split' }, calibrated,
        canCalibrate ? ` Calibrated probabilities (temperature scaling, T = ${s.model!.calibration.temperature!.toFixed(2)})` : ' Calibrated probabilities (evaluate the run first to fit a temperature)'),
      !canCalibrate && s.run ? h('a', { href: '#', class: 'small', onclick: (e: Event) => { e.preventDefault(); runCommand('lesionLab.evaluate', s.run!); } }, 'Evaluate') : null),
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
