/**
 * A resumable HTTP(S) download of one file, with plain node:http/node:https.
 *
 * Bytes go to `DEST.part`; only a complete transfer whose size (and sha256, when known) checks out
 * is renamed to DEST, so DEST is never half a file. A cancelled or dropped transfer keeps the
 * .part, and the next call continues it with a Range request (guarded by If-Range with the
 * ETag/Last-Modified recorded in `DEST.part.json`, so a file that changed on the server restarts
 * instead of being spliced). Redirects are followed; a dropped connection or a 5xx answer is
 * retried a few times, each time resuming.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { CancelledError, isCancellation, throwIfCancelled, UserError } from '../errors';
import { sleep } from '../job';
import { formatBytes } from '../../shared/format';

export interface DownloadFileOptions {
  /** Bytes the file must have (when known in advance). */
  expectedSize?: number;
  /** Hex sha256 the file must have (when known in advance). */
  sha256?: string;
  signal: AbortSignal;
  /** Called as bytes arrive; `done` includes bytes already in the .part file. */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Another way out for the user when the server cannot be reached, e.g. "use --base-url with a mirror". */
  hint?: string;
  /** Further attempts after a dropped connection or a server error (default 3). */
  retries?: number;
  /** Wait before the first retry; doubles each time (default 1000 ms). */
  retryDelayMs?: number;
  /** A connection silent this long counts as dropped (default 60 s). */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
  /** Some bytes came from an earlier, interrupted transfer. */
  resumed: boolean;
}

/** What we remember about a .part so it is only continued from the same file. */
interface PartRecord {
  url: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

/** A failure that another attempt may get past; `message` is for the user. */
class TransientError extends Error {}

const MAX_REDIRECTS = 10;

export async function downloadFile(url: string, dest: string, opts: DownloadFileOptions): Promise<DownloadResult> {
  throwIfCancelled(opts.signal);
  const reused = await reuseExisting(url, dest, opts);
  if (reused) return reused;

  const part = `${dest}.part`;
  const retries = opts.retries ?? 3;
  let delay = opts.retryDelayMs ?? 1000;
  let result: TransferResult | undefined;
  for (let attempt = 0; result === undefined; attempt++) {
    try {
      result = await transfer(url, dest, opts);
    } catch (err) {
      if (isCancellation(err) || opts.signal.aborted) throw new CancelledError();
      if (!(err instanceof TransientError)) throw err;
      if (attempt >= retries) {
        const have = await sizeOf(part);
        throw new UserError(
          `Downloading ${url} failed: ${err.message}${retries > 0 ? ` (${attempt + 1} attempts)` : ''}. ` +
            `Check your connection${opts.hint ? ` or ${opts.hint}` : ''}, then run the command again` +
            (have ? `: it resumes from the ${formatBytes(have)} already in ${part}.` : '.'),
        );
      }
      await sleep(delay, opts.signal);
      delay *= 2;
    }
  }

  const problem =
    opts.expectedSize !== undefined && result.bytes !== opts.expectedSize
      ? `it has ${result.bytes} bytes instead of the expected ${opts.expectedSize}`
      : opts.sha256 && result.sha256 !== opts.sha256.toLowerCase()
        ? `its sha256 is ${result.sha256} instead of the expected ${opts.sha256.toLowerCase()}`
        : undefined;
  if (problem) {
    await removePart(dest);
    throw new UserError(
      `The file downloaded from ${url} is not the expected one: ${problem}. The partial file ${part} was deleted; ` +
        `run the command again to download it afresh. If this repeats, the server${opts.hint ? ' (or mirror)' : ''} serves a different file.`,
    );
  }
  await fs.rename(part, dest);
  await fs.rm(`${part}.json`, { force: true });
  return { bytes: result.bytes, sha256: result.sha256, resumed: result.resumed };
}

/** DEST already complete? With a known size or sha256 that is checked locally; otherwise the server is asked for the size (HEAD). */
async function reuseExisting(url: string, dest: string, opts: DownloadFileOptions): Promise<DownloadResult | undefined> {
  const size = await sizeOf(dest);
  if (size === undefined) return undefined;
  if (opts.expectedSize !== undefined && size !== opts.expectedSize) return undefined;
  if (opts.expectedSize === undefined && !opts.sha256) {
    const remote = await remoteSize(url, opts).catch(() => undefined);
    if (remote !== size) return undefined;
  }
  const sha256 = await hashFile(dest, size, opts.signal);
  if (opts.sha256 && sha256 !== opts.sha256.toLowerCase()) return undefined;
  return { bytes: size, sha256, resumed: false };
}

interface TransferResult {
  bytes: number;
  sha256: string;
  resumed: boolean;
}

/** One attempt: continue (or start) the .part and stream the rest of the file into it. */
async function transfer(url: string, dest: string, opts: DownloadFileOptions): Promise<TransferResult> {
  const part = `${dest}.part`;
  const recordFile = `${part}.json`;
  let offset = (await sizeOf(part)) ?? 0;
  let record = offset > 0 ? await readRecord(recordFile) : undefined;
  if (offset > 0 && (record?.url !== url || (opts.expectedSize !== undefined && offset > opts.expectedSize))) {
    offset = 0; // a leftover from another file or another source: start over
    record = undefined;
  }
  const hash = createHash('sha256');
  if (offset > 0) await hashInto(hash, part, offset, opts.signal);
  if (offset > 0 && offset === opts.expectedSize) {
    return { bytes: offset, sha256: hash.digest('hex'), resumed: true };
  }

  const headers: Record<string, string> = { 'user-agent': 'lesion-lab', 'accept-encoding': 'identity' };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    const validator = record?.etag && !record.etag.startsWith('W/') ? record.etag : record?.lastModified;
    if (validator) headers['if-range'] = validator;
  }
  const res = await get(url, headers, opts);
  const status = res.statusCode ?? 0;
  let total: number | undefined;
  let append = false;
  if (status === 206 && offset > 0) {
    const range = parseContentRange(res.headers['content-range']);
    if (!range || range.start !== offset) {
      res.destroy();
      await removePart(dest);
      throw new TransientError(`the server answered a resume request with the wrong byte range (${res.headers['content-range'] ?? 'none'})`);
    }
    total = range.total;
    append = true;
  } else if (status === 200 || status === 206) {
    // 200 to a Range request: the server ignored it (or the file changed), so start from byte 0.
    const range = status === 206 ? parseContentRange(res.headers['content-range']) : undefined;
    total = range ? range.total : contentLength(res);
    offset = 0;
  } else if (status === 416 && offset > 0) {
    res.resume();
    const range = parseUnsatisfiedRange(res.headers['content-range']);
    if (range === offset) return { bytes: offset, sha256: hash.digest('hex'), resumed: true };
    await removePart(dest);
    throw new TransientError(`the server refused to resume from byte ${offset}`);
  } else {
    res.resume();
    throw httpError(url, status, res.statusMessage, opts);
  }

  const sink = append ? hash : createHash('sha256');
  if (!append) {
    await fs.writeFile(recordFile, JSON.stringify({ url, etag: header(res, 'etag'), lastModified: header(res, 'last-modified'), total } satisfies PartRecord));
  }
  let done = offset;
  opts.onProgress?.(done, total);
  // Open before the first byte arrives, and await each write before counting it: when the connection
  // drops, the .part then holds exactly the bytes counted and hashed, and a resume starts right there.
  const handle = await fs.open(part, append ? 'a' : 'w');
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      await handle.write(chunk);
      sink.update(chunk);
      done += chunk.length;
      opts.onProgress?.(done, total);
    }
  } catch (err) {
    if (opts.signal.aborted || isCancellation(err)) throw new CancelledError();
    throw new TransientError(`the connection dropped after ${formatBytes(done)}${total !== undefined ? ` of ${formatBytes(total)}` : ''} (${errorText(err)})`);
  } finally {
    await handle.close();
  }
  // A connection that closes cleanly but early (no Content-Length check by Node for us).
  if (total !== undefined && done !== total) {
    throw new TransientError(`the transfer ended after ${formatBytes(done)} of ${formatBytes(total)}`);
  }
  return { bytes: done, sha256: sink.digest('hex'), resumed: append };
}

/** GET (or HEAD) following redirects; resolves with the final response, body unread. */
function get(url: string, headers: Record<string, string>, opts: DownloadFileOptions, method = 'GET'): Promise<http.IncomingMessage> {
  const follow = async (current: string, hops: number): Promise<http.IncomingMessage> => {
    const res = await request(current, headers, opts, method);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      res.resume();
      if (hops >= MAX_REDIRECTS) throw new UserError(`${url} redirected more than ${MAX_REDIRECTS} times; the address is probably wrong.`);
      return follow(new URL(location, current).toString(), hops + 1);
    }
    return res;
  };
  return follow(url, 0);
}

function request(url: string, headers: Record<string, string>, opts: DownloadFileOptions, method: string): Promise<http.IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new UserError(`"${url}" is not a valid URL. Check the address${opts.hint ? ` or ${opts.hint}` : ''}.`));
  }
  const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new UserError(`${url}: only http:// and https:// addresses can be downloaded.`));
  return new Promise((resolve, reject) => {
    const req = client.request(parsed, { method, headers, signal: opts.signal });
    req.setTimeout(opts.idleTimeoutMs ?? 60_000, () => req.destroy(new TransientError(`no data for ${Math.round((opts.idleTimeoutMs ?? 60_000) / 1000)} s`)));
    req.on('response', resolve);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (opts.signal.aborted || isCancellation(err)) return reject(new CancelledError());
      if (err instanceof TransientError) return reject(err);
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        return reject(
          new UserError(
            `Could not look up the server ${parsed.hostname} for ${url} (${err.code}). Check your connection${opts.hint ? ` or ${opts.hint}` : ''}.`,
          ),
        );
      }
      reject(new TransientError(`${parsed.host} could not be reached (${errorText(err)})`));
    });
    req.end();
  });
}

async function remoteSize(url: string, opts: DownloadFileOptions): Promise<number | undefined> {
  const res = await get(url, { 'user-agent': 'lesion-lab', 'accept-encoding': 'identity' }, opts, 'HEAD');
  res.resume();
  return res.statusCode === 200 ? contentLength(res) : undefined;
}

/** Whether a file can be downloaded now, as a HEAD request found out. */
export interface UrlProbe {
  reachable: boolean;
  /** Content-Length of the answer, when the server gave one. */
  bytes?: number;
  /** Why not, in words: "could not look up storage.googleapis.com (ENOTFOUND)", "no answer within 4 s", "HTTP 404". */
  reason?: string;
  /** How long the check took. */
  seconds: number;
}

/**
 * Asks the server about `url` with one HEAD request (redirects followed), giving up after `timeoutMs` in
 * all: quick enough to answer a form while the person looks at it, and honest — only a 200 counts.
 * Never throws, except when `signal` is aborted.
 */
export async function probeUrl(url: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<UrlProbe> {
  const timeoutMs = options.timeoutMs ?? 4000;
  const started = Date.now();
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, timeoutMs);
  const seconds = (): number => (Date.now() - started) / 1000;
  try {
    const res = await get(url, { 'user-agent': 'lesion-lab', 'accept-encoding': 'identity' }, { signal: controller.signal, idleTimeoutMs: timeoutMs }, 'HEAD');
    res.resume();
    const status = res.statusCode ?? 0;
    if (status === 200) return { reachable: true, bytes: contentLength(res), seconds: seconds() };
    return { reachable: false, reason: `the server answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, seconds: seconds() };
  } catch (err) {
    if (options.signal?.aborted) throw new CancelledError();
    const host = hostOf(url);
    const code = (err as NodeJS.ErrnoException).code;
    const reason = controller.signal.aborted
      ? `${host} did not answer within ${formatSeconds(timeoutMs / 1000)}`
      : /ENOTFOUND|EAI_AGAIN/.test(`${code ?? ''} ${(err as Error).message}`)
        ? `could not look up ${host} (${/EAI_AGAIN/.test(`${code ?? ''} ${(err as Error).message}`) ? 'EAI_AGAIN' : 'ENOTFOUND'}) — no network, or no name server`
        : err instanceof TransientError
          ? err.message
          : `${host} could not be reached (${errorText(err)})`;
    return { reachable: false, reason, seconds: seconds() };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const formatSeconds = (s: number): string => `${Number.isInteger(s) ? s : s.toFixed(1)} s`;

function httpError(url: string, status: number, statusMessage: string | undefined, opts: DownloadFileOptions): Error {
  const what = `${url} answered HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`;
  if (status >= 500) return new TransientError(`${what} (a server error)`);
  // S3 answers 403 for a missing key in a bucket that does not list its contents.
  if (status === 404 || status === 403 || status === 410) {
    return new UserError(`${what}: the file is not there. Check the address${opts.hint ? ` or ${opts.hint}` : ''}.`);
  }
  return new UserError(`${what}. Check the address${opts.hint ? ` or ${opts.hint}` : ''}.`);
}

function parseContentRange(value: string | undefined): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

function parseUnsatisfiedRange(value: string | undefined): number | undefined {
  const m = /^bytes \*\/(\d+)$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

function contentLength(res: http.IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readRecord(file: string): Promise<PartRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as PartRecord;
  } catch {
    return undefined;
  }
}

async function removePart(dest: string): Promise<void> {
  await fs.rm(`${dest}.part`, { force: true });
  await fs.rm(`${dest}.part.json`, { force: true });
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    const stat = await fs.stat(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

async function hashInto(hash: ReturnType<typeof createHash>, file: string, bytes: number, signal: AbortSignal): Promise<void> {
  if (bytes === 0) return;
  const stream = createReadStream(file, { start: 0, end: bytes - 1, signal });
  try {
    for await (const chunk of stream) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal.aborted || isCancellation(err)) throw new CancelledError();
    throw err;
  }
}

export async function hashFile(file: string, bytes: number, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, file, bytes, signal);
  return hash.digest('hex');
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}` : e instanceof Error ? e.message : String(err);
}

