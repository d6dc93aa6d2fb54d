/**
 * Decides which images make it into a prepared dataset, and why each other one does not. Nothing here
 * throws on bad data: every problem becomes an exclusion with a reason from exclusionReasons.ts.
 *   1. metadata ↔ files: duplicate ids, unknown diagnoses, listed-but-missing, present-but-unlisted
 *   2. every remaining file is decoded in full (a truncated JPEG only fails once its last rows are read);
 *      the same decode gives the image's perceptual hash, for finding near-duplicates (nearDuplicates.ts)
 *   3. lesions whose images disagree on the diagnosis
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { ExcludedFile } from '../../shared/protocol/results';
import { throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { DatasetIndex, ImageFile, MetadataRow } from './datasetIndex';
import { REASON } from './exclusionReasons';
import { IMAGE_EXTENSIONS } from './folderScan';
import { PHASH_INPUT, perceptualHash, tooFlatToHash } from './perceptualHash';

/** An image that passed the metadata checks: what the split and the manifest need. */
export interface Candidate {
  imageId: string;
  lesionId: string;
  /** The data gave it no group (see MetadataRow). */
  ungrouped?: boolean;
  dx: string;
  /** Absolute path of the file. */
  source: string;
  display: string;
  /** The 64-bit perceptual hash (16 hex digits), set once the image has decoded. */
  phash?: string;
}

export interface Checked {
  candidates: Candidate[];
  excluded: ExcludedFile[];
}

/**
 * Pairs metadata rows with image files: by image id (compared case-insensitively), or, for a row that
 * names its file (a folder per class, a CSV of paths), by that file.
 */
/**
 * How a metadata row's image id is matched to a file: case-insensitive, and without a trailing image extension
 * (a copy of HAM10000_metadata.csv circulating on the web writes `ISIC_0024306.jpg`; the files are the ids).
 */
export function metadataImageKey(imageId: string): string {
  const key = imageId.trim().toLowerCase();
  const ext = (IMAGE_EXTENSIONS as readonly string[]).find((e) => key.endsWith(e));
  return ext && key.length > ext.length ? key.slice(0, -ext.length) : key;
}

export function matchMetadataToFiles(index: Pick<DatasetIndex, 'rows' | 'files'>): Checked & { notes: string[] } {
  const excluded: ExcludedFile[] = [];
  const filesById = new Map<string, ImageFile>();
  const named = new Set(index.rows.flatMap((r) => (r.file ? [r.file.path] : [])));
  for (const f of index.files) {
    if (named.has(f.path)) continue;
    const key = f.imageId.toLowerCase();
    const first = filesById.get(key);
    if (first) excluded.push({ file: f.display, reason: REASON.duplicateFile(first.display) });
    else filesById.set(key, f);
  }
  const rowsById = new Map<string, MetadataRow[]>();
  for (const row of index.rows) {
    const key = row.file ? `\0${row.file.path}` : metadataImageKey(row.imageId);
    const list = rowsById.get(key);
    if (list) list.push(row);
    else rowsById.set(key, [row]);
  }
  const candidates: Candidate[] = [];
  for (const [key, rows] of rowsById) {
    const file = rows[0]!.file ?? filesById.get(key);
    filesById.delete(key);
    const first = rows[0]!;
    const name = file?.display ?? first.imageId;
    if (rows.length > 1) {
      const labels = [...new Set(rows.map((r) => (r.diagnosis.ok ? r.diagnosis.dx : r.diagnosis.reason)))];
      if (labels.length > 1) {
        const shown = rows.map((r) => (r.diagnosis.ok ? r.diagnosis.dx : '?'));
        excluded.push({ file: name, reason: REASON.conflictingRows(rows.map((r) => r.where), shown) });
        continue;
      }
      for (const r of rows.slice(1)) excluded.push({ file: r.where, reason: REASON.duplicateRow(first.where) });
    }
    if (!first.diagnosis.ok) excluded.push({ file: name, reason: first.diagnosis.reason });
    else if (!file) excluded.push({ file: first.imageId, reason: REASON.missingImage });
    else candidates.push({ imageId: file.imageId, lesionId: first.lesionId, ...(first.ungrouped ? { ungrouped: true } : {}), dx: first.diagnosis.dx, source: file.path, display: file.display });
  }
  for (const f of filesById.values()) excluded.push({ file: f.display, reason: REASON.unlistedImage });
  return { candidates, excluded, notes: matchingNotes(index.rows, candidates.length, excluded) };
}

function matchingNotes(rows: readonly MetadataRow[], matched: number, excluded: readonly ExcludedFile[]): string[] {
  const notes: string[] = [];
  const suffixed = rows.find((r) => !r.file && metadataImageKey(r.imageId) !== r.imageId.trim().toLowerCase());
  if (suffixed) notes.push(`the metadata's image ids carry a file extension (e.g. ${suffixed.imageId.trim()}): matched to the image files without it.`);
  const missing = excluded.filter((e) => e.reason === REASON.missingImage);
  if (missing.length > 0 && matched > 0) {
    notes.push(
      `${missing.length} metadata row(s) name images that are not in the dataset folder (e.g. ${missing.slice(0, 3).map((e) => e.file).join(', ')}): ` +
        `excluded, the ${matched} image(s) that are there are used. (Copies of HAM10000_metadata.csv on the web that also list augmented images look like this.)`,
    );
  }
  return notes;
}

/**
 * When no metadata row matched any image file: the likeliest reason, from the ids themselves — extra text
 * around the ids on one side (a prefix, a suffix, a folder), or else an example of each, so a person sees
 * the mismatch at once. Undefined when there is nothing to compare.
 */
export function explainNoMatch(rows: readonly MetadataRow[], files: readonly ImageFile[]): string | undefined {
  const rowIds = rows.filter((r) => !r.file).map((r) => r.imageId.trim());
  if (rowIds.length === 0 || files.length === 0) return undefined;
  const fileIds = files.map((f) => f.imageId);
  const byLength = [...new Set(fileIds.map((f) => f.toLowerCase()))].sort((a, b) => b.length - a.length);
  for (const rowId of rowIds.slice(0, 200)) {
    const lower = rowId.toLowerCase();
    const inside = byLength.find((f) => f.length >= 3 && lower.includes(f));
    if (inside) {
      const at = lower.indexOf(inside);
      const extra = [at > 0 ? `'${rowId.slice(0, at)}' before` : '', at + inside.length < rowId.length ? `'${rowId.slice(at + inside.length)}' after` : ''].filter(Boolean).join(' and ');
      return `the metadata's image ids have ${extra} the image file names (e.g. '${rowId}' in the metadata, a file named '${files.find((f) => f.imageId.toLowerCase() === inside)!.display}'). Make the ids match the file names.`;
    }
    const around = files.find((f) => f.imageId.toLowerCase().includes(lower) && lower.length >= 3);
    if (around) {
      const at = around.imageId.toLowerCase().indexOf(lower);
      const extra = [at > 0 ? `'${around.imageId.slice(0, at)}' before` : '', at + lower.length < around.imageId.length ? `'${around.imageId.slice(at + lower.length)}' after` : ''].filter(Boolean).join(' and ');
      return `the image file names have ${extra} the metadata's image ids (e.g. '${rowId}' in the metadata, a file named '${around.display}'). Make the ids match the file names.`;
    }
  }
  return `the metadata's image ids (e.g. ${rowIds.slice(0, 3).map((r) => `'${r}'`).join(', ')}) match none of the image file names (e.g. ${files.slice(0, 3).map((f) => `'${f.display}'`).join(', ')}).`;
}

/**
 * Remembers decode results by path, size and modification time, so a re-run (say, with another seed)
 * does not decode ten thousand unchanged images again.
 */
export class DecodeCache {
  /** Version 2 added the perceptual hash: a version-1 cache is decoded again, once. */
  private static readonly VERSION = 2;
  private entries: Record<string, [size: number, mtimeMs: number, reason: string | null, phash?: string]> = {};
  private dirty = false;

  constructor(private readonly file?: string) {}

  async load(): Promise<this> {
    if (!this.file) return this;
    try {
      const value = JSON.parse(await fs.readFile(this.file, 'utf8')) as { version?: number; entries?: DecodeCache['entries'] };
      if (value.version === DecodeCache.VERSION && value.entries && typeof value.entries === 'object') this.entries = value.entries;
    } catch {
      // no cache yet, or an unreadable one: decode everything
    }
    return this;
  }

  get(file: string, size: number, mtimeMs: number): DecodeOutcome | undefined {
    const hit = this.entries[file];
    if (!hit || hit[0] !== size || hit[1] !== mtimeMs) return undefined;
    return { problem: hit[2], ...(hit[3] ? { phash: hit[3] } : {}) };
  }

  set(file: string, size: number, mtimeMs: number, outcome: DecodeOutcome): void {
    this.entries[file] = outcome.phash ? [size, mtimeMs, outcome.problem, outcome.phash] : [size, mtimeMs, outcome.problem];
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.tmp-${process.pid}`;
    await fs.writeFile(temp, JSON.stringify({ version: DecodeCache.VERSION, entries: this.entries }));
    await fs.rename(temp, this.file);
  }
}

/** What decoding a file found: why it cannot be used as an image (null when it decodes), and the perceptual hash of one that does. */
export interface DecodeOutcome {
  problem: string | null;
  phash?: string;
}

/** Decodes the whole file once: its problem, or its perceptual hash. */
export async function decodeImage(file: string): Promise<DecodeOutcome> {
  try {
    // A tiny resize still decodes every scanline (JPEG shrink-on-load only skips the IDCT work), so
    // truncation is caught; sharp fails on libjpeg's "premature end" warning by default. The 32×32 grey
    // result is what the perceptual hash is computed from: no second decode.
    const grey = await sharp(file).greyscale().resize(PHASH_INPUT, PHASH_INPUT, { fit: 'fill' }).raw().toBuffer();
    return tooFlatToHash(grey) ? { problem: null } : { problem: null, phash: perceptualHash(grey) };
  } catch (err) {
    const message = oneLine((err as Error).message);
    // libvips words a truncation differently from run to run (its error buffer is shared by the images
    // decoding at the same time), so all of them get one stable reason.
    return { problem: /premature end|truncat|treated as error due to failOn/i.test(message) ? REASON.truncated : REASON.undecodable(message) };
  }
}

export interface DecodeCheckOptions {
  concurrency?: number;
  cache?: DecodeCache;
}

/** Keeps the candidates whose files are non-empty, decodable images; several decode at once. */
export async function checkDecodable(candidates: Candidate[], ctx: JobContext, options: DecodeCheckOptions = {}): Promise<Checked> {
  sharp.cache(false);
  const concurrency = options.concurrency ?? Math.max(4, 2 * os.availableParallelism());
  const progress = new ProgressReporter(ctx.emit, 'validate', candidates.length, 'image');
  progress.update(0, true);
  const outcomes = new Array<DecodeOutcome>(candidates.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      throwIfCancelled(ctx.signal);
      const i = next++;
      const c = candidates[i]!;
      outcomes[i] = await decodeOutcomeOf(c.source, options.cache);
      progress.update(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, candidates.length) }, worker));
  throwIfCancelled(ctx.signal);
  progress.update(done, true);
  const result: Checked = { candidates: [], excluded: [] };
  candidates.forEach((c, i) => {
    const { problem, phash } = outcomes[i]!;
    if (problem) result.excluded.push({ file: c.display, reason: problem });
    else result.candidates.push(phash ? { ...c, phash } : c);
  });
  return result;
}

async function decodeOutcomeOf(file: string, cache: DecodeCache | undefined): Promise<DecodeOutcome> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    return { problem: REASON.undecodable(oneLine((err as Error).message)) };
  }
  if (stat.size === 0) return { problem: REASON.zeroByte };
  const cached = cache?.get(file, stat.size, stat.mtimeMs);
  if (cached !== undefined) return cached;
  const outcome = await decodeImage(file);
  cache?.set(file, stat.size, stat.mtimeMs, outcome);
  return outcome;
}

/** A lesion is one diagnosis; one whose images disagree is left out whole rather than guessed. */
export function excludeConflictingLesions(candidates: Candidate[]): Checked {
  const dxByLesion = new Map<string, Set<string>>();
  for (const c of candidates) {
    const set = dxByLesion.get(c.lesionId) ?? new Set<string>();
    set.add(c.dx);
    dxByLesion.set(c.lesionId, set);
  }
  const result: Checked = { candidates: [], excluded: [] };
  for (const c of candidates) {
    const dxs = dxByLesion.get(c.lesionId)!;
    if (dxs.size > 1) result.excluded.push({ file: c.display, reason: REASON.conflictingLesion(c.lesionId, [...dxs].sort()) });
    else result.candidates.push(c);
  }
  return result;
}

function oneLine(message: string): string {
  return message
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((line, i, lines) => line !== '' && lines.indexOf(line) === i)
    .join('; ');
}
