/**
 * Extracts a zip without trusting it: entries that would land outside the destination (`../`,
 * absolute paths), symbolic links, encrypted or oddly compressed entries are skipped and reported,
 * never written. The destination appears all at once (extract to a sibling, then rename), so a
 * cancelled or failed extraction leaves no half-filled folder behind.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { Entry } from 'yauzl';
import { UserError, throwIfCancelled } from '../errors';
import { REASON } from './exclusionReasons';
import { swapInDirectory } from '../fsAtomic';

export interface ZipExtraction {
  /** Files written, as paths relative to the destination with `/` separators (the zip entry names). */
  files: string[];
  /** Entries left out, with the reason (see exclusionReasons.ts). */
  excluded: { entry: string; reason: string }[];
}

export interface ZipExtractOptions {
  /** Called after each entry with entries handled so far and the zip's entry count. */
  onProgress?: (done: number, total: number) => void;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const HOST_UNIX = 3;

export async function extractZipSafely(
  zipPath: string,
  destDir: string,
  signal: AbortSignal,
  options: ZipExtractOptions = {},
): Promise<ZipExtraction> {
  throwIfCancelled(signal);
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings: false so a hostile name reaches our own check (yauzl would abort the whole zip).
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    throw new UserError(
      `${zipPath} is not a readable zip file (${(err as Error).message}). Download it again; a partial download cannot be extracted.`,
    );
  }
  const partial = `${destDir}.partial-${process.pid}`;
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial, { recursive: true });
  const root = path.resolve(partial);
  const result: ZipExtraction = { files: [], excluded: [] };
  const written = new Set<string>();
  let done = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      throwIfCancelled(signal);
      const name = entryName(entry);
      const problem = unsafeReason(entry, name);
      if (problem) {
        result.excluded.push({ entry: name, reason: problem });
      } else if (name.endsWith('/')) {
        await fs.mkdir(path.join(root, name), { recursive: true });
      } else {
        const target = path.resolve(root, name);
        // Belt and braces: the name checks above should make this impossible.
        if (!target.startsWith(root + path.sep)) {
          result.excluded.push({ entry: name, reason: REASON.zipEscapes });
        } else if (written.has(target)) {
          result.excluded.push({ entry: name, reason: REASON.zipDuplicateEntry });
        } else {
          written.add(target);
          await fs.mkdir(path.dirname(target), { recursive: true });
          try {
            const stream = await zip.openReadStreamPromise(entry);
            await pipeline(stream, createWriteStream(target, { flags: 'wx' }), { signal });
            result.files.push(name);
          } catch (err) {
            throwIfCancelled(signal);
            await fs.rm(target, { force: true });
            result.excluded.push({ entry: name, reason: REASON.zipUnreadable((err as Error).message) });
          }
        }
      }
      options.onProgress?.(++done, zip.entryCount);
    }
    throwIfCancelled(signal);
  } catch (err) {
    zip.close();
    await fs.rm(partial, { recursive: true, force: true });
    if (err instanceof Error && err.name === 'AbortError') throwIfCancelled(signal);
    if (err instanceof UserError || signal.aborted) throw err;
    throw new UserError(`${zipPath} could not be extracted (${(err as Error).message}). Download it again; the file may be damaged.`);
  }
  zip.close();
  await swapInDirectory(destDir, partial);
  return result;
}

function entryName(entry: Entry): string {
  // With decodeStrings off, fileName is the raw buffer; decode it the way yauzl would (CP437 or UTF-8).
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
}

function unsafeReason(entry: Entry, name: string): string | undefined {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return REASON.zipAbsolute;
  if (name.split('/').includes('..')) return REASON.zipEscapes;
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (entry.versionMadeBy >> 8 === HOST_UNIX && mode === S_IFLNK) return REASON.zipSymlink;
  if (entry.isEncrypted()) return REASON.zipEncrypted;
  if (!name.endsWith('/') && !entry.canDecodeFileData()) return REASON.zipUnsupported(entry.compressionMethod);
  return undefined;
}

