/**
 * Extracts a zip without trusting it: entries that would land outside the destination (`../` or `..\`
 * — Windows reads a backslash as a separator —, absolute paths, drive letters), symbolic links,
 * encrypted or oddly compressed entries are skipped and reported, never written; folders are checked
 * like files. The sizes the zip declares are held to what it really holds (yauzl's validateEntrySizes),
 * and their total to a cap, so a zip bomb stops before it fills the disk. The destination appears all
 * at once (extract to a sibling, then rename), so a cancelled or failed extraction leaves no
 * half-filled folder behind.
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
  /** Refuse the zip once the files it would write add up to more than this (default MAX_EXTRACTED_BYTES). */
  maxTotalBytes?: number;
}

/**
 * The most a zip may unpack to. The largest archive Lesion Lab extracts, ISIC 2018 Task 3's training
 * images, holds 10,015 JPEGs of 600×450 (a few GB); 16 GiB leaves room for bigger collections of the same
 * kind while stopping a zip bomb long before a typical disk is full.
 */
export const MAX_EXTRACTED_BYTES = 16 * 1024 ** 3;

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
  const maxTotalBytes = options.maxTotalBytes ?? MAX_EXTRACTED_BYTES;
  let totalBytes = 0;
  let done = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      throwIfCancelled(signal);
      const name = entryName(entry);
      const problem = unsafeReason(entry, name);
      // Belt and braces: the name checks should make an escape impossible; folders are held to it as files are.
      const target = path.resolve(root, name);
      const inside = target.startsWith(root + path.sep) || (isDirectory(name) && target === root);
      if (problem) {
        result.excluded.push({ entry: name, reason: problem });
      } else if (!inside) {
        result.excluded.push({ entry: name, reason: REASON.zipEscapes });
      } else if (isDirectory(name)) {
        await fs.mkdir(target, { recursive: true });
      } else {
        totalBytes += entry.uncompressedSize;
        if (totalBytes > maxTotalBytes) {
          throw new UserError(
            `${zipPath} would unpack to more than ${formatGiB(maxTotalBytes)} (at ${name}), more than any dataset Lesion Lab expects from one zip: it is damaged or built to fill the disk. Nothing was extracted; download it again from the official source.`,
          );
        }
        if (written.has(target)) {
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

/** Zip names use `/`; Windows reads a backslash as a separator too. yauzl already turns one into the other; both count here regardless. */
const SEPARATORS = /[\\/]/;

function isDirectory(name: string): boolean {
  return name.endsWith('/') || name.endsWith('\\');
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes < 1024 ** 3 ? 3 : 0)} GiB`;
}

function unsafeReason(entry: Entry, name: string): string | undefined {
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return REASON.zipAbsolute;
  if (name.split(SEPARATORS).includes('..')) return REASON.zipEscapes;
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (entry.versionMadeBy >> 8 === HOST_UNIX && mode === S_IFLNK) return REASON.zipSymlink;
  if (entry.isEncrypted()) return REASON.zipEncrypted;
  if (!isDirectory(name) && !entry.canDecodeFileData()) return REASON.zipUnsupported(entry.compressionMethod);
  return undefined;
}

