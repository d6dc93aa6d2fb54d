// What to print when a scenario fails, so that the failure can be understood from the CI log alone:
// the tail of code-server's log, the extension host's log lines about this extension or errors,
// the extension's own output channels, and the browser console's errors.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

export function tail(text, lines) {
  return text.split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n');
}

/**
 * The extension host's own log (remoteexthost.log in code-server, exthost.log in desktop VS Code) and
 * this extension's output channels (logs/<session>/exthost1/<publisher.name>/<channel>.log).
 */
export function extensionHostLogs(userDataDir, extensionId) {
  return filesUnder(join(userDataDir, 'logs'))
    .filter((f) => /exthost\.log$/i.test(f) || f.includes(`/${extensionId}/`))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

/** @param {{ codeServerLog: string, userDataDir: string, extensionId: string, consoleLines: string[] }} where */
export function diagnosticsReport({ codeServerLog, userDataDir, extensionId, consoleLines }) {
  const parts = [];
  if (existsSync(codeServerLog)) {
    parts.push(`── code-server log (last 30 lines of ${codeServerLog})\n${tail(readFileSync(codeServerLog, 'utf8'), 30)}`);
  }
  const relevant = new RegExp(`${extensionId.split('.').pop()}|error|fail|exception`, 'i');
  // Every window gets its own extension host (logs/<session>/exthostN/); the newest is the failing scenario's.
  const logs = extensionHostLogs(userDataDir, extensionId);
  const hostDir = (f) => f.match(/^.*\/exthost\d+\//)?.[0];
  const newest = logs.length > 0 ? hostDir(logs[logs.length - 1]) : undefined;
  for (const file of logs.filter((f) => hostDir(f) === newest)) {
    const text = readFileSync(file, 'utf8');
    const isChannel = file.includes(`/${extensionId}/`); // its own output channel: print the tail whole
    const lines = isChannel ? tail(text, 40) : tail(text.split('\n').filter((l) => relevant.test(l)).join('\n'), 40);
    if (lines) parts.push(`── ${relative(userDataDir, file)}${isChannel ? '' : ' (lines about the extension or errors)'}\n${lines}`);
  }
  const consoleErrors = consoleLines.filter((l) => /^\[(error|pageerror)\]/.test(l));
  if (consoleErrors.length > 0) parts.push(`── browser console errors (last 20)\n${consoleErrors.slice(-20).join('\n')}`);
  return parts.join('\n');
}
