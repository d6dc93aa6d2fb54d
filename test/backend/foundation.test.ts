import assert from 'node:assert/strict';
import { BackendClient, BackendCrashError } from '../../src/extension/backendClient';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { CLI, assertBuilt, runCli, startCli } from '../helpers/cli';

describe('backend process: foundation', () => {
  before(assertBuilt);

  describe('CLI', () => {
    it('`engines --json` prints exactly one detection event and a clean end, nothing else on stdout', async () => {
      const r = await runCli(['engines', '--json']);
      assert.equal(r.code, 0, r.stderr);
      // Besides them only debug log lines (what a Vulkan driver printed while being probed), all parsed as events.
      const events = r.events.filter((e) => !(e.type === 'log' && e.level === 'debug'));
      assert.deepEqual(events.map((e) => e.type), ['engines/didDetect', 'job/didEnd']);
      const detect = events[0]!;
      assert.equal(detect.type, 'engines/didDetect');
      if (detect.type !== 'engines/didDetect') return;
      assert.deepEqual(detect.engines.map((e) => e.name), ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
      for (const e of detect.engines) assert.ok(e.reason.length > 10, `${e.name} has no reason`);
      assert.equal(detect.engines.find((e) => e.name === 'cpu')?.available, true);
      assert.equal(detect.engines.find((e) => e.name === 'wasm')?.available, true);
      assert.ok(detect.engines.some((e) => e.name === detect.selected.engine && e.available));
      assert.deepEqual(events[1], { type: 'job/didEnd', status: 'done', exitCode: 0 });
    });

    it('prints a readable engine table without --json', async () => {
      const r = await runCli(['engines']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /✓ wasm/);
      assert.match(r.stdout, /selected \(auto\): /);
    });

    it('exits 2 with usage, not a stack trace, for unknown commands and bad flags', async () => {
      const unknown = await runCli(['paint']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown command "paint"/);
      assert.match(unknown.stderr, /usage: lesion-lab <command>/);
      const bad = await runCli(['prepare', '--data', 'x', '--out', 'y', '--split', 'sideways']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--split must be one of lesion, image/);
      assert.match(bad.stderr, /lesion-lab prepare \[options\]/);
      for (const r of [unknown, bad]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const none = await runCli([]);
      assert.equal(none.code, 2);
      const help = await runCli(['train', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--unfreeze-from/);
    });

    it('SIGINT cancels a long job within a second: exit 130 and a cancelled end event', async () => {
      const cli = startCli(['debug-wait', '--seconds', '60', '--json']);
      await cli.waitForEvent((e) => e.type === 'progress');
      const t0 = Date.now();
      cli.child.kill('SIGINT');
      const r = await cli.done;
      const elapsed = Date.now() - t0;
      assert.equal(r.code, 130);
      assert.ok(elapsed < 1000, `took ${elapsed} ms to stop`);
      assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'cancelled', exitCode: 130 });
    });
  });

  describe('over IPC with the extension’s BackendClient', () => {
    let client: BackendClient;
    const stderr: string[] = [];
    beforeEach(() => {
      stderr.length = 0;
      client = new BackendClient({ modulePath: CLI, onStderr: (l) => stderr.push(l) });
    });
    afterEach(() => client.dispose());

    it('streams typed events of a job and resolves with its status', async () => {
      const events: BackendEvent[] = [];
      const result = await client.run({ command: 'engines' }, { onEvent: (e) => events.push(e) });
      assert.equal(result.status, 'done');
      // A Vulkan driver's messages arrive as a debug log event (for the Output channel), not as raw stderr.
      assert.deepEqual(events.filter((e) => !(e.type === 'log' && e.level === 'debug')).map((e) => e.type), ['engines/didDetect', 'job/didEnd']);
      assert.deepEqual(stderr, []);
    });

    it('forwards cancel: a long job ends within a second as cancelled (exit code 130)', async () => {
      const controller = new AbortController();
      let progressed!: () => void;
      const firstProgress = new Promise<void>((r) => (progressed = r));
      const pending = client.run({ command: 'debug-wait', options: { seconds: 60 } }, { signal: controller.signal, onEvent: (e) => e.type === 'progress' && progressed() });
      await firstProgress;
      const t0 = Date.now();
      controller.abort();
      const result = await pending;
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.deepEqual(result, { status: 'cancelled', exitCode: 130, error: undefined });
      assert.equal(client.running, true, 'the backend process survives a cancelled job');
    });

    it('reports a failed job with the error message a person can act on', async () => {
      const result = await client.run({ command: 'evaluate', options: { run: '/nonexistent/run' } });
      assert.equal(result.status, 'failed');
      assert.equal(result.exitCode, 1);
      assert.ok(result.error && result.error.message.length > 0);
    });

    it('refuses a malformed job at the IPC boundary: the job ends failed with the reason, the backend logs it and keeps serving', async () => {
      // What a host bug (or anything else on the channel) could send: options the command does not take.
      const malformed = { command: 'train', options: { prepared: '/p', run: '/r', epochs: 'ten' } } as unknown as Parameters<BackendClient['run']>[0];
      const result = await client.run(malformed);
      assert.equal(result.status, 'failed');
      assert.equal(result.exitCode, 2);
      assert.match(result.error?.message ?? '', /The backend refused this job: host message is malformed: job\/start\.request\.options\.model should be one of resnet50/);
      // The backend's stderr and its IPC answer are separate pipes: under load the line can come after the answer.
      const logged = () => stderr.some((l) => /ignored a message: .*options\.model/.test(l));
      for (const deadline = Date.now() + 10_000; !logged() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
      assert.ok(logged(), stderr.join('\n'));
      assert.equal((await client.run({ command: 'engines' })).status, 'done');
    });

    it('surfaces a crash with the exit code and the last stderr lines, then restarts on the next request', async () => {
      await assert.rejects(
        client.run({ command: 'debug-crash', options: { message: 'native library exploded' } }),
        (err: unknown) => err instanceof BackendCrashError && err.exitCode === 70 && err.stderrTail.some((l) => l.includes('FATAL: native library exploded')) && /exited with code 70: FATAL: native library exploded/.test(err.message),
      );
      assert.ok(stderr.some((l) => l.includes('native library exploded')), 'stderr reaches the Output channel callback');
      assert.equal(client.running, false);
      const again = await client.run({ command: 'engines' });
      assert.equal(again.status, 'done');
    });

    it('dispose asks, then kills, and is idempotent', async () => {
      await client.run({ command: 'engines' });
      const pending = client.run({ command: 'debug-wait', options: { seconds: 60 } }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      await Promise.all([client.dispose(), client.dispose()]);
      assert.ok(Date.now() - t0 < 2500);
      assert.equal(client.running, false);
      const outcome = await pending;
      // The job either ended cancelled (polite shutdown) or the process was gone (crash error).
      assert.ok(outcome instanceof BackendCrashError || (outcome as { status?: string }).status === 'cancelled');
      await assert.rejects(client.run({ command: 'engines' }), /shut down/);
    });
  });
});
