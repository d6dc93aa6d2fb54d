/**
 * A real HTTP server on 127.0.0.1 (port 0) for download tests: serves in-memory files with
 * Range/If-Range/ETag/HEAD support and can misbehave on purpose (drop the connection part way,
 * ignore Range, answer errors, redirect, trickle slowly). Every request is recorded.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface Trickle {
  /** Bytes written per tick. */
  chunk: number;
  intervalMs: number;
}

export class TestHttpServer {
  readonly requests: RecordedRequest[] = [];
  /** path (e.g. "/a.bin") → body */
  readonly files = new Map<string, Buffer>();
  /** path → Location header (answered with 302) */
  readonly redirects = new Map<string, string>();
  /** path → for the next `times` GETs, send `bytes` of the body and then destroy the socket. */
  readonly drops = new Map<string, { bytes: number; times: number }>();
  /** path → for the next `times` requests, answer `status` with no body. */
  readonly failures = new Map<string, { status: number; times: number }>();
  /** Answer every Range request with the whole file (200), as some servers do. */
  ignoreRange = false;
  /** Send bodies slowly (all paths), so a client can be interrupted mid-transfer. */
  trickle: Trickle | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly baseUrl: string,
  ) {}

  static async start(files: Record<string, Buffer | string> = {}): Promise<TestHttpServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const s = new TestHttpServer(server, `http://127.0.0.1:${port}/`);
    for (const [p, body] of Object.entries(files)) s.files.set(p.startsWith('/') ? p : `/${p}`, Buffer.from(body));
    server.on('request', (req, res) => s.handle(req, res));
    return s;
  }

  url(p: string): string {
    return new URL(p.replace(/^\//, ''), this.baseUrl).toString();
  }

  /** Requests for one path (GET and HEAD). */
  requestsFor(p: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === p);
  }

  etagOf(p: string): string | undefined {
    const body = this.files.get(p);
    return body ? `"${createHash('sha1').update(body).digest('hex')}"` : undefined;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push({ method: req.method ?? 'GET', path: p, headers: req.headers });
    const failure = this.failures.get(p);
    if (failure && failure.times > 0) {
      failure.times--;
      res.writeHead(failure.status).end();
      return;
    }
    const location = this.redirects.get(p);
    if (location) {
      res.writeHead(302, { location }).end();
      return;
    }
    const body = this.files.get(p);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const etag = this.etagOf(p)!;
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && !this.ignoreRange && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-length': end - start + 1,
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag,
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const payload = body.subarray(start, end + 1);
    const drop = this.drops.get(p);
    let dropAt: number | undefined;
    if (drop && drop.times > 0) {
      drop.times--;
      dropAt = Math.min(drop.bytes, payload.length);
    }
    this.send(res, payload, dropAt);
  }

  private send(res: http.ServerResponse, payload: Buffer, dropAt: number | undefined): void {
    const limit = dropAt ?? payload.length;
    const chunk = this.trickle?.chunk ?? 64 * 1024;
    let sent = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (sent >= limit) {
        if (dropAt !== undefined) res.socket?.destroy();
        else res.end();
        return;
      }
      const piece = payload.subarray(sent, Math.min(limit, sent + chunk));
      sent += piece.length;
      res.write(piece, () => (this.trickle ? setTimeout(next, this.trickle.intervalMs) : setImmediate(next)));
    };
    next();
  }
}
