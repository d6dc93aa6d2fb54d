/**
 * Runs a child process (npm, a load check), hands each output line over as it arrives, and on
 * cancel ends the whole process tree: npm runs install scripts, which run node-pre-gyp or
 * downloads of their own, and killing only npm would leave those running.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface StreamingOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Pass `args` unquoted (Windows: cmd.exe with a command line quoted by the caller). Never a shell. */
  windowsVerbatimArguments?: boolean;
  signal: AbortSignal;
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  /** Ends the process (and reports `timedOut`) after this long. */
  timeoutMs?: number;
}

export interface StreamingResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Ended because the AbortSignal fired. */
  cancelled: boolean;
  timedOut: boolean;
}

const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function runStreaming(command: string, args: readonly string[], opts: StreamingOptions): Promise<StreamingResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, [...args], {
        cwd: opts.cwd,
        env: opts.env,
        windowsVerbatimArguments: opts.windowsVerbatimArguments,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group on POSIX, so the group (npm and its scripts) can be signalled at once.
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
    } catch (err) {
      reject(err);
      return;
    }
    let cancelled = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killTree(child, 'SIGTERM');
      // npm normally exits within a second of SIGTERM; a stuck download may not.
      killTimer ??= setTimeout(() => killTree(child, 'SIGKILL'), 3000);
    };
    const onAbort = (): void => {
      cancelled = true;
      stop();
    };
    // A second Ctrl-C exits the CLI at once; do not leave npm running behind it.
    const onExit = (): void => killTree(child, 'SIGKILL');
    process.once('exit', onExit);
    const timeout = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });

    const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void => {
      const decoder = new StringDecoder('utf8');
      let partial = '';
      const flush = (text: string, final: boolean): void => {
        partial += text;
        // Progress bars redraw with \r; each redraw is a line of its own.
        const parts = partial.split(/\r\n|\n|\r/);
        partial = final ? '' : (parts.pop() ?? '');
        for (const part of parts) {
          const line = part.replace(ANSI_RE, '').trimEnd();
          if (line) opts.onLine(line, name);
        }
      };
      stream.on('data', (chunk: Buffer) => flush(decoder.write(chunk), false));
      stream.on('end', () => flush(decoder.end() + '\n', true));
    };
    pump(child.stdout!, 'stdout');
    pump(child.stderr!, 'stderr');

    child.once('error', (err) => {
      cleanup();
      reject(err);
    });
    child.once('close', (exitCode, signal) => {
      cleanup();
      resolve({ exitCode, signal, cancelled, timedOut });
    });
    function cleanup(): void {
      opts.signal.removeEventListener('abort', onAbort);
      process.off('exit', onExit);
      if (killTimer) clearTimeout(killTimer);
      if (timeout) clearTimeout(timeout);
    }
  });
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') {
      // taskkill /T ends the children too; /F because console processes ignore a polite request.
      spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    } else {
      process.kill(-child.pid, signal);
    }
  } catch {
    // already gone
  }
}
