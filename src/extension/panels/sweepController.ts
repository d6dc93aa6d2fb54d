import * as vscode from 'vscode';
import path from 'node:path';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { CrossValidateOptions, SweepOptions } from '../../shared/protocol/sweeps';
import type { SweepPanelState, SweepToHost } from '../../shared/protocol/views/sweep';
import type { ExecutorOptions, SweepPlan, SweepStatus, SweepSummary } from '../../shared/sweep';
import { resumeCrossValidation } from '../../shared/crossValidateForm';
import { sweepSummary } from '../../shared/sweep';
import { cancelsSingleTasks, isActive, pollSeconds, resubmittable } from '../../shared/sweepView';
import { assertNever } from '../../shared/assertNever';
import type { JobRunner } from '../jobRunner';
import { readJson } from '../runFolders';
import { requireTrust } from '../workspacePaths';

/** What the Sweep panel needs from the rest of the extension. */
export interface SweepHost {
  /** Shows the panel (it then asks for a snapshot). */
  show(): void;
  isOpen(): boolean;
  /** Shows a run in the Training panel. */
  openRun(run: string): Promise<void>;
  /** Pick another sweep folder or start one: the palette's commands. */
  pick(what: 'open' | 'crossValidate' | 'runSweep'): void;
}

/**
 * The Sweep panel's side in the extension host. Every state comes from the backend CLI run as a child process —
 * the `cv`/`sweep` job's own status events while this window runs the sweep, `sweep-status` (squeue/sacct for
 * Slurm, the executor record for a local sweep) on an interval otherwise — and actions are backend commands too
 * (`sweep-cancel`, `sweep-status --resubmit`). Nothing here works out a state on its own, so the panel says in a
 * Remote-SSH window what the CLI says on the login node.
 */
export class SweepController implements vscode.Disposable {
  state: SweepPanelState = { runningHere: false, polling: false, trusted: vscode.workspace.isTrusted };
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private disposed = false;

  constructor(
    private readonly jobs: JobRunner,
    private readonly host: SweepHost,
    private readonly onChange: () => void,
  ) {}

  /** Shows a sweep folder: its state now, then every few seconds while anything is pending or running. */
  async open(folder: string): Promise<void> {
    if (folder !== this.state.folder) this.set({ folder, status: undefined, summary: undefined, error: undefined });
    this.host.show();
    await this.check();
  }

  /** Runs a cross-validation in this window's backend (local executor: the job lasts until the folds are trained; Slurm: until they are submitted). */
  async crossValidate(options: CrossValidateOptions): Promise<void> {
    await this.runJob({ command: 'cv', options }, options.out, `Cross-validation (${options.folds} folds)`);
  }

  async runSweep(options: SweepOptions, folder: string): Promise<void> {
    await this.runJob({ command: 'sweep', options }, folder, `Sweep ${path.basename(folder)}`);
  }

  private async runJob(request: { command: 'cv'; options: CrossValidateOptions } | { command: 'sweep'; options: SweepOptions }, folder: string, title: string): Promise<void> {
    this.stopPolling();
    this.set({ folder, status: undefined, summary: undefined, error: undefined, runningHere: true });
    this.host.show();
    try {
      const result = await this.jobs.run(request, { title, notify: true, onEvent: (e) => this.onEvent(e, folder) });
      if (result?.status === 'failed') this.set({ error: result.error?.message ?? `${title} failed; the log says why.` });
    } finally {
      this.set({ runningHere: false });
    }
    // The job has ended (or only submitted, for Slurm): from here on the scheduler is asked.
    await this.check();
  }

  private onEvent(e: BackendEvent, folder: string): void {
    if (e.type === 'sweep/didStatus' && path.resolve(e.status.folder) === path.resolve(folder) && folder === this.state.folder) this.set({ status: e.status });
    if (e.type === 'sweep/didFinish' && path.resolve(e.folder) === path.resolve(folder) && folder === this.state.folder) this.set({ summary: e.summary });
  }

  async handle(message: SweepToHost): Promise<void> {
    switch (message.type) {
      case 'sweep/refresh':
        return this.check();
      case 'sweep/cancel':
        return this.cancel(message.tasks);
      case 'sweep/resubmit':
        return this.resubmit();
      case 'sweep/openRun': {
        // Only a run of the sweep shown: a message cannot point the panels at an arbitrary folder.
        const run = this.state.status?.tasks.find((t) => t.run === message.path);
        if (run) await this.host.openRun(run.run);
        return;
      }
      case 'sweep/pick':
        return this.host.pick(message.what);
      case 'sweep/reveal': {
        const folder = this.state.folder;
        if (!folder) return;
        if (message.what === 'folder') await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(folder));
        else await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(path.join(folder, 'summary.md')));
        return;
      }
      default:
        assertNever(message, 'sweep message');
    }
  }

  /** Asks `sweep-status` once (one at a time), then reads the summary it wrote; polls again while anything is active. */
  check(resubmit = false): Promise<void> {
    if (this.checking && !resubmit) return this.checking;
    const run = async (): Promise<void> => {
      const folder = this.state.folder;
      if (!folder || this.disposed) return;
      let status: SweepStatus | undefined;
      const result = await this.jobs.run(
        { command: 'sweep-status', options: { sweep: folder, resubmit } },
        {
          title: resubmit ? 'Resubmitting the sweep’s unfinished runs' : 'Sweep status',
          notify: resubmit,
          quietFailure: !resubmit,
          onEvent: (e) => {
            if (e.type === 'sweep/didStatus') status = e.status;
          },
        },
      );
      if (folder !== this.state.folder) return;
      const summary = await readSummary(folder);
      if (result?.status === 'failed') this.set({ error: result.error?.message ?? 'sweep-status failed; the log says why.' });
      else this.set({ ...(status ? { status } : {}), ...(summary ? { summary } : {}), error: undefined });
    };
    const checking = run().finally(() => {
      if (this.checking === checking) this.checking = undefined;
      this.schedule();
    });
    this.checking = checking;
    return checking;
  }

  private schedule(): void {
    this.stopPolling();
    const status = this.state.status;
    // While this window runs the sweep, its job reports every change; a closed panel asks for nothing.
    const polling = !this.disposed && !this.state.runningHere && isActive(status) && this.host.isOpen();
    if (polling && status) this.timer = setTimeout(() => void this.check(), pollSeconds(status.executor) * 1000);
    if (polling !== this.state.polling) this.set({ polling });
  }

  private stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async cancel(tasks: number[] | undefined): Promise<void> {
    const folder = this.state.folder;
    const status = this.state.status;
    if (!folder || !status) return;
    if (!requireTrust('Cancelling a sweep')) return;
    if (tasks?.length && !cancelsSingleTasks(status.executor)) {
      void vscode.window.showInformationMessage('A local sweep stops as a whole: Cancel Sweep stops its running runs (each keeps its last checkpoint); running it again resumes them.');
      return;
    }
    // This window's backend runs a local sweep: stopping that job stops its runs (sweep-cancel would signal the backend itself).
    if (this.state.runningHere) {
      this.jobs.cancelCurrent();
      return;
    }
    const what = tasks?.length ? `task${tasks.length === 1 ? '' : 's'} ${tasks.join(', ')} of ${status.name}` : `every unfinished run of ${status.name}`;
    const confirm = await vscode.window.showWarningMessage(`Cancel ${what}?`, { modal: true, detail: `${status.executor === 'slurm' ? 'scancel stops them' : 'They stop'}; finished runs are kept, and Resubmit resumes the others from their last checkpoints.` }, 'Cancel Runs');
    if (confirm !== 'Cancel Runs') return;
    const result = await this.jobs.run({ command: 'sweep-cancel', options: { sweep: folder, ...(tasks?.length ? { tasks } : {}) } }, { title: 'Cancelling the sweep', quietFailure: true, onEvent: (e) => this.onEvent(e, folder) });
    if (result?.status === 'failed') void this.jobs.showError(result.error?.message ?? 'Cancelling failed; the log says why.');
    await this.check();
  }

  private async resubmit(): Promise<void> {
    const status = this.state.status;
    if (!status || !requireTrust('Resubmitting runs')) return;
    if (resubmittable(status).length === 0) {
      void vscode.window.showInformationMessage('No run of this sweep needs submitting again.');
      return;
    }
    if (status.executor !== 'local') return this.check(true);
    // A local sweep resumes by running it again: for a cross-validation its plan says how (the same cv into the same folder).
    const folder = this.state.folder!;
    const [plan, record] = await Promise.all([readJson<SweepPlan>(path.join(folder, 'sweep.json')), readJson<{ options?: ExecutorOptions }>(path.join(folder, 'executor.json'))]);
    const again = plan && resumeCrossValidation(plan, folder, { kind: 'local', ...(record?.options?.parallel ? { parallel: record.options.parallel } : {}) });
    if (!again) {
      void vscode.window.showInformationMessage('A local sweep resumes when it runs again: Run Sweep… with the same spec skips its finished runs and resumes the others.', 'Run Sweep…').then((c) => c && vscode.commands.executeCommand('lesionLab.runSweep'));
      return;
    }
    if (this.jobs.busy) {
      void vscode.window.showWarningMessage(`Lesion Lab is busy with another job. Stop it first, or wait for it to finish.`, 'Stop').then((c) => c && vscode.commands.executeCommand('lesionLab.stop'));
      return;
    }
    await this.crossValidate(again);
  }

  private set(patch: Partial<SweepPanelState>): void {
    this.state = { ...this.state, ...patch, trusted: vscode.workspace.isTrusted };
    for (const key of Object.keys(patch) as (keyof SweepPanelState)[]) if (patch[key] === undefined) delete this.state[key];
    this.onChange();
  }

  dispose(): void {
    this.disposed = true;
    this.stopPolling();
  }
}

/** summary.json as the backend last wrote it, checked; undefined before the first run finished. */
async function readSummary(folder: string): Promise<SweepSummary | undefined> {
  const raw = await readJson<unknown>(path.join(folder, 'summary.json'));
  return raw !== undefined && sweepSummary(raw, 'summary.json') === undefined ? (raw as SweepSummary) : undefined;
}
