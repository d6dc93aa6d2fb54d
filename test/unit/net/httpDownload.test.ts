import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CancelledError, UserError } from '../../../src/backend/errors';
import { downloadFile } from '../../../src/backend/net/httpDownload';
import { TestHttpServer } from '../../helpers/httpServer';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
const never = new AbortController().signal;

describe('downloadFile', function () {
  this.timeout(30_000);
  let dir: string;
  let server: TestHttpServer;
  const body = randomBytes(300 * 1024 + 17);
  const other = randomBytes(120 * 1024);

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-dl-'));
    server = await TestHttpServer.start({ '/data/a.bin': body, '/data/b.bin': other });
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('downloads a file, verifies it and leaves no .part behind', async () => {
    const dest = path.join(dir, 'a.bin');
    const seen: [number, number | undefined][] = [];
    const r = await downloadFile(server.url('data/a.bin'), dest, { signal: never, sha256: sha(body), expectedSize: body.length, onProgress: (d, t) => seen.push([d, t]) });
    assert.deepEqual(r, { bytes: body.length, sha256: sha(body), resumed: false });
    assert.ok((await fs.readFile(dest)).equals(body));
    assert.equal(await exists(`${dest}.part`), false);
    assert.equal(await exists(`${dest}.part.json`), false);
    assert.deepEqual(seen.at(-1), [body.length, body.length]);
    assert.ok(seen.length > 2, 'progress reported as bytes arrive');
  });

  it('reuses a complete file with the expected size and sha256 without any request', async () => {
    const dest = path.join(dir, 'a.bin');
    await downloadFile(server.url('data/a.bin'), dest, { signal: never });
    const before = server.requests.length;
    const r = await downloadFile(server.url('data/a.bin'), dest, { signal: never, expectedSize: body.length, sha256: sha(body) });
    assert.equal(server.requests.length, before);
    assert.equal(r.sha256, sha(body));
    // Without a known size or hash, it asks the server for the size (HEAD) and downloads nothing.
    await downloadFile(server.url('data/a.bin'), dest, { signal: never });
    assert.deepEqual(server.requests.slice(before).map((q) => q.method), ['HEAD']);
  });

  it('resumes a dropped transfer with a Range request, by itself', async () => {
    server.drops.set('/data/a.bin', { bytes: 100_000, times: 1 });
    const dest = path.join(dir, 'a.bin');
    const r = await downloadFile(server.url('data/a.bin'), dest, { signal: never, retryDelayMs: 10 });
    const gets = server.requestsFor('/data/a.bin').filter((q) => q.method === 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[0]!.headers.range, undefined);
    const m = /^bytes=(\d+)-$/.exec(gets[1]!.headers.range ?? '');
    assert.ok(m && Number(m[1]) > 0 && Number(m[1]) <= 100_000, `second request's Range: ${gets[1]!.headers.range}`);
    assert.equal(gets[1]!.headers['if-range'], server.etagOf('/data/a.bin'));
    assert.equal(r.resumed, true);
    assert.equal(r.sha256, sha(body));
    assert.ok((await fs.readFile(dest)).equals(body));
  });

  it('keeps the .part of a transfer that keeps dropping, and a later call continues it', async () => {
    server.drops.set('/data/a.bin', { bytes: 150_000, times: 1 });
    const dest = path.join(dir, 'a.bin');
    await assert.rejects(downloadFile(server.url('data/a.bin'), dest, { signal: never, retries: 0 }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /data\/a\.bin/);
      assert.match(e.message, /run the command again: it resumes/);
      return true;
    });
    assert.equal(await exists(dest), false);
    const partSize = (await fs.stat(`${dest}.part`)).size;
    assert.ok(partSize > 0 && partSize <= 150_000, `part has ${partSize} bytes`);
    const r = await downloadFile(server.url('data/a.bin'), dest, { signal: never, sha256: sha(body) });
    assert.equal(server.requests.at(-1)!.headers.range, `bytes=${partSize}-`);
    assert.equal(r.resumed, true);
    assert.ok((await fs.readFile(dest)).equals(body));
  });

  it('starts over when the server ignores Range (200) or the file changed (If-Range)', async () => {
    const dest = path.join(dir, 'a.bin');
    server.drops.set('/data/a.bin', { bytes: 100_000, times: 1 });
    await assert.rejects(downloadFile(server.url('data/a.bin'), dest, { signal: never, retries: 0 }), UserError);
    server.ignoreRange = true;
    const r = await downloadFile(server.url('data/a.bin'), dest, { signal: never });
    assert.match(server.requests.at(-1)!.headers.range ?? '', /^bytes=\d+-$/);
    assert.equal(r.resumed, false);
    assert.ok((await fs.readFile(dest)).equals(body));

    // The file on the server changes between the drop and the resume: the old bytes must not be spliced in.
    server.ignoreRange = false;
    const dest2 = path.join(dir, 'b.bin');
    server.drops.set('/data/b.bin', { bytes: 60_000, times: 1 });
    await assert.rejects(downloadFile(server.url('data/b.bin'), dest2, { signal: never, retries: 0 }), UserError);
    const changed = randomBytes(other.length);
    server.files.set('/data/b.bin', changed);
    await downloadFile(server.url('data/b.bin'), dest2, { signal: never });
    assert.ok((await fs.readFile(dest2)).equals(changed));
  });

  it('deletes the .part and says so when the sha256 or the size does not match', async () => {
    const dest = path.join(dir, 'a.bin');
    await assert.rejects(downloadFile(server.url('data/a.bin'), dest, { signal: never, sha256: 'ab'.repeat(32) }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /sha256 is [0-9a-f]{64} instead of the expected (ab){32}/);
      assert.match(e.message, /\.part was deleted/);
      return true;
    });
    assert.equal(await exists(dest), false);
    assert.equal(await exists(`${dest}.part`), false);
    await assert.rejects(downloadFile(server.url('data/a.bin'), dest, { signal: never, expectedSize: 1000 }), /instead of the expected 1000/);
    assert.equal(await exists(dest), false);
  });

  it('explains a 404 with the URL and the hint', async () => {
    const url = server.url('data/missing.bin');
    await assert.rejects(downloadFile(url, path.join(dir, 'm.bin'), { signal: never, hint: 'use --base-url with a mirror' }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.ok(e.message.includes(url));
      assert.match(e.message, /HTTP 404/);
      assert.match(e.message, /use --base-url with a mirror/);
      return true;
    });
    assert.equal(server.requestsFor('/data/missing.bin').length, 1, 'a 404 is not retried');
  });

  it('follows relative and absolute redirects, and retries server errors', async () => {
    server.redirects.set('/old/a.bin', '/hop/a.bin');
    server.redirects.set('/hop/a.bin', server.url('data/a.bin'));
    server.failures.set('/data/a.bin', { status: 503, times: 2 });
    const dest = path.join(dir, 'a.bin');
    await downloadFile(server.url('old/a.bin'), dest, { signal: never, retryDelayMs: 10 });
    assert.ok((await fs.readFile(dest)).equals(body));
    assert.equal(server.requestsFor('/data/a.bin').length, 3);
  });

  it('says to check the connection when the host cannot be found or reached', async () => {
    await assert.rejects(
      downloadFile('http://no-such-host.invalid/x.zip', path.join(dir, 'x.zip'), { signal: never, hint: 'use --base-url with a mirror' }),
      (e: unknown) => e instanceof UserError && /Check your connection or use --base-url with a mirror/.test(e.message) && /no-such-host\.invalid/.test(e.message),
    );
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      downloadFile(`http://127.0.0.1:${port}/x.zip`, path.join(dir, 'x.zip'), { signal: never, retries: 0 }),
      (e: unknown) => e instanceof UserError && /could not be reached \(ECONNREFUSED\)/.test(e.message),
    );
  });

  it('stops promptly when cancelled, keeping the .part and writing no dest', async () => {
    server.trickle = { chunk: 8 * 1024, intervalMs: 20 };
    const dest = path.join(dir, 'a.bin');
    const controller = new AbortController();
    let got = 0;
    const started = Date.now();
    await assert.rejects(
      downloadFile(server.url('data/a.bin'), dest, {
        signal: controller.signal,
        onProgress: (d) => {
          got = d;
          if (d >= 40_000) controller.abort();
        },
      }),
      CancelledError,
    );
    assert.ok(Date.now() - started < 5000);
    assert.equal(await exists(dest), false);
    const partSize = (await fs.stat(`${dest}.part`)).size;
    assert.ok(partSize > 0 && partSize <= got, `${partSize} of ${got}`);
    server.trickle = undefined;
    const r = await downloadFile(server.url('data/a.bin'), dest, { signal: never });
    assert.equal(r.resumed, true);
    assert.ok((await fs.readFile(dest)).equals(body));
  });
});
