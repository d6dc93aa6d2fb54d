import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunEditField, RunOpenTarget, RunsPanelState, RunsToHost } from '../../shared/protocol/views/runs';
import type { RunMeta, RunRow } from '../../shared/runsTable';
import { isCleanupCandidate } from '../../shared/runsTable';
import { assertNever } from '../../shared/assertNever';
import { listRunRows, readMetrics, readRunMeta } from '../runFolders';
import { trashRunFolder } from '../runTrash';

/** What the Runs panel needs from the rest of the extension. */
export interface RunsHost {
  runsDir(): string | undefined;
  /** The run a job is training now, if any. */
  busyRun(): string | undefined;
  openRun(run: string, target: 'training' | 'evaluation'): Promise<void>;
  /** A run was renamed, archived or deleted: the side bar and pickers re-read the runs. */
  runsChanged(): Promise<void>;
}

/**
 * The Runs panel: every run folder as a row (setup × results), the runs compared, and what a person does
 * to runs — rename, note, tag, archive, delete to the trash, clean up failed and empty ones. What a person
 * writes goes to the run's meta.json; config.json and the results are never rewritten.
 */
export class RunsController {
  state: RunsPanelState = { runs: [], showArchived: false, compare: [], trusted: vscode.workspace.isTrusted };
  private all: RunRow[] = [];
  private comparePaths: string[] = [];

  constructor(
    private readonly host: RunsHost,
    private readonly onChange: () => void,
  ) {}

  /** Reads every run folder again (on open, after an edit, when runs appear or change on disk). */
  async reload(): Promise<void> {
    const dir = this.host.runsDir();
    this.all = dir ? await listRunRows(dir) : [];
    const known = new Set(this.all.map((r) => r.path));
    this.comparePaths = this.comparePaths.filter((p) => known.has(p));
    const compare = await Promise.all(this.comparePaths.map(async (p) => ({ path: p, name: this.all.find((r) => r.path === p)!.name, epochs: await readMetrics(p) })));
    this.state = {
      runsDir: dir,
      runs: this.state.showArchived ? this.all : this.all.filter((r) => !r.archived),
      showArchived: this.state.showArchived,
      compare,
      busyRun: this.host.busyRun(),
      trusted: vscode.workspace.isTrusted,
    };
    this.onChange();
  }

  async handle(message: RunsToHost): Promise<void> {
    switch (message.type) {
      case 'runs/refresh':
        return this.reload();
      case 'runs/showArchived':
        this.state = { ...this.state, showArchived: message.show };
        return this.reload();
      case 'runs/compare':
        this.comparePaths = message.paths;
        return this.reload();
      case 'runs/open':
        return this.open(message.path, message.target);
      case 'runs/edit':
        return this.edit(message.path, message.field);
      case 'runs/archive':
        if (!this.writable('Archiving runs')) return;
        for (const run of this.known(message.paths)) await writeRunMeta(run.path, { archived: message.archived });
        return this.changed();
      case 'runs/delete':
        return this.delete(this.known(message.paths));
      case 'runs/cleanUp':
        return this.cleanUp();
      default:
        assertNever(message, 'runs message');
    }
  }

  /** Only runs the table listed: a message cannot name an arbitrary folder to write to or delete. */
  private known(paths: string[]): RunRow[] {
    return paths.map((p) => this.all.find((r) => r.path === p)).filter((r): r is RunRow => r !== undefined);
  }

  private writable(action: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(`${action} is disabled in an untrusted workspace.`, 'Manage Workspace Trust').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  private async changed(): Promise<void> {
    await this.host.runsChanged();
    await this.reload();
  }

  private async open(runPath: string, target: RunOpenTarget): Promise<void> {
    const [run] = this.known([runPath]);
    if (!run) return;
    switch (target) {
      case 'training':
      case 'evaluation':
        if (target === 'evaluation' && !run.hasEvaluation) {
          const choice = await vscode.window.showInformationMessage(`${run.name} has not been evaluated yet.`, ...(vscode.workspace.isTrusted && run.epochs > 0 ? ['Evaluate'] : []));
          if (choice === 'Evaluate') void vscode.commands.executeCommand('lesionLab.evaluate', run.path);
          return;
        }
        return this.host.openRun(run.path, target);
      case 'modelCard':
        if (!run.hasModelCard) {
          void vscode.window.showInformationMessage(`${run.name} has no model card yet: Evaluate writes it.`);
          return;
        }
        // Rendered, as a person reads it: VS Code's Markdown preview.
        await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(path.join(run.path, 'model-card.md')));
        return;
      case 'folder':
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(run.path));
        return;
      default:
        assertNever(target, 'run open target');
    }
  }

  private async edit(runPath: string, field: RunEditField): Promise<void> {
    const [run] = this.known([runPath]);
    if (!run || !this.writable('Editing runs')) return;
    const meta = (await readRunMeta(run.path)) ?? {};
    const ask = {
      name: { title: `Rename ${run.name}`, prompt: `A name to show instead of the folder's (${run.folder}); empty: the folder's name. The folder is not renamed.`, value: meta.name ?? run.name },
      note: { title: `Note on ${run.name}`, prompt: 'A note kept with the run (its meta.json); empty: none.', value: meta.note ?? '' },
      tags: { title: `Tags of ${run.name}`, prompt: 'Tags, separated by commas (e.g. baseline, augment-online); empty: none.', value: (meta.tags ?? []).join(', ') },
    }[field];
    const value = await vscode.window.showInputBox({ ...ask, ignoreFocusOut: true });
    if (value === undefined) return;
    const patch: RunMeta =
      field === 'tags'
        ? { tags: [...new Set(value.split(',').map((t) => t.trim()).filter(Boolean))] }
        : { [field]: value.trim() || undefined };
    await writeRunMeta(run.path, patch);
    await this.changed();
  }

  private async delete(runs: RunRow[]): Promise<void> {
    if (runs.length === 0 || !this.writable('Deleting runs')) return;
    const busy = this.host.busyRun();
    if (runs.some((r) => r.path === busy)) {
      void vscode.window.showWarningMessage(`${runs.find((r) => r.path === busy)!.name} is training now. Stop it first, then delete it.`, 'Stop Training').then((c) => c && vscode.commands.executeCommand('lesionLab.stop'));
      return;
    }
    const what = runs.length === 1 ? `the run “${runs[0]!.name}”` : `${runs.length} runs (${runs.map((r) => r.name).join(', ')})`;
    const confirm = await vscode.window.showWarningMessage(
      `Delete ${what}?`,
      { modal: true, detail: `${runs.length === 1 ? 'Its folder, with its checkpoints, metrics and evaluation, is' : 'Their folders, with checkpoints, metrics and evaluations, are'} moved to the trash; restore from there if you change your mind.` },
      'Move to Trash',
    );
    if (confirm !== 'Move to Trash') return;
    await this.trash(runs);
  }

  private async cleanUp(): Promise<void> {
    if (!this.writable('Cleaning up runs')) return;
    const busy = this.host.busyRun();
    const candidates = this.all.filter((r) => isCleanupCandidate(r) && r.path !== busy);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage('No failed or empty runs to clean up.');
      return;
    }
    const confirm = await vscode.window.showWarningMessage(
      `Move ${candidates.length} failed or empty run${candidates.length === 1 ? '' : 's'} to the trash?`,
      { modal: true, detail: candidates.map((r) => `${r.name}: ${r.status}, ${r.epochs} epoch${r.epochs === 1 ? '' : 's'}${r.error ? ` (${r.error.slice(0, 80)})` : ''}`).join('\n') },
      'Move to Trash',
    );
    if (confirm !== 'Move to Trash') return;
    await this.trash(candidates);
  }

  private async trash(runs: RunRow[]): Promise<void> {
    const failed: string[] = [];
    let firstFailed: string | undefined;
    const moved: { name: string; where: string }[] = [];
    for (const run of runs) {
      try {
        moved.push({ name: run.name, where: await trashRunFolder(run.path) });
      } catch (err) {
        failed.push(`${run.name}: ${err instanceof Error ? err.message : String(err)}`);
        firstFailed ??= run.path;
      }
    }
    await this.changed();
    if (failed.length) {
      // The way on: the folder itself, to delete or move by hand.
      void vscode.window
        .showErrorMessage(`Lesion Lab could not move ${failed.length === 1 ? 'a run' : `${failed.length} runs`} to the trash, so ${failed.length === 1 ? 'it is' : 'they are'} still there. ${failed.join('; ')}`, 'Reveal Folder')
        .then((c) => c && firstFailed && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(firstFailed)));
    }
    if (moved.length === 1) void vscode.window.showInformationMessage(`Moved “${moved[0]!.name}” to ${moved[0]!.where}.`);
    else if (moved.length > 1) void vscode.window.showInformationMessage(`Moved ${moved.length} runs to the trash.`);
  }
}

/** Merges `patch` into the run's meta.json (an undefined field is removed), written whole: temp file, then rename. */
export async function writeRunMeta(run: string, patch: Partial<Record<keyof RunMeta, unknown>>): Promise<RunMeta> {
  const file = path.join(run, 'meta.json');
  const current = (await readRunMeta(run)) ?? {};
  const next = Object.fromEntries(Object.entries({ ...current, ...patch }).filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))) as RunMeta;
  const temp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(temp, JSON.stringify(next, null, 2) + '\n');
  await fs.rename(temp, file);
  return next;
}
