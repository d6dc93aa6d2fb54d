import '../common/elements';
import type { SweepPanelState, SweepToHost } from '../../src/shared/protocol/views/sweep';
import type { SweepStatus, SweepSummary } from '../../src/shared/sweep';
import type { TaskRow } from '../../src/shared/sweepView';
import { cancelsSingleTasks, cvSummaryView, describeParams, isActive, resubmittable, stateCounts, summaryHeadline, taskRow } from '../../src/shared/sweepView';
import { formatPercent } from '../../src/shared/format';
import { connect, post } from '../common/host';
import { appRoot, emptyState, h, keyedSections } from '../common/dom';
import { button } from '../common/elements';

const root = appRoot();
const send = (m: SweepToHost): void => post(m);
const render = keyedSections(root, ['header', 'problems', 'tasks', 'summary', 'runs']);

function header(s: SweepPanelState, status: SweepStatus | undefined): Node {
  const what = status ? `${status.kind === 'cv' ? 'Cross-validation' : 'Sweep'} ${status.name}` : 'Sweep';
  const active = isActive(status);
  // Slurm: the scheduler takes them again; a local cross-validation resumes by running its cv again into the folder.
  const local = status?.executor === 'local';
  const canResubmit = !!status && (!local || status.kind === 'cv') && resubmittable(status).length > 0 && !s.runningHere && (!local || !active);
  return h(
    'div',
    {},
    h(
      'header',
      { class: 'panel-header' },
      h('h1', {}, what),
      h('span', { class: 'muted' }, s.folder ?? ''),
      h(
        'div',
        { class: 'actions' },
        // Offered only when they can act: a finished sweep has nothing to cancel, a local one resumes by running again.
        active || s.runningHere ? button('Cancel Sweep', () => send({ type: 'sweep/cancel' }), { disabled: !s.trusted, title: 'Stop every queued and running run; finished runs are kept, and the others resume from their checkpoints when resubmitted' }) : null,
        canResubmit
          ? button(local ? 'Resume Unfinished' : 'Resubmit Failed', () => send({ type: 'sweep/resubmit' }), {
              secondary: true,
              disabled: !s.trusted,
              title: local ? 'Run the unfinished fold runs again here; each resumes from its last checkpoint, finished ones are kept' : 'Submit failed, cancelled and never-submitted runs to the scheduler again; each resumes from its last checkpoint',
            })
          : null,
        button('Refresh', () => send({ type: 'sweep/refresh' }), { secondary: true, disabled: !s.folder }),
        button('Summary', () => send({ type: 'sweep/reveal', what: 'summary' }), { secondary: true, disabled: !s.summary, title: 'summary.md in the Markdown preview' }),
        button('Open Sweep…', () => send({ type: 'sweep/pick', what: 'open' }), { secondary: true }),
      ),
    ),
    status
      ? h(
          'p',
          { class: 'muted', 'data-role': 'counts' },
          `${status.tasks.length} run${status.tasks.length === 1 ? '' : 's'}: ${stateCounts(status)} · executor ${status.executor}`,
          s.runningHere ? ' · running in this window' : '',
          s.polling ? ' · updating every few seconds' : '',
          ` · checked ${new Date(status.checkedAt).toLocaleTimeString()}`,
        )
      : null,
  );
}

function problems(s: SweepPanelState, status: SweepStatus | undefined): Node | null {
  const lines = [s.error ? h('p', { class: 'alert' }, s.error) : null, status?.schedulerProblem ? h('p', { class: 'warning' }, `The scheduler could not be asked (${status.schedulerProblem}); the states come from the run folders alone.`) : null].filter(Boolean);
  return lines.length ? h('div', {}, ...lines) : null;
}

function tasksTable(s: SweepPanelState, status: SweepStatus): Node {
  const rows = status.tasks.map(taskRow);
  const folds = rows.some((r) => r.fold !== undefined);
  const varies = rows.some((r) => r.varying);
  const single = cancelsSingleTasks(status.executor) && s.trusted;
  const row = (r: TaskRow): HTMLElement =>
    h(
      'tr',
      { 'data-task': r.index, 'data-state': r.state },
      h('td', { class: 'num' }, String(r.index)),
      h('td', { class: 'text' }, h('span', { title: r.run }, r.name)),
      varies ? h('td', { class: 'text' }, r.varying || '—') : null,
      folds ? h('td', { class: 'num' }, r.fold !== undefined ? String(r.fold) : '—') : null,
      h('td', { class: 'text' }, h('span', { class: `status status-${r.state}`, title: r.message ?? r.stateText }, r.stateText), r.message ? h('div', { class: 'muted small' }, r.message) : null),
      h('td', { class: 'num' }, r.epochs),
      h('td', { class: 'num' }, r.latest),
      h('td', { class: 'num' }, r.best),
      h(
        'td',
        { class: 'text task-actions' },
        button('Open', () => send({ type: 'sweep/openRun', path: r.run }), { secondary: true, disabled: r.epochs === '—', title: 'Show this run in the Training panel' }),
        single && (r.state === 'pending' || r.state === 'running') ? button('Cancel', () => send({ type: 'sweep/cancel', tasks: [r.index] }), { secondary: true, title: 'scancel this task only' }) : null,
      ),
    );
  return h(
    'section',
    {},
    h('h2', {}, 'Runs'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data sweep-tasks' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { class: 'num' }, '#'),
            h('th', { class: 'text' }, 'Run folder'),
            varies ? h('th', { class: 'text' }, 'Options') : null,
            folds ? h('th', { class: 'num' }, 'Fold') : null,
            h('th', { class: 'text' }, 'State'),
            h('th', { class: 'num' }, 'Epoch'),
            h('th', { class: 'num', title: 'validation balanced accuracy of the latest epoch, with its 95% bootstrap interval' }, 'Latest bal. acc'),
            h('th', { class: 'num', title: 'validation balanced accuracy of the best checkpoint' }, 'Best'),
            h('th', {}, ''),
          ),
        ),
        h('tbody', {}, ...rows.map(row)),
      ),
    ),
  );
}

function cvSection(summary: SweepSummary): Node | null {
  if (summary.crossValidation.length === 0) return null;
  return h(
    'section',
    { class: 'cv-summary' },
    h('h2', {}, 'Cross-validation summary'),
    h('p', { class: 'muted' }, summaryHeadline(summary)),
    ...summary.crossValidation.map((cv) => {
      const v = cvSummaryView(cv, summary.classes);
      return h(
        'div',
        { class: 'cv-config' },
        v.config ? h('h3', {}, v.config) : null,
        v.pooled
          ? h(
              'div',
              { class: 'kpis' },
              h('div', { class: 'kpi', 'data-kpi': 'pooled' }, h('span', { class: 'kpi-value' }, v.pooled.balancedAccuracyValue), h('span', { class: 'kpi-label' }, `out-of-fold balanced accuracy (95% CI ${v.pooled.balancedAccuracyCi}) — ${v.pooled.images} images, each predicted by the model that did not train on it`)),
              h('div', { class: 'kpi', 'data-kpi': 'mean' }, h('span', { class: 'kpi-value' }, v.balancedAccuracyMeanSd), h('span', { class: 'kpi-label' }, `balanced accuracy, mean ± sd over ${v.foldsDone}`)),
            )
          : h('p', { class: 'callout' }, `Out of fold: when all ${cv.folds} folds have finished (${v.foldsDone.replace(/ folds$/, '')} so far). Mean ± sd so far: ${v.balancedAccuracyMeanSd}.`),
        v.pooled?.warning ? h('p', { class: 'alert', 'data-role': 'chance' }, v.pooled.warning) : null,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data cv-folds' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Fold'), h('th', { class: 'num' }, 'Images'), h('th', { class: 'num' }, 'Balanced accuracy'), h('th', { class: 'num' }, 'Accuracy'))),
            h('tbody', {}, ...v.perFold.map((f) => h('tr', {}, h('td', {}, String(f.fold)), h('td', { class: 'num' }, String(f.images)), h('td', { class: 'num' }, f.balancedAccuracy), h('td', { class: 'num' }, f.accuracy)))),
            h(
              'tfoot',
              {},
              h('tr', {}, h('th', {}, 'mean ± sd'), h('td', {}, ''), h('td', { class: 'num' }, v.balancedAccuracyMeanSd), h('td', { class: 'num' }, v.accuracyMeanSd)),
              v.pooled ? h('tr', {}, h('th', {}, 'out of fold (95% CI)'), h('td', { class: 'num' }, String(v.pooled.images)), h('td', { class: 'num' }, v.pooled.balancedAccuracy), h('td', { class: 'num' }, v.pooled.accuracy)) : null,
            ),
          ),
        ),
      );
    }),
    h('p', { class: 'muted small' }, 'Validation figures choose the checkpoint they are measured on, so they lean optimistic; keep a test set for the number you report.'),
  );
}

function runsSection(summary: SweepSummary): Node | null {
  // A cross-validation's runs are its folds, shown above; a sweep's finished runs are ranked here.
  if (summary.kind === 'cv' || summary.runs.length === 0) return null;
  const ranked = [...summary.runs].sort((a, b) => b.valBalancedAccuracy - a.valBalancedAccuracy);
  // The best run is marked only when it is better than the next: a tie has no winner.
  const leads = ranked.length === 1 || (ranked.length > 1 && ranked[0]!.valBalancedAccuracy > ranked[1]!.valBalancedAccuracy);
  return h(
    'section',
    {},
    h('h2', {}, 'Results'),
    h('p', { class: 'muted' }, summaryHeadline(summary)),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data sweep-results' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Run'), h('th', { class: 'text' }, 'Options'), h('th', { class: 'num' }, 'Best epoch'), h('th', { class: 'num' }, 'Val bal. acc'), h('th', { class: 'num' }, 'Val acc'), h('th', { class: 'num' }, 'Images'))),
        h(
          'tbody',
          {},
          ...ranked.map((r, i) =>
            h('tr', { class: i === 0 && leads ? 'best' : undefined }, h('td', {}, r.name), h('td', { class: 'text' }, describeParams(r.params) || '—'), h('td', { class: 'num' }, String(r.bestEpoch)), h('td', { class: 'num' }, formatPercent(r.valBalancedAccuracy)), h('td', { class: 'num' }, formatPercent(r.valAccuracy)), h('td', { class: 'num' }, String(r.valImages))),
          ),
        ),
      ),
    ),
  );
}

function show(s: SweepPanelState): void {
  if (!s.folder) {
    render('header', 'empty', () =>
      emptyState(
        'No sweep open',
        'Cross-validate a prepared dataset (K fold runs and a summary with mean ± sd and the out-of-fold balanced accuracy with its 95% interval), run a sweep spec, or open a sweep folder — here, or on a cluster in a Remote-SSH window.',
        button('Cross-Validate…', () => send({ type: 'sweep/pick', what: 'crossValidate' }), { disabled: !s.trusted }),
        button('Run Sweep…', () => send({ type: 'sweep/pick', what: 'runSweep' }), { secondary: true, disabled: !s.trusted }),
        button('Open Sweep…', () => send({ type: 'sweep/pick', what: 'open' }), { secondary: true }),
      ),
    );
    for (const section of ['problems', 'tasks', 'summary', 'runs']) render(section, null, () => null);
    return;
  }
  const status = s.status;
  render('header', { s: { ...s, summary: !!s.summary, status: undefined }, status: status && { ...status, tasks: status.tasks.map((t) => t.state) } }, () => header(s, status));
  render('problems', [s.error, status?.schedulerProblem], () => problems(s, status));
  render('tasks', [status, s.trusted], () => (status ? tasksTable(s, status) : h('p', { class: 'muted' }, s.runningHere ? 'Planning the runs…' : 'Asking for the runs’ states…')));
  render('summary', s.summary, () => (s.summary ? cvSection(s.summary) : null));
  render('runs', s.summary, () => (s.summary ? runsSection(s.summary) : null));
}

connect('sweep', (message) => {
  if (message.type === 'sweep/state') show(message.state);
});
