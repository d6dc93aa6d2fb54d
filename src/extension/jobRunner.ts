import * as vscode from 'vscode';
import type { BackendEvent } from '../shared/protocol/backend';
import type { JobRequest } from '../shared/protocol/jobs';
import { formatDuration } from '../shared/format';
import type { BackendClient, JobResult } from './backendClient';
import { BackendCrashError } from './backendClient';
import { folderInUse } from './folderLocks';
import type { LabState } from './state';
import { assertNever } from '../shared/assertNever';
import { eventInUiWords, inUiWords } from './uiWords';

export interface RunOptions {
  /** Shown in the progress notification and the status bar. */
  title: string;
  /** Show a cancellable notification (long jobs); quick queries run silently. */
  notify?: boolean;
  onEvent?: (event: BackendEvent) => void;
  /** A failure is the caller's to show (e.g. in a form), not an error notification. */
  quietFailure?: boolean;
  /** What a cancelled job's notification offers: the command that runs it again (or resumes it), under this label. */
  again?: { label: string; command: string; args?: unknown[]; note?: string };
}

/**
 * Runs backend jobs the way a VS Code user expects: a cancellable progress notification, a
 * status-bar item while it runs, the log in the Output channel, and failures as error messages
 * with a *Show Log* action.
 */
export class JobRunner implements vscode.Disposable {
  private readonly statusItem: vscode.StatusBarItem;
  private readonly eventEmitter = new vscode.EventEmitter<BackendEvent>();
  /** Every event of every job, for panels that follow along. */
  readonly onEvent = this.eventEmitter.event;
  private current: AbortController | undefined;

  constructor(
    private readonly client: BackendClient,
    private readonly output: vscode.OutputChannel,
    private readonly state: LabState,
  ) {
    this.statusItem = vscode.window.createStatusBarItem('lesionLab.job', vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = 'Lesion Lab job';
    this.statusItem.command = 'lesionLab.showTraining';
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Asks the running long job to stop (within one batch for training). */
  cancelCurrent(): boolean {
    if (!this.current) return false;
    this.current.abort();
    return true;
  }

  async run(request: JobRequest, opts: RunOptions): Promise<JobResult | undefined> {
    if (!opts.notify) return this.execute(request, opts, new AbortController());
    // Another process (the CLI, another window) writing the same folder: show it rather than start a second.
    const inUse = await folderInUse(request);
    if (inUse) {
      // Later, when the other job is done: the same command again (its own words), or the log meanwhile.
      void vscode.window.showWarningMessage(`Lesion Lab: ${inUiWords(inUse)}`, ...(opts.again ? [opts.again.label] : []), 'Show Log').then((choice) => {
        if (choice === 'Show Log') this.output.show(true);
        else if (choice && opts.again) void vscode.commands.executeCommand(opts.again.command, ...(opts.again.args ?? []));
      });
      return undefined;
    }
    if (this.current) {
      void vscode.window.showWarningMessage(`Lesion Lab is busy with “${this.state.job?.title ?? 'a job'}”. Stop it first, or wait for it to finish.`, 'Stop').then((c) => c && vscode.commands.executeCommand('lesionLab.stop'));
      return undefined;
    }
    const controller = new AbortController();
    this.current = controller;
    this.state.update({ job: { command: request.command, title: opts.title } });
    void vscode.commands.executeCommand('setContext', 'lesionLab.jobRunning', true);
    this.statusItem.text = `$(sync~spin) ${opts.title}`;
    this.statusItem.tooltip = `${opts.title} — click to show progress`;
    this.statusItem.show();
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Lesion Lab: ${opts.title}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let reported = 0;
          return this.execute(request, {
            ...opts,
            onEvent: (e) => {
              if (e.type === 'progress' && e.total > 0) {
                const fraction = Math.min(1, e.done / e.total);
                const eta = e.etaSeconds !== undefined && e.done < e.total ? ` · ETA ${formatDuration(e.etaSeconds)}` : '';
                progress.report({ increment: Math.max(0, fraction * 100 - reported), message: `${e.task} ${e.done}/${e.total} ${e.unit}${eta}` });
                reported = fraction * 100;
                this.statusItem.text = `$(sync~spin) ${opts.title}: ${e.task} ${Math.round(fraction * 100)}%`;
                this.state.update({ job: { command: request.command, title: opts.title, progress: { ...e } } });
              }
              opts.onEvent?.(e);
            },
          }, controller);
        },
      );
    } finally {
      this.current = undefined;
      this.statusItem.hide();
      this.state.update({ job: undefined });
      void vscode.commands.executeCommand('setContext', 'lesionLab.jobRunning', false);
    }
  }

  private async execute(request: JobRequest, opts: RunOptions, controller: AbortController): Promise<JobResult | undefined> {
    this.output.appendLine(`[${new Date().toISOString()}] ${opts.title} (${request.command})`);
    try {
      const result = await this.client.run(request, {
        signal: controller.signal,
        onEvent: (raw) => {
          this.logEvent(raw);
          // The one door backend text comes in by: from here on it speaks the UI's words, not the CLI's.
          const e = eventInUiWords(raw);
          opts.onEvent?.(e);
          this.eventEmitter.fire(e);
        },
      });
      if (result.error) result.error = { ...result.error, message: inUiWords(result.error.message) };
      if (result.status === 'failed' && !opts.quietFailure) void this.showError(result.error?.message ?? `${opts.title} failed; the log says why.`);
      if (result.status === 'cancelled') void this.showCancelled(opts);
      return result;
    } catch (err) {
      if (err instanceof BackendCrashError) {
        this.output.appendLine(`backend crashed: exit code ${err.exitCode}, signal ${err.signalName}`);
        const tail = err.stderrTail.slice(-3).join(' ⏎ ');
        void this.showError(
          `The Lesion Lab backend stopped unexpectedly during “${opts.title}” (${err.signalName ?? `exit code ${err.exitCode}`})${tail ? `: ${tail}` : ''}. It restarts on the next request.`,
        );
        return { status: 'failed', exitCode: err.exitCode ?? 1, error: { message: err.message } };
      }
      throw err;
    }
  }

  private async showCancelled(opts: RunOptions): Promise<void> {
    const again = opts.again;
    const message = `Lesion Lab: ${opts.title} was cancelled.${again?.note ? ` ${again.note}` : ''}`;
    const choice = again ? await vscode.window.showInformationMessage(message, again.label) : await vscode.window.showInformationMessage(`${message} The log has what it did before it stopped.`, 'Show Log');
    if (choice === 'Show Log') this.output.show(true);
    else if (choice && again) void vscode.commands.executeCommand(again.command, ...(again.args ?? []));
  }

  async showError(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Show Log', 'Open Settings');
    if (choice === 'Show Log') this.output.show(true);
    if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'lesionLab');
  }

  private logEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'log':
        this.output.appendLine(`${e.level}: ${e.message}`);
        break;
      case 'error':
        this.output.appendLine(`error: ${e.message}${e.detail ? `\n${e.detail}` : ''}`);
        break;
      case 'job/didEnd':
        this.output.appendLine(`→ ${e.status} (exit code ${e.exitCode})`);
        break;
      case 'progress':
      case 'train/didBatch':
        break; // too chatty for the log
      case 'engines/didDetect':
      case 'engine/didInstall':
      case 'demoData/didFinish':
      case 'download/didFinish':
      case 'prepare/didFinish':
      case 'dataset/didInspect':
      case 'augment/didFinish':
      case 'train/didStart':
      case 'train/didEpoch':
      case 'train/didCheckpoint':
      case 'train/didStopEarly':
      case 'train/didFinish':
      case 'evaluate/didFinish':
      case 'predict/didFinish':
      case 'thumbnails/didRender':
      case 'augmentPreview/didRender':
        this.output.appendLine(`${e.type}`);
        break;
      case 'lrFind/didFinish':
        this.output.appendLine(`${e.type}: ${e.points.length} batches (${e.stoppedBy}); suggested learning rate ${e.suggestion.suggested?.toExponential(1) ?? 'none'} (steepest ${e.suggestion.steepest?.toExponential(1) ?? '—'}, minimum/10 ${e.suggestion.minimumTenth?.toExponential(1) ?? '—'})`);
        break;
      case 'predict/didFailImage':
        this.output.appendLine(`error: ${e.error}`);
        break;
      case 'weights/didCheck':
        this.output.appendLine(`${e.type}: ${e.status.cached ? `cached ${e.status.file}` : `not cached; ${e.status.download?.reachable ? 'downloadable' : `not downloadable (${e.status.download?.reason ?? '?'})`}`}`);
        break;
      case 'sweep/didStatus':
        break; // the Sweep panel shows it
      case 'sweep/didFinish':
        this.output.appendLine(`${e.type}: ${e.summary.finished} of ${e.summary.total} runs finished; summary ${e.path}`);
        break;
      case 'export/didFinish':
        this.output.appendLine(`${e.type}: ${e.format} → ${e.out} (${e.files.join(', ')}); max |Δp| vs checkpoint ${e.verification.maxAbsDiff.toExponential(1)} on ${e.verification.images} ${e.verification.source} images`);
        break;
      default:
        assertNever(e, 'event');
    }
  }

  dispose(): void {
    this.current?.abort();
    this.statusItem.dispose();
    this.eventEmitter.dispose();
  }
}

