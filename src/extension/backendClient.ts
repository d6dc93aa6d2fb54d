/**
 * Runs jobs in the backend child process. The process is forked lazily with the Node that runs
 * the extension host, restarted on the next request after it dies, and shut down politely
 * (ask, wait ~1 s, kill) on dispose. Everything it sends is validated before use.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { BackendEvent, HostToBackend, JobStatus } from '../shared/protocol/backend';
import type { JobRequest } from '../shared/protocol/jobs';
import { validateBackendMessage } from '../shared/protocol/backend';

export interface JobResult {
  status: JobStatus;
  exitCode: number;
  /** The `error` event's message when the job failed. */
  error?: { message: string; detail?: string };
}

export interface RunJobOptions {
  onEvent?: (event: BackendEvent) => void;
  /** Aborting asks the backend to cancel; the promise still resolves with status 'cancelled'. */
  signal?: AbortSignal;
}

/** The backend process died while jobs were running. */
export class BackendCrashError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signalName: NodeJS.Signals | null,
    readonly stderrTail: string[],
  ) {
    const how = signalName ? `was killed by ${signalName}` : `exited with code ${exitCode}`;
    const last = stderrTail.length ? `: ${stderrTail[stderrTail.length - 1]}` : '';
    super(`The Lesion Lab backend ${how}${last}`);
    this.name = 'BackendCrashError';
  }
}

export interface BackendClientOptions {
  /** Path of the bundled backend (dist/backend/cli.js). */
  modulePath: string;
  /** Extra environment for the backend (e.g. where installed engines live). */
  env?: Record<string, string>;
  /** Each stderr line of the backend, for the Output channel. */
  onStderr?: (line: string) => void;
  execPath?: string;
}

interface PendingJob {
  resolve(result: JobResult): void;
  reject(err: Error): void;
  onEvent?: (event: BackendEvent) => void;
  error?: { message: string; detail?: string };
}

const STDERR_TAIL = 20;

export class BackendClient {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private readonly jobs = new Map<string, PendingJob>();
  private readonly stderrTail: string[] = [];
  private nextId = 1;
  private disposed = false;
  readonly events = new EventEmitter();

  constructor(private readonly options: BackendClientOptions) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  get activeJobs(): number {
    return this.jobs.size;
  }

  async run(request: JobRequest, opts: RunJobOptions = {}): Promise<JobResult> {
    if (this.disposed) throw new Error('The Lesion Lab backend has been shut down.');
    const child = await this.start();
    const jobId = `job-${this.nextId++}`;
    return new Promise<JobResult>((resolve, reject) => {
      const onAbort = (): void => this.send({ type: 'job/cancel', jobId });
      const cleanup = (): void => opts.signal?.removeEventListener('abort', onAbort);
      this.jobs.set(jobId, {
        onEvent: opts.onEvent,
        resolve: (r) => {
          cleanup();
          resolve(r);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      });
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ type: 'job/start', jobId, request }, child);
    });
  }

  /** Asks politely, waits up to `graceMs`, then kills. Idempotent. */
  async dispose(graceMs = 1000): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send({ type: 'backend/shutdown' }, child);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private send(message: HostToBackend, child = this.child): void {
    if (child?.connected) child.send(message);
  }

  private start(): Promise<ChildProcess> {
    if (this.ready && this.running) return this.ready;
    this.stderrTail.length = 0;
    const child = fork(this.options.modulePath, [], {
      execPath: this.options.execPath ?? process.execPath,
      env: { ...process.env, ...this.options.env, LESION_LAB_IPC: '1', ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    let partial = '';
    const onText = (chunk: Buffer): void => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.pushStderr(line);
    };
    child.stderr?.on('data', onText);
    // The backend prints nothing on stdout over IPC, but a native library might.
    child.stdout?.on('data', onText);
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const onReady = (raw: unknown): void => {
        const parsed = validateBackendMessage(raw);
        if (parsed.ok && parsed.value.type === 'backend/ready') {
          child.off('message', onReady);
          resolve(child);
        }
      };
      child.on('message', onReady);
      child.once('error', (err) => reject(err));
      child.once('exit', (code, signal) => {
        if (partial) this.pushStderr(partial);
        partial = '';
        reject(new BackendCrashError(code, signal, [...this.stderrTail]));
      });
    });
    child.on('message', (raw: unknown) => this.onMessage(raw));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    return this.ready;
  }

  private pushStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    this.options.onStderr?.(line);
  }

  private onMessage(raw: unknown): void {
    const parsed = validateBackendMessage(raw);
    if (!parsed.ok) {
      this.options.onStderr?.(`[lesion-lab] ignored a malformed backend message: ${parsed.error}`);
      return;
    }
    const msg = parsed.value;
    if (msg.type !== 'job/event') return;
    const job = this.jobs.get(msg.jobId);
    if (!job) return;
    const event = msg.event;
    if (event.type === 'error') job.error = { message: event.message, detail: event.detail };
    job.onEvent?.(event);
    if (event.type === 'job/didEnd') {
      this.jobs.delete(msg.jobId);
      job.resolve({ status: event.status, exitCode: event.exitCode, error: job.error });
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) {
      this.child = undefined;
      this.ready = undefined;
    }
    if (this.jobs.size === 0) return;
    const err = new BackendCrashError(code, signal, [...this.stderrTail]);
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    this.events.emit('crash', err);
  }
}
