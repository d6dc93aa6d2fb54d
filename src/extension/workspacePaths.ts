import * as vscode from 'vscode';
import path from 'node:path';

/** Says that Lesion Lab needs a folder, offering to open one; returns the same words. */
export function openFolderMessage(): string {
  const message = 'Lesion Lab works inside a folder: open one first (File › Open Folder…).';
  void vscode.window.showWarningMessage(message, 'Open Folder…').then((c) => c && vscode.commands.executeCommand('workbench.action.files.openFolder'));
  return message;
}

/** The workspace folder Lesion Lab works in, or undefined (with a hint shown) when none is open. */
export function workspaceRoot(warn = true): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder && warn) openFolderMessage();
  return folder?.uri.fsPath;
}

/** Resolves a `lesionLab.*Folder` setting against the workspace. */
export function settingPath(key: 'dataFolder' | 'preparedFolder' | 'runsFolder', root: string): string | undefined {
  const value = vscode.workspace.getConfiguration('lesionLab').get<string>(key, '');
  if (!value) return undefined;
  return path.isAbsolute(value) ? value : path.join(root, value);
}

export function preparedDir(root: string): string {
  return settingPath('preparedFolder', root) ?? path.join(root, 'prepared');
}

export function runsDir(root: string): string {
  return settingPath('runsFolder', root) ?? path.join(root, 'runs');
}

/** Refuses, with a message, actions that write or run code in an untrusted workspace. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${action} is disabled in an untrusted workspace. Trust the folder to train, prepare or download; viewing works as it is.`, 'Manage Workspace Trust').then((c) => {
    if (c) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
