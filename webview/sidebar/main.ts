import '../common/elements';
import type { SidebarState, TrainRequest, WeightsView } from '../../src/shared/protocol/views/sidebar';
import type { ModelName } from '../../src/shared/protocol/jobs';
import { MODEL_NAMES, MONITORS } from '../../src/shared/protocol/jobs';
import { formatInterval } from '../../src/shared/trust';
import type { NewRunDefaults } from '../../src/shared/trainDefaults';
import { isFromScratch, phaseDefaults } from '../../src/shared/trainDefaults';
import { formatBytes, formatDuration, formatPercent } from '../../src/shared/format';
import { connect, loadLocalState, post, request, runCommand, saveLocalState } from '../common/host';
import { appRoot, h, replaceChildren } from '../common/dom';
import { button } from '../common/elements';

const root = appRoot();

/** The Run form's fields. A field the person has not touched shows the default for the weights chosen. */
type FieldKey = 'model' | 'alpha' | 'weights' | 'phase' | 'epochs' | 'batch' | 'size' | 'augment' | 'lr' | 'finetuneLr' | 'optimizer' | 'unfreezeFrom' | 'engine' | 'precision' | 'classWeights' | 'monitor';
const FIELD_KEYS: readonly FieldKey[] = ['model', 'alpha', 'weights', 'phase', 'epochs', 'batch', 'size', 'augment', 'lr', 'finetuneLr', 'optimizer', 'unfreezeFrom', 'engine', 'precision', 'classWeights', 'monitor'];
/** Fields whose value changes what else the form shows (defaults, placeholders, the weights notice). */
const SHAPING: readonly FieldKey[] = ['model', 'alpha', 'weights', 'size'];

/**
 * What only this view knows, kept with setState so that it survives the side bar switching to another
 * view and back, and a reload: the values typed or picked (`touched`), "More options" open or not, and
 * the last Train… request acted on (so a re-shown view does not act on it again).
 */
interface FormMemory {
  touched: Partial<Record<FieldKey, string>>;
  moreOpen: boolean;
  handledRequest: number;
}

function restoredMemory(): FormMemory {
  const raw = loadLocalState() as Partial<FormMemory> | undefined;
  const touched: Partial<Record<FieldKey, string>> = {};
  if (raw && typeof raw.touched === 'object' && raw.touched !== null) {
    for (const k of FIELD_KEYS) {
      const v = (raw.touched as Record<string, unknown>)[k];
      if (typeof v === 'string') touched[k] = v;
    }
  }
  return { touched, moreOpen: raw?.moreOpen === true, handledRequest: typeof raw?.handledRequest === 'number' ? raw.handledRequest : 0 };
}

const memory = restoredMemory();
const remember = (): void => saveLocalState(memory);
let formError = '';
/** Bumped when the form must be drawn again for a change made in it (e.g. the weights chosen). */
let formRevision = 0;
/** Set when Train… asked for the form: it is highlighted until the next Start. */
let highlighted = false;

/** A width as Keras names its files: 1.0, 0.35. */
const widthText = (alpha: number): string => (Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha));

/** The defaults in force for the weights now chosen. */
function defaultsFor(s: SidebarState, weights: string): NewRunDefaults {
  return isFromScratch(weights) ? s.runDefaults.scratch : { ...s.runDefaults.pretrained, weights };
}

/** Every field's value as the form shows it: typed or picked, else the default. */
function formValues(s: SidebarState): Record<FieldKey, string> {
  const weights = memory.touched.weights ?? s.runDefaults.pretrained.weights;
  const d = defaultsFor(s, weights);
  const shown: Record<FieldKey, string> = {
    model: d.model,
    alpha: widthText(d.alpha),
    weights,
    phase: d.phase,
    epochs: String(d.epochs),
    batch: String(d.batch),
    size: String(d.size),
    augment: d.augment,
    lr: '',
    finetuneLr: '',
    optimizer: 'default',
    unfreezeFrom: '',
    engine: 'setting',
    precision: 'setting',
    classWeights: 'no',
    monitor: 'val_bal_acc',
  };
  for (const k of FIELD_KEYS) if (memory.touched[k] !== undefined) shown[k] = memory.touched[k]!;
  return shown;
}

/** The form as a `training/start` request; a message instead when a value is not usable. The host checks it again. */
function readForm(form: Record<FieldKey, string>): { overrides: TrainRequest } | { error: string } {
  const whole = (k: 'epochs' | 'batch' | 'size', label: string, min: number, max: number): number | string => {
    const v = Number(form[k]);
    return Number.isInteger(v) && v >= min && v <= max ? v : `${label} must be a whole number from ${min} to ${max}`;
  };
  const optional = (k: 'lr' | 'finetuneLr' | 'alpha', label: string, min: number, max: number): number | undefined | string => {
    if (form[k].trim() === '') return undefined;
    const v = Number(form[k]);
    return Number.isFinite(v) && v > min && v <= max ? v : `${label} must be a number above ${min} and at most ${max}`;
  };
  const values = {
    epochs: whole('epochs', 'Epochs', 1, 1000),
    batch: whole('batch', 'Batch', 1, 1024),
    size: whole('size', 'Image size', 32, 1024),
    lr: optional('lr', 'Head learning rate', 0, 10),
    finetuneLr: optional('finetuneLr', 'Fine-tune learning rate', 0, 10),
    alpha: form.model === 'mobilenetv2' ? optional('alpha', 'Width (MobileNetV2)', 0.3, 1.4) : undefined,
  };
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
      monitor: form.monitor as TrainRequest['monitor'],
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
    h('p', {}, h('strong', {}, `${total('train')} train · ${total('val')} val`), aug ? ` · ${aug} augmented` : '', h('br'), h('span', { class: 'muted small' }, `${sum.synthetic ? 'synthetic demo data · ' : ''}${sum.classes.length} classes · ${sum.layout}, split by ${splitBy} (val ${sum.valFraction}, seed ${sum.seed})${sum.excludedCount ? ` · ${sum.excludedCount} excluded` : ''}`)),
    h('div', { class: 'actions' },
      button('Show Dataset', () => runCommand('lesionLab.showDataset'), { secondary: true }),
      button('Augment…', () => runCommand('lesionLab.augment'), { secondary: true, disabled: !s.trusted }),
      button('Prepare Again…', () => runCommand('lesionLab.prepareDataset'), { secondary: true, disabled: !s.trusted })),
  );
}

/** Remembers a value the person typed or picked; a value that shapes the rest of the form draws it again. */
function setField(key: FieldKey, value: string, redraw: boolean): void {
  if (memory.touched[key] === value) return;
  memory.touched[key] = value;
  remember();
  if (redraw && SHAPING.includes(key) && lastState) {
    formRevision++;
    render(lastState);
  }
}

function field(label: string, key: FieldKey, control: HTMLElement, ...after: HTMLElement[]): HTMLElement {
  // `input` as well as `change`: a state snapshot may re-render the form before the field loses focus.
  control.addEventListener('input', (ev) => setField(key, (ev.target as HTMLInputElement).value, false));
  control.addEventListener('change', (ev) => setField(key, (ev.target as HTMLInputElement).value, true));
  control.setAttribute('aria-label', label);
  control.dataset.field = key;
  return h('label', { class: 'field' }, h('span', {}, label), after.length ? h('span', { class: 'with-button' }, control, ...after) : control);
}

function select(value: string, options: readonly string[]): HTMLElement {
  const el = h('vscode-single-select', { value }, ...options.map((o) => h('vscode-option', { value: o, selected: o === value }, o)));
  // Its list opens below, fixed to the viewport: near the bottom of the side bar it would open out of
  // sight (the last fields under "More options"), so there it opens above.
  const place = (): void => {
    const listHeight = options.length * 22 + 8;
    const rect = el.getBoundingClientRect();
    (el as HTMLElement & { position?: string }).position = rect.bottom + listHeight > document.documentElement.clientHeight && rect.top > listHeight ? 'above' : 'below';
  };
  el.addEventListener('pointerdown', place, { capture: true });
  el.addEventListener('keydown', place, { capture: true });
  return el;
}

function textfield(value: string, attrs: Record<string, string> = {}): HTMLElement {
  return h('vscode-textfield', { value, ...attrs });
}

const fileName = (p: string): string => p.split(/[\\/]/).pop() ?? p;

/** Picks a weights file in the host's file dialog; the form then uses it. */
function browseWeights(): void {
  request('weights/browse', {}).then(
    (picked) => {
      if (!picked.path) return;
      formError = '';
      setField('weights', picked.path, true);
    },
    (err: Error) => {
      formError = err.message;
      if (lastState) render(lastState);
    },
  );
}

function trainFromScratch(): void {
  formError = '';
  setField('weights', 'none', true);
}

/** Asks the host about the ImageNet weights for what the form shows, once per model, width and size. */
let askedWeights = '';
function askAboutWeights(form: Record<FieldKey, string>, again = false): void {
  const alpha = Number(form.alpha);
  const size = Number(form.size);
  if (!Number.isInteger(size) || size < 32 || size > 1024 || (form.model === 'mobilenetv2' && !(alpha >= 0.35 && alpha <= 1.4))) return;
  const params = { model: form.model as ModelName, ...(form.model === 'mobilenetv2' ? { alpha } : {}), size, ...(again ? { again: true } : {}) };
  const key = JSON.stringify({ ...params, again: undefined });
  if (key === askedWeights && !again) return;
  askedWeights = key;
  post({ type: 'weights/check', params });
}

/** The weights view the host sent, if it is about what the form shows now. */
function weightsFor(s: SidebarState, form: Record<FieldKey, string>): WeightsView | undefined {
  const w = s.weights;
  if (!w || w.model !== form.model || w.size !== Number(form.size)) return undefined;
  if (form.model === 'mobilenetv2' && (w.alpha ?? 1) !== Number(form.alpha)) return undefined;
  return w;
}

/** Under the Weights field: where the chosen weights come from, and what to do when they cannot be had. */
/** A line about the weights, with Browse… beside it for a file of one's own. */
function quietNotice(text: string, title?: string): HTMLElement {
  return h('div', { class: 'notice quiet', 'data-testid': 'weights-notice', ...(title ? { title } : {}) },
    h('span', { class: 'muted small' }, text),
    button('Browse…', browseWeights, { secondary: true, title: 'Use weights from a Keras .h5 or TF.js model.json file' }));
}

function weightsNotice(s: SidebarState, form: Record<FieldKey, string>): HTMLElement | null {
  if (form.weights === 'none') {
    return quietNotice('From scratch: every layer starts from random weights — much weaker than ImageNet weights. The defaults below are a recipe measured to learn (see the README).');
  }
  if (form.weights !== 'imagenet') return quietNotice(`Weights from ${fileName(form.weights)}.`, form.weights);
  askAboutWeights(form);
  const w = weightsFor(s, form);
  const status = w?.status;
  if (!w || (w.checking && !status)) return quietNotice('Looking for the ImageNet weights (cached here, or downloadable now)…');
  const offer = (): HTMLElement => h('div', { class: 'actions' },
    button('Train from Scratch (much weaker)', trainFromScratch, { title: 'Weights none: the from-scratch recipe, measured to learn on the demo data' }),
    button('Browse…', browseWeights, { secondary: true, title: 'A Keras .h5 or TF.js model.json with weights for this backbone' }),
    button('Check Again', () => askAboutWeights(form, true), { secondary: true }));
  if (w.error) {
    return h('div', { class: 'warning notice', role: 'status', 'data-testid': 'weights-notice' }, h('p', {}, `No ImageNet weights for this choice: ${w.error}`), offer());
  }
  if (!status) return null;
  const size = status.bytes !== undefined ? formatBytes(status.bytes) : undefined;
  if (status.cached) return quietNotice(`ImageNet weights: on this computer${size ? ` (${size})` : ''}.`, status.file);
  if (status.download?.reachable) {
    return quietNotice(`ImageNet weights: not on this computer yet. Start downloads them first${size ? ` (${size} from ${hostOf(status.url)})` : ` from ${hostOf(status.url)}`}, once; later runs use the copy.`, status.url);
  }
  return h('div', { class: 'warning notice', role: 'status', 'data-testid': 'weights-notice' },
    h('p', {}, h('strong', {}, 'No ImageNet weights here. '),
      `They are not on this computer and cannot be downloaded now: ${status.download?.reason ?? 'the server did not answer'}. ` +
      'You can train from scratch — much weaker than starting from ImageNet weights, but it learns — or pick a weights file you have.'),
    offer());
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What the learning-rate finder said last (or that it is running), shown under the form. */
let lrNote = '';
/** The range test runs ~100 batches: minutes on a CPU, longer for a large model. */
const LR_FIND_TIMEOUT_MS = 60 * 60_000;

/** "1.3e-3": a learning rate as the field shows it. */
const lrText = (x: number): string => x.toExponential(1).replace(/\.0e/, 'e');

/** Runs the range test for `phase` with the form's model and sizes, then puts its suggestion into the phase's field. */
function findLearningRate(phase: 'head' | 'finetune'): void {
  if (!lastState) return;
  const key = phase === 'head' ? 'lr' : 'finetuneLr';
  const redraw = (): void => {
    formRevision++;
    if (lastState) render(lastState);
  };
  const r = readForm(formValues(lastState));
  if ('error' in r) {
    formError = r.error;
    redraw();
    return;
  }
  formError = '';
  lrNote = `Finding the ${phase === 'head' ? 'head' : 'fine-tuning'} learning rate (about 100 batches)…`;
  redraw();
  request('lrFind/start', { phase, form: r.overrides }, LR_FIND_TIMEOUT_MS).then(
    (a) => {
      memory.touched[key] = lrText(a.suggested);
      remember();
      const how = a.steepest === a.suggested ? `steepest descent${a.minimumTenth !== undefined ? `; minimum/10: ${lrText(a.minimumTenth)}` : ''}` : 'a tenth of the minimum: the loss showed no clear descent';
      lrNote = `${phase === 'head' ? 'Head' : 'Fine-tune'} learning rate ${lrText(a.suggested)} from the range test (${how}).`;
      redraw();
    },
    (err: Error) => {
      formError = err.message;
      lrNote = '';
      redraw();
    },
  );
}

/** The Find button beside a learning rate. */
function findButton(phase: 'head' | 'finetune', s: SidebarState): HTMLElement {
  return button('Find', () => findLearningRate(phase), { secondary: true, disabled: !!s.job || !s.trusted || !s.dataset, title: `Learning-rate range test for the ${phase === 'head' ? 'head' : 'fine-tuning'} phase with this model, size and batch; puts its suggestion here` });
}

/** A learning rate as the backend writes it: 0.001, 0.0001. */
const rate = (x: number): string => String(x);

function runSection(s: SidebarState): HTMLElement {
  const form = formValues(s);
  const d = phaseDefaults(form.model as ModelName, form.weights);
  const start = (): void => {
    const r = readForm(formValues(s));
    formError = 'error' in r ? r.error : '';
    highlighted = false;
    if ('error' in r) {
      render(s);
      return;
    }
    // Answered once the run (or its weights download) has started, or with why it could not.
    request('training/start', r.overrides).then(
      () => {
        if (formError === '') return;
        formError = '';
        if (lastState) render(lastState);
      },
      (err: Error) => {
        formError = err.message;
        if (lastState) render(lastState);
      },
    );
  };
  const weightsOptions = [...new Set(['imagenet', 'none', form.weights])];
  const moreOptions = h('vscode-collapsible', { title: 'More options', class: 'more', open: memory.moreOpen },
    h('div', { class: 'form' },
      field('Head learning rate', 'lr', textfield(form.lr, { placeholder: rate(d.lr) }), findButton('head', s)),
      field('Fine-tune learning rate', 'finetuneLr', textfield(form.finetuneLr, { placeholder: rate(d.finetuneLr) }), findButton('finetune', s)),
      field('Optimizer', 'optimizer', select(form.optimizer, ['default', 'rmsprop', 'adam', 'sgd'])),
      field('Unfreeze from', 'unfreezeFrom', textfield(form.unfreezeFrom, { placeholder: d.unfreezeFrom === '1' ? '1 (every layer)' : d.unfreezeFrom })),
      field('Class weights', 'classWeights', select(form.classWeights, ['no', 'yes'])),
      field('Checkpoint by', 'monitor', select(form.monitor, MONITORS)),
      field('Engine', 'engine', select(form.engine, ['setting', 'auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'])),
      field('Precision', 'precision', select(form.precision, ['setting', 'float32', 'mixed'])),
      h('p', { class: 'muted small span' }, `Optimizer default: ${d.headOptimizer} for the head, ${d.finetuneOptimizer} for fine-tuning. Engine and precision “setting”: ${s.runDefaults.engine}, ${s.runDefaults.precision}.`)));
  moreOptions.addEventListener('vsc-collapsible-toggle', () => {
    memory.moreOpen = (moreOptions as HTMLElement & { open?: boolean }).open === true;
    remember();
  });
  const touched = Object.keys(memory.touched).length > 0;
  const resumable = s.runs.some((r) => ['cancelled', 'failed', 'interrupted'].includes(r.status));
  return section(
    'Run',
    highlighted ? h('p', { class: 'hint', role: 'status' }, 'Check what will run, then press Start.') : null,
    h('div', { class: 'form' },
      field('Model', 'model', select(form.model, MODEL_NAMES)),
      form.model === 'mobilenetv2' ? field('Width (MobileNetV2)', 'alpha', textfield(form.alpha)) : null,
      field('Weights', 'weights', select(form.weights, weightsOptions)),
      h('div', { class: 'span' }, weightsNotice(s, form)),
      field('Phases', 'phase', select(form.phase, ['both', 'head', 'finetune'])),
      field('Epochs', 'epochs', textfield(form.epochs, { type: 'number' })),
      field('Batch', 'batch', textfield(form.batch, { type: 'number' })),
      field('Image size', 'size', textfield(form.size, { type: 'number' })),
      field('Augmentation', 'augment', select(form.augment, ['none', 'disk', 'online']))),
    moreOptions,
    formError ? h('p', { class: 'error', role: 'alert' }, formError) : null,
    lrNote ? h('p', { class: 'muted small', 'data-testid': 'lr-note' }, lrNote) : null,
    h('div', { class: 'actions' },
      button('Start', start, { disabled: !!s.job || !s.trusted || !s.dataset, title: s.dataset ? 'Start a new run with what the form shows' : 'Prepare a dataset first' }),
      button('Stop', () => runCommand('lesionLab.stop'), { secondary: true, disabled: !s.job }),
      button('Resume…', () => runCommand('lesionLab.resume'), { secondary: true, disabled: !!s.job || !s.trusted || !resumable, title: resumable ? 'Continue a stopped run from its last checkpoint' : 'No stopped run to resume' }),
      touched ? h('a', { href: '#', class: 'small reset', title: 'Forget what was typed here: every field back to the settings’ defaults', onclick: (ev: Event) => {
        ev.preventDefault();
        memory.touched = {};
        formError = '';
        remember();
        formRevision++;
        if (lastState) render(lastState);
      } }, 'Reset to defaults') : null),
  );
}

function jobSection(s: SidebarState): HTMLElement | null {
  if (!s.job) return null;
  const p = s.job.progress;
  const fraction = p && p.total > 0 ? p.done / p.total : undefined;
  const amount = p ? (p.unit === 'byte' ? `${formatBytes(p.done)} of ${formatBytes(p.total)}` : `${p.done}/${p.total} ${p.unit}`) : '';
  return section(
    'Current job',
    h('p', {}, h('strong', {}, s.job.title), p ? ` — ${p.task} ${amount}` : ''),
    h('vscode-progress-bar', fraction === undefined ? { indeterminate: true } : { value: Math.round(fraction * 100), max: 100 }),
    p?.rate !== undefined ? h('p', { class: 'muted small' }, `${p.unit === 'byte' ? `${formatBytes(p.rate)}/s` : `${p.rate.toFixed(p.rate < 10 ? 1 : 0)} ${p.unit}/s`}${p.etaSeconds !== undefined ? ` · ETA ${formatDuration(p.etaSeconds)}` : ''}`) : null,
  );
}

function runsSection(s: SidebarState): HTMLElement {
  if (s.runs.length === 0) return section('Runs', h('p', { class: 'muted' }, 'No runs yet. Start one above; each run keeps its checkpoints and metrics in runs/.'));
  return section(
    'Runs',
    h('p', { class: 'small' }, h('a', { href: '#', class: 'all-runs', title: 'Every run in a table: setups and results side by side, compare, rename, annotate, delete', onclick: (ev: Event) => { ev.preventDefault(); runCommand('lesionLab.showRuns'); } }, 'All runs (table, compare, manage)…')),
    h('ul', { class: 'runs' },
      ...[...s.runs].reverse().slice(0, 12).map((r) => {
        const c = r.checkpoint;
        const chance = c?.chance === 'at' || c?.chance === 'below';
        const kept = c ? `The kept checkpoint (epoch ${c.epoch}): validation balanced accuracy ${formatPercent(c.balancedAccuracy)}${c.ci ? `, 95% CI ${formatInterval(c.ci)}` : ''} on ${c.images} images — optimistic: this split chose the checkpoint.${chance ? ' Its interval includes chance.' : ''}` : undefined;
        return h('li', { title: [r.setup ?? r.path, kept].filter(Boolean).join('\n') },
          h('div', { class: 'run-line' },
            h('a', { href: '#', class: 'run-name', onclick: (ev: Event) => { ev.preventDefault(); post({ type: 'run/open', path: r.path }); } }, r.name),
            chance ? h('span', { class: 'badge-warning small', 'data-testid': 'run-chance' }, c!.chance === 'below' ? 'below chance' : 'at chance level') : null,
            r.epochs > 0 && s.trusted
              ? h('a', { href: '#', class: 'small run-action', title: `Export ${r.name} as ONNX, TF.js or Keras`, onclick: (ev: Event) => { ev.preventDefault(); runCommand('lesionLab.exportModel', r.path); } }, 'Export…')
              : null),
          h('div', { class: 'muted small run-meta' },
            `${r.epochs} ep · ${r.status}`,
            c ? h('span', { class: 'run-score' }, ` · bal. acc ${formatPercent(c.balancedAccuracy, 0)}${c.ci ? ` (CI ${formatInterval(c.ci)})` : ''}`) : null));
      })),
  );
}

/** Train… (palette, walkthrough, panels) asked to see the form: apply its phase, show the form, point at Start. */
function actOnFormRequest(s: SidebarState): void {
  const req = s.formRequest;
  if (!req || req.seq <= memory.handledRequest) return;
  memory.handledRequest = req.seq;
  if (req.phase) memory.touched.phase = req.phase;
  if (req.weights) memory.touched.weights = req.weights;
  remember();
  highlighted = true;
  formRevision++;
  requestAnimationFrame(() => {
    const run = root.querySelector('section[aria-label="Run"]');
    run?.scrollIntoView({ block: 'start' });
    (run?.querySelector('.actions vscode-button') as HTMLElement | null)?.focus();
  });
}

/**
 * Snapshots arrive several times a second while a job runs. Each section is redrawn only when the
 * part of the state it shows changed, so an open dropdown or a half-typed value in the Run form is
 * never torn down under the user's hand; a redrawn form gets the focus back where it was.
 */
type SectionName = 'trust' | 'engine' | 'dataset' | 'job' | 'run' | 'runs' | 'disclaimer';
const SECTIONS: { name: SectionName; key(s: SidebarState): unknown; build(s: SidebarState): HTMLElement | null }[] = [
  { name: 'trust', key: (s) => s.trusted, build: (s) => (s.trusted ? null : h('p', { class: 'warning' }, 'Untrusted workspace: viewing only. Trust the folder to prepare, train or download.')) },
  { name: 'engine', key: (s) => [s.engines, s.enginesError], build: engineSection },
  { name: 'dataset', key: (s) => [s.dataset, s.trusted], build: datasetSection },
  { name: 'job', key: (s) => s.job, build: jobSection },
  { name: 'run', key: (s) => [!!s.job, s.trusted, !!s.dataset, s.runs.map((r) => r.status), formError, s.runDefaults, s.weights, formRevision, highlighted], build: runSection },
  { name: 'runs', key: (s) => [s.runs, s.trusted], build: runsSection },
  { name: 'disclaimer', key: () => 0, build: () => h('p', { class: 'muted small disclaimer' }, 'A research and education tool, not a medical device.') },
];
const slots = new Map<SectionName, { container: HTMLElement; key?: string }>();

function render(s: SidebarState): void {
  actOnFormRequest(s);
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
    // Only while this view has the focus: a palette or dialog the person is typing into keeps it.
    const focused = document.hasFocus() ? (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-field]')?.dataset.field : undefined;
    replaceChildren(slot.container, section.build(s));
    if (focused && slot.container.contains(slot.container.querySelector(`[data-field="${focused}"]`))) {
      (slot.container.querySelector(`[data-field="${focused}"]`) as HTMLElement).focus();
    }
  }
}

replaceChildren(root, h('p', { class: 'muted' }, 'Loading…'));
let lastState: SidebarState | undefined;
connect('sidebar', (m) => {
  if (m.type !== 'sidebar/state') return;
  lastState = m.state;
  render(m.state);
});
