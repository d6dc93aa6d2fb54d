/** Runs the real bundled backend (`dist/backend/cli.js`, built by `npm run build`) as a child process. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { validateBackendEvent } from '../../src/shared/protocol/backend';

export const CLI = path.resolve(__dirname, '../../dist/backend/cli.js');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the backend tests`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as one validated BackendEvent per line (with --json). */
  events: BackendEvent[];
}

export function parseEvents(stdout: string): BackendEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((line) => {
      const parsed = validateBackendEvent(JSON.parse(line));
      if (!parsed.ok) throw new Error(`stdout line is not a valid event: ${parsed.error}\n${line}`);
      return parsed.value;
    });
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Resolves with the first event that matches. */
  waitForEvent(match: (e: BackendEvent) => boolean): Promise<BackendEvent>;
}

export function startCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): RunningCli {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { match: (e: BackendEvent) => boolean; resolve: (e: BackendEvent) => void }[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stdout += text;
    if (!args.includes('--json')) return;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const parsed = validateBackendEvent(JSON.parse(line));
      if (!parsed.ok) continue;
      for (const w of [...waiters]) {
        if (w.match(parsed.value)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed.value);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, events: args.includes('--json') ? parseEvents(stdout) : [] }));
  });
  return {
    child,
    done,
    waitForEvent: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
  };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}
