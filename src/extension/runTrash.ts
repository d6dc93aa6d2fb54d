import * as vscode from 'vscode';
import { moveToTrash } from './freedesktopTrash';

/**
 * Moves a run folder to the OS trash. The desktop app on local files has a real trash behind
 * `workspace.fs.delete(…, { useTrash: true })`. A workbench served from elsewhere (code-server in a
 * browser, Remote - SSH, a container) runs this extension where the files are, and that machine's
 * provider has no trash: there, on Linux, the folder goes to the freedesktop.org home trash, where the
 * machine's file managers find it. Returns where it went, in words; throws (the folder still in place)
 * when it cannot be trashed.
 */
export async function trashRunFolder(dir: string): Promise<string> {
  const remote = vscode.env.remoteName !== undefined || vscode.env.uiKind === vscode.UIKind.Web;
  if (remote && process.platform === 'linux') return `the trash (${await moveToTrash(dir)})`;
  // Throws without deleting where the file system has no trash: the caller says so.
  await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: true });
  return 'the trash';
}
