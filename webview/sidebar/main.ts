import '../common/elements';
import type { SidebarState, TrainRequest } from '../../src/shared/protocol/views/sidebar';
import { MODEL_NAMES } from '../../src/shared/protocol/jobs';
import { formatDuration, formatPercent } from '../../src/shared/format';
import { connect, post, request, runCommand } from '../common/host';
import { appRoot, h, replaceChildren } from '../common/dom';
import { button } from '../common/elements';

const root = appRoot();
// Form values survive re-renders (state snapshots arrive often while a job runs).
const form = {
  model: 'mobilenetv2',
  epochs: '5',
  batch: '16',
  size: '96',
  weights: 'none',
  phase: 'both',
  augment: 'none',
  alpha: '0.35',
  lr: '',
  finetuneLr: '',
  optimizer: 'default',
  unfreezeFrom: '',
  engine: 'setting',
  precision: 'setting',
  classWeights: 'no',
};
let formError = '';

/** Whether "More options" is open now, so that a re-render keeps it as the user left it. */
function moreOptionsOpen(): boolean {
  return (root.querySelector('vscode-collapsible.more') as (HTMLElement & { open?: boolean }) | null)?.open === true;
}

/** The form as a `training/start` request; a message instead when a value is not usable. The host checks it again. */
function readForm(): { overrides: TrainRequest } | { error: string } {
  const whole = (k: 'epochs' | 'batch' | 'size', min: number, max: number): number | string => {
    const v = Number(form[k]);
    return Number.isInteger(v) && v >= min && v <= max ? v : `${k} must be a whole number from ${min} to ${max}`;
  };
  const optional = (k: 'lr' | 'finetuneLr' | 'alpha', min: number, max: number): number | undefined | string => {
    if (form[k].trim() === '') return undefined;
    const v = Number(form[k]);
    return Number.isFinite(v) && v > min && v <= max ? v : `${k} must be a number above ${min} and at most ${max}`;
  };
  const values = { epochs: whole('epochs', 1, 1000), batch: whole('batch', 1, 1024), size: whole('size', 32, 1024), lr: optional('lr', 0, 10), finetuneLr: optional('finetuneLr', 0, 10), alpha: form.model === 'mobilenetv2' ? optional('alpha', 0.3, 1.4) : undefined };
  const bad = Object.values(values).find((v): v is string => typeof v === 'string');
  if (bad) return { error: bad };
  // The selects offer only the protocol's values; the host's check refuses anything else with a reason.
  return {
    overrides: {
      ...(values as { epochs: number; batch: number; size: number; lr?: number; finetuneLr?: number; alpha?: number }),
      model: form.model as TrainRequest['model'],
      weights: form.weights,
      phase: form.phase as TrainRequest['phase'],
      augment: form.augment as TrainRequest['augment'],
      optimizer: form.optimizer === 'default' ? undefined : (form.optimizer as TrainRequest['optimizer']),
      unfreezeFrom: form.unfreezeFrom.trim() || undefined,
      engine: form.engine === 'setting' ? undefined : (form.engine as TrainRequest['engine']),
      precision: form.precision === 'setting' ? undefined : (form.precision as TrainRequest['precision']),
      classWeights: form.classWeights === 'yes',
    },
  };
}

function section(title: string, ...children: (Node | string | null)[]): HTMLElement {
  return h('section', { class: 'section', 'aria-label': title }, h('h3', {}, title), ...children);
}

function engineSection(s: SidebarState): HTMLElement {
  if (s.enginesError) return section('Engine', h('p', { class: 'error' }, s.enginesError), button('Show Engines', () => runCommand('lesionLab.showEngines'), { secondary: true }));
  if (!s.engines) return section('Engine', h('p', { class: 'muted' }, 'Detecting compute engines…'));
  const sel = s.engines.selected;
  const gpus = s.engines.list.filter((e) => e.gpu);
  return section(
    'Engine',
    h('div', { class: 'engine', 'data-testid': 'engine' }, h('strong', { class: 'engine-name' }, sel.engine), sel.device ? h('span', { class: 'muted' }, ` · ${sel.device}`) : null),
    h('p', { class: 'muted small', title: sel.reason }, sel.reason.replace(/^no usable GPU engine \(.*\); /, 'no usable GPU engine; ')),
    // The full reasons are one click away (Show Engines); here just why each GPU engine is out, or where it is.
    ...gpus.filter((g) => g.name !== sel.engine).map((g) =>
      h('p', { class: 'muted small', title: g.reason },
        g.available
          ? `${g.name}: ${g.device ?? 'available'}${/software|fallback|llvmpipe|lavapipe|swiftshader/i.test(`${g.device} ${g.reason}`) ? ' — a software adapter, slower than the CPU engines' : ''}`
          : `${g.name}: ${g.reason.split(/[;(]/)[0]!.trim()}`)),
    h('div', { class: 'actions' }, button('Select Engine', () => runCommand('lesionLab.selectEngine'), { secondary: true }), button('Show Engines', () => runCommand('lesionLab.showEngines'), { secondary: true })),
  );
}

function datasetSection(s: SidebarState): HTMLElement {
  if (!s.dataset) {
    return section(
      'Dataset',
      h('p', {}, 'No prepared dataset in this workspace yet. Start with the built-in demo data, download ISIC 2018 or 2019, or prepare a folder you have: a folder per class, images with a CSV, HAM10000 or ISIC.'),
      h('div', { class: 'actions' },
        button('Create Demo Dataset', () => runCommand('lesionLab.createDemoData'), { disabled: !s.trusted }),
        button('Download…', () => runCommand('lesionLab.downloadDataset'), { secondary: true, disabled: !s.trusted }),
        button('Prepare Dataset…', () => runCommand('lesionLab.prepareDataset'), { secondary: true, disabled: !s.trusted })),
    );
  }
  const sum = s.dataset.summary;
  const total = (k: 'train' | 'val'): number => sum.classes.reduce((a, c) => a + c[k].images, 0);
  const aug = sum.classes.reduce((a, c) => a + (c.augmented ?? 0), 0);
  // Without a group column a grouped split is an image-level one (and the Dataset panel says so).
  const splitBy = sum.split === 'image' ? 'image' : sum.grouping ? sum.grouping.noun : sum.leakage ? 'image' : sum.split;
  return section(
    'Dataset',
    h('p', {}, h('strong', {}, `${total('train')} train · ${total('val')} val`), aug ? ` · ${aug} augmented` : '', h('br'), h('span', { class: 'muted small' }, `${sum.classes.length} classes · ${sum.layout}, split by ${splitBy} (val ${sum.valFraction}, seed ${sum.seed})${sum.excludedCount ? ` · ${sum.excludedCount} excluded` : ''}`)),
    h('div', { class: 'actions' },
      button('Show Dataset', () => runCommand('lesionLab.showDataset'), { secondary: true }),
      button('Augment…', () => runCommand('lesionLab.augment'), { secondary: true, disabled: !s.trusted }),
      button('Prepare Again…', () => runCommand('lesionLab.prepareDataset'), { secondary: true, disabled: !s.trusted })),
  );
}

function field(label: string, key: keyof typeof form, control: HTMLElement): HTMLElement {
  // `input` as well as `change`: a state snapshot may re-render the form before the field loses focus.
  const read = (ev: Event): void => {
    form[key] = (ev.target as HTMLInputElement).value;
  };
  control.addEventListener('input', read);
  control.addEventListener('change', read);
  control.setAttribute('aria-label', label);
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

function select(key: keyof typeof form, options: readonly string[]): HTMLElement {
  return h('vscode-single-select', { value: form[key] }, ...options.map((o) => h('vscode-option', { value: o, selected: o === form[key] }, o)));
}

function textfield(key: keyof typeof form): HTMLElement {
  return h('vscode-textfield', { value: form[key], type: 'number' });
}

function runSection(s: SidebarState): HTMLElement {
  const start = (): void => {
    const r = readForm();
    formError = 'error' in r ? r.error : '';
    if ('error' in r) {
      render(s);
      return;
    }
    // Answered once the run has started (the job section then shows it), or with why it could not.
    request('training/start', r.overrides).then(
      () => undefined,
      (err: Error) => {
        formError = err.message;
        if (lastState) render(lastState);
      },
    );
  };
  return section(
    'Run',
    h('div', { class: 'form' },
      field('Model', 'model', select('model', MODEL_NAMES)),
      field('Weights', 'weights', select('weights', ['imagenet', 'none'])),
      field('Phases', 'phase', select('phase', ['both', 'head', 'finetune'])),
      field('Epochs', 'epochs', textfield('epochs')),
      field('Batch', 'batch', textfield('batch')),
      field('Image size', 'size', textfield('size')),
      field('Augmentation', 'augment', select('augment', ['none', 'disk', 'online']))),
    h('vscode-collapsible', { title: 'More options', class: 'more', open: moreOptionsOpen() },
      h('div', { class: 'form' },
        field('Width (MobileNetV2)', 'alpha', h('vscode-textfield', { value: form.alpha, placeholder: '1.0' })),
        field('Head learning rate', 'lr', h('vscode-textfield', { value: form.lr, placeholder: '0.001' })),
        field('Fine-tune learning rate', 'finetuneLr', h('vscode-textfield', { value: form.finetuneLr, placeholder: '0.0001' })),
        field('Optimizer', 'optimizer', select('optimizer', ['default', 'rmsprop', 'adam', 'sgd'])),
        field('Unfreeze from', 'unfreezeFrom', h('vscode-textfield', { value: form.unfreezeFrom, placeholder: 'conv5_block1_1_conv' })),
        field('Class weights', 'classWeights', select('classWeights', ['no', 'yes'])),
        field('Engine', 'engine', select('engine', ['setting', 'auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'])),
        field('Precision', 'precision', select('precision', ['setting', 'float32', 'mixed'])))),
    formError ? h('p', { class: 'error', role: 'alert' }, formError) : null,
    h('div', { class: 'actions' },
      button('Start', start, { disabled: !!s.job || !s.trusted || !s.dataset, title: s.dataset ? 'Start a new run' : 'Prepare a dataset first' }),
      button('Stop', () => runCommand('lesionLab.stop'), { secondary: true, disabled: !s.job }),
      button('Resume…', () => runCommand('lesionLab.resume'), { secondary: true, disabled: !!s.job || !s.trusted || s.runs.length === 0, title: s.runs.length ? 'Continue a stopped run from its last checkpoint' : 'No runs to resume yet' })),
  );
}

function jobSection(s: SidebarState): HTMLElement | null {
  if (!s.job) return null;
  const p = s.job.progress;
  const fraction = p && p.total > 0 ? p.done / p.total : undefined;
  return section(
    'Current job',
    h('p', {}, h('strong', {}, s.job.title), p ? ` — ${p.task} ${p.done}/${p.total} ${p.unit}` : ''),
    h('vscode-progress-bar', fraction === undefined ? { indeterminate: true } : { value: Math.round(fraction * 100), max: 100 }),
    p?.rate !== undefined ? h('p', { class: 'muted small' }, `${p.rate.toFixed(p.rate < 10 ? 1 : 0)} ${p.unit}/s${p.etaSeconds !== undefined ? ` · ETA ${formatDuration(p.etaSeconds)}` : ''}`) : null,
  );
}

function runsSection(s: SidebarState): HTMLElement {
  if (s.runs.length === 0) return section('Runs', h('p', { class: 'muted' }, 'No runs yet. Start one above; each run keeps its checkpoints and metrics in runs/.'));
  return section(
    'Runs',
    h('ul', { class: 'runs' },
      ...[...s.runs].reverse().slice(0, 12).map((r) =>
        h('li', {},
          h('a', { href: '#', class: 'run-name', title: r.path, onclick: (ev: Event) => { ev.preventDefault(); post({ type: 'run/open', path: r.path }); } }, r.name),
          h('span', { class: 'muted small run-meta' }, ` ${r.epochs} ep · ${r.status}${r.bestValBalancedAccuracy !== undefined ? ` · bal. acc ${formatPercent(r.bestValBalancedAccuracy)}` : ''}`),
          r.epochs > 0 && s.trusted
            ? h('a', { href: '#', class: 'small run-action', title: `Export ${r.name} as ONNX, TF.js or Keras`, onclick: (ev: Event) => { ev.preventDefault(); runCommand('lesionLab.exportModel', r.path); } }, 'Export…')
            : null))),
  );
}

/**
 * Snapshots arrive several times a second while a job runs. Each section is redrawn only when the
 * part of the state it shows changed, so an open dropdown or a half-typed value in the Run form is
 * never torn down under the user's hand.
 */
type SectionName = 'trust' | 'engine' | 'dataset' | 'job' | 'run' | 'runs' | 'disclaimer';
const SECTIONS: { name: SectionName; key(s: SidebarState): unknown; build(s: SidebarState): HTMLElement | null }[] = [
  { name: 'trust', key: (s) => s.trusted, build: (s) => (s.trusted ? null : h('p', { class: 'warning' }, 'Untrusted workspace: viewing only. Trust the folder to prepare, train or download.')) },
  { name: 'engine', key: (s) => [s.engines, s.enginesError], build: engineSection },
  { name: 'dataset', key: (s) => [s.dataset, s.trusted], build: datasetSection },
  { name: 'job', key: (s) => s.job, build: jobSection },
  { name: 'run', key: (s) => [!!s.job, s.trusted, !!s.dataset, s.runs.length, formError], build: runSection },
  { name: 'runs', key: (s) => [s.runs, s.trusted], build: runsSection },
  { name: 'disclaimer', key: () => 0, build: () => h('p', { class: 'muted small disclaimer' }, 'A research and education tool, not a medical device.') },
];
const slots = new Map<SectionName, { container: HTMLElement; key?: string }>();

function render(s: SidebarState): void {
  if (slots.size === 0) {
    const containers = SECTIONS.map((section) => {
      const container = h('div', { 'data-section': section.name });
      slots.set(section.name, { container });
      return container;
    });
    replaceChildren(root, ...containers);
  }
  for (const section of SECTIONS) {
    const slot = slots.get(section.name)!;
    const key = JSON.stringify(section.key(s));
    if (slot.key === key) continue;
    slot.key = key;
    replaceChildren(slot.container, section.build(s));
  }
}

replaceChildren(root, h('p', { class: 'muted' }, 'Loading…'));
let lastState: SidebarState | undefined;
connect('sidebar', (m) => {
  if (m.type !== 'sidebar/state') return;
  lastState = m.state;
  render(m.state);
});
