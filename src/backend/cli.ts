/**
 * The backend's single entry point. Forked by the extension with LESION_LAB_IPC=1 it serves jobs
 * over IPC; run from a shell it is the `lesion-lab` CLI. Both call the same `runJob()`.
 */
import type { BackendEvent, BackendMessage } from '../shared/protocol/backend';
import { EXIT, validateHostToBackend } from '../shared/protocol/backend';
import { UsageError, formatUsage } from './args';
import { COMMANDS, findCommand, requestFromArgv } from './commands';
import { createHumanReporter } from './humanOutput';
import { runJob } from './runJob';
import { BACKEND_VERSION } from './version';
import { assertNever } from '../shared/assertNever';

function usage(): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  return [
    'Lesion Lab: prepare, augment and train skin-lesion classifiers. A research and education tool, not a medical device.',
    '',
    'usage: lesion-lab <command> [options] [--json]',
    '',
    'commands:',
    ...visible.map((c) => `  ${c.name.padEnd(Math.max(...visible.map((v) => v.name.length)) + 1)} ${c.summary}`),
    '',
    '`lesion-lab <command> --help` shows a command’s options. --json prints one event per line on stdout.',
    'Exit codes: 0 done, 1 failed, 2 bad usage, 130 cancelled.',
  ].join('\n');
}

async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage() + '\n');
    return name === undefined ? EXIT.usage : EXIT.done;
  }
  if (name === '--version') {
    process.stdout.write(`${BACKEND_VERSION}\n`);
    return EXIT.done;
  }
  const command = findCommand(name);
  if (!command) {
    process.stderr.write(`lesion-lab: unknown command "${name}"\n\n${usage()}\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(formatUsage(command.name, command.summary, command.options, command.positional) + '\n');
    return EXIT.done;
  }
  let parsed;
  try {
    parsed = requestFromArgv(command, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `lesion-lab ${command.name}: ${err.message}\n\n${formatUsage(command.name, command.summary, command.options, command.positional)}\n`,
      );
      return EXIT.usage;
    }
    throw err;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.cancelled); // a second Ctrl-C means now
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const emit: (e: BackendEvent) => void = parsed.json
    ? (e) => process.stdout.write(JSON.stringify(e) + '\n')
    : createHumanReporter(process.stdout, process.stderr);
  return runJob(parsed.request, { emit, signal: controller.signal });
}

/** The job id of a `job/start` message, even a malformed one. */
function startedJobId(raw: unknown): string | undefined {
  const m = raw as { type?: unknown; jobId?: unknown } | null;
  return typeof m === 'object' && m !== null && m.type === 'job/start' && typeof m.jobId === 'string' ? m.jobId : undefined;
}

function serveIpc(): void {
  const send = (m: BackendMessage): void => {
    if (process.connected) process.send!(m);
  };
  const jobs = new Map<string, AbortController>();
  process.on('message', (raw: unknown) => {
    const parsed = validateHostToBackend(raw);
    if (!parsed.ok) {
      process.stderr.write(`lesion-lab backend: ignored a message: ${parsed.error}\n`);
      // A job the host is waiting for must still end, with the reason, rather than hang.
      const jobId = startedJobId(raw);
      if (jobId !== undefined) {
        send({ type: 'job/event', jobId, event: { type: 'error', message: `The backend refused this job: ${parsed.error}. This is a bug in Lesion Lab; the log has the details.` } });
        send({ type: 'job/event', jobId, event: { type: 'job/didEnd', status: 'failed', exitCode: EXIT.usage } });
      }
      return;
    }
    const msg = parsed.value;
    switch (msg.type) {
      case 'job/start': {
        const controller = new AbortController();
        jobs.set(msg.jobId, controller);
        void runJob(msg.request, {
          emit: (event) => send({ type: 'job/event', jobId: msg.jobId, event }),
          signal: controller.signal,
        }).finally(() => jobs.delete(msg.jobId));
        break;
      }
      case 'job/cancel':
        jobs.get(msg.jobId)?.abort();
        break;
      case 'backend/shutdown':
        for (const c of jobs.values()) c.abort();
        // Give cancelled jobs a moment to write their last checkpoint and say so.
        setTimeout(() => process.exit(0), jobs.size > 0 ? 500 : 0);
        break;
      default:
        assertNever(msg, 'host message');
    }
  });
  // The extension host went away: stop work rather than train for nobody.
  process.on('disconnect', () => {
    for (const c of jobs.values()) c.abort();
    setTimeout(() => process.exit(0), 500);
  });
  send({ type: 'backend/ready', pid: process.pid, version: BACKEND_VERSION });
}

// `lesion-lab … --json | head`: a closed pipe is the reader's choice, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

if (process.env.LESION_LAB_IPC === '1' && typeof process.send === 'function') {
  serveIpc();
} else {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`lesion-lab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
