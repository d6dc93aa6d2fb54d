/**
 * `download`: fetches a public dataset — the ISIC 2018 Task 3 training set (HAM10000 under its ISIC names)
 * and, on request, its test set; or the ISIC 2019 Task 1 training set (images, ground truth, metadata) —
 * resumable, size-checked, then extracted next to the zips. The licence is shown before anything is fetched.
 *
 * A first download is checked against the size the server announces (Content-Length), which catches a
 * cut-off transfer. There are no published reference checksums to compare with, so no claim is made
 * that a file is the original. What was downloaded is remembered in OUT/.lesion-lab-download.json
 * (size and sha256 per file), so a re-run checks the files on disk against that instead of downloading
 * them again, and notices a file changed since.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DownloadDataset, DownloadOptions } from '../../shared/protocol/jobs';
import { throwIfCancelled, UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { ByteProgress } from '../net/byteProgress';
import { downloadFile } from '../net/httpDownload';
import { extractZipSafely } from './zipExtract';

export const ISIC2018_BASE_URL = 'https://isic-challenge-data.s3.amazonaws.com/2018/';
export const ISIC2019_BASE_URL = 'https://isic-challenge-data.s3.amazonaws.com/2019/';

export const ISIC2018_LICENSE = [
  'The ISIC 2018 Task 3 data (HAM10000) are licensed under CC BY-NC 4.0',
  '(Creative Commons Attribution-NonCommercial 4.0 International, https://creativecommons.org/licenses/by-nc/4.0/):',
  '  - you may copy, share and adapt them for NON-COMMERCIAL purposes only;',
  '  - you must give appropriate credit:',
  '      HAM10000: Tschandl P., Rosendahl C. & Kittler H., Sci. Data 5, 180161 (2018);',
  '      ISIC 2018: Codella N. et al., arXiv:1902.03368;',
  '  - and indicate if you changed them.',
].join('\n');

export const ISIC2019_LICENSE = [
  'The ISIC 2019 Task 1 training data are licensed under CC BY-NC 4.0',
  '(Creative Commons Attribution-NonCommercial 4.0 International, https://creativecommons.org/licenses/by-nc/4.0/):',
  '  - you may copy, share and adapt them for NON-COMMERCIAL purposes only;',
  '  - you must give appropriate credit:',
  '      HAM10000: Tschandl P., Rosendahl C. & Kittler H., Sci. Data 5, 180161 (2018);',
  '      BCN_20000: Combalia M. et al., arXiv:1908.02288;',
  '      MSK: Codella N. et al., ISBI 2018, arXiv:1710.05006;',
  '  - and indicate if you changed them.',
].join('\n');

export interface DatasetFile {
  name: string;
  /** Bytes, when known for certain; otherwise the server's Content-Length is what is checked. */
  size?: number;
  /** Extracted into the output folder after download. */
  zip: boolean;
  test: boolean;
}

/** Sizes are left undefined on purpose: no figure here that was not measured on the real files. */
export const ISIC2018_FILES: readonly DatasetFile[] = [
  { name: 'ISIC2018_Task3_Training_Input.zip', size: undefined, zip: true, test: false },
  { name: 'ISIC2018_Task3_Training_GroundTruth.zip', size: undefined, zip: true, test: false },
  { name: 'ISIC2018_Task3_Training_LesionGroupings.csv', size: undefined, zip: false, test: false },
  { name: 'ISIC2018_Task3_Test_Input.zip', size: undefined, zip: true, test: true },
  { name: 'ISIC2018_Task3_Test_GroundTruth.zip', size: undefined, zip: true, test: true },
];

export const ISIC2019_FILES: readonly DatasetFile[] = [
  { name: 'ISIC_2019_Training_Input.zip', size: undefined, zip: true, test: false },
  { name: 'ISIC_2019_Training_GroundTruth.csv', size: undefined, zip: false, test: false },
  { name: 'ISIC_2019_Training_Metadata.csv', size: undefined, zip: false, test: false },
];

export interface DownloadableDataset {
  title: string;
  baseUrl: string;
  license: string;
  files: readonly DatasetFile[];
}

export const DOWNLOADABLE: Readonly<Record<DownloadDataset, DownloadableDataset>> = {
  isic2018: { title: 'ISIC 2018 Task 3', baseUrl: ISIC2018_BASE_URL, license: ISIC2018_LICENSE, files: ISIC2018_FILES },
  isic2019: { title: 'ISIC 2019 Task 1', baseUrl: ISIC2019_BASE_URL, license: ISIC2019_LICENSE, files: ISIC2019_FILES },
};

export const DOWNLOAD_RECORD = '.lesion-lab-download.json';
const MIRROR_HINT = 'use --base-url with a mirror';

interface DownloadRecord {
  files: Record<string, { url: string; bytes: number; sha256: string; extracted?: string[] }>;
}

export async function downloadDataset(options: DownloadOptions, ctx: JobContext): Promise<void> {
  const dataset = DOWNLOADABLE[options.dataset ?? 'isic2018'];
  if (!options.acceptLicense) {
    throw new UserError(`${dataset.license}\nRead the licence above, then re-run with --accept-license to accept it and download.`);
  }
  if (options.includeTest && !dataset.files.some((f) => f.test)) {
    throw new UserError(`--include-test: Lesion Lab downloads no test set for ${dataset.title} (its ground truth is not public). Leave --include-test out.`);
  }
  const base = baseUrlOf(options.baseUrl, dataset.baseUrl);
  const out = path.resolve(options.out);
  await fs.mkdir(out, { recursive: true });
  ctx.emit({ type: 'log', level: 'info', message: `Downloading ${dataset.title} from ${base} (CC BY-NC 4.0, non-commercial use; cite the sources in the licence).` });

  const recordPath = path.join(out, DOWNLOAD_RECORD);
  const record = await readRecord(recordPath);
  const wanted = dataset.files.filter((f) => options.includeTest || !f.test);
  const finished: { name: string; bytes: number }[] = [];
  for (const file of wanted) {
    throwIfCancelled(ctx.signal);
    const url = new URL(file.name, base).toString();
    const known = record.files[file.name];
    const trusted = known && known.url === url ? known : undefined;
    const dest = path.join(out, file.name);
    if (file.zip && trusted?.extracted && !(await exists(dest)) && (await stillExtracted(out, trusted.extracted))) {
      // The user deleted the zip after extraction to save space: no need to fetch it again.
      ctx.emit({ type: 'log', level: 'info', message: `${file.name} was downloaded and extracted before (the zip itself is gone); skipped.` });
      finished.push({ name: file.name, bytes: trusted.bytes });
      continue;
    }
    const progress = new ByteProgress(ctx.emit, `download ${file.name}`);
    const result = await downloadFile(url, dest, {
      expectedSize: trusted?.bytes ?? file.size,
      sha256: trusted?.sha256,
      signal: ctx.signal,
      hint: MIRROR_HINT,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.update(result.bytes, result.bytes, true);
    const entry = { url, bytes: result.bytes, sha256: result.sha256, extracted: trusted?.sha256 === result.sha256 ? trusted.extracted : undefined };
    record.files[file.name] = entry;
    await writeJsonAtomic(recordPath, record);

    if (file.zip && !(await stillExtracted(out, entry.extracted))) {
      entry.extracted = await extractInto(out, file.name, dataset.files, ctx);
      await writeJsonAtomic(recordPath, record);
    }
    finished.push({ name: file.name, bytes: result.bytes });
  }
  ctx.emit({ type: 'download/didFinish', out, files: finished });
}

function baseUrlOf(given: string | undefined, official: string): string {
  const raw = given ?? official;
  let url: URL;
  try {
    url = new URL(raw.endsWith('/') ? raw : `${raw}/`);
  } catch {
    throw new UserError(`--base-url "${raw}" is not a URL. Give the address of a folder holding the dataset's files, e.g. ${official}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`--base-url "${raw}" must start with http:// or https://.`);
  }
  return url.toString();
}

async function readRecord(file: string): Promise<DownloadRecord> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as DownloadRecord;
    if (parsed && typeof parsed.files === 'object' && parsed.files !== null) return parsed;
  } catch {
    // none yet, or unreadable: every file is checked afresh
  }
  return { files: {} };
}

const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);

async function stillExtracted(out: string, entries: string[] | undefined): Promise<boolean> {
  if (!entries || entries.length === 0) return false;
  for (const name of entries) if (!(await exists(path.join(out, name)))) return false;
  return true;
}

/**
 * Extracts a zip into `out`. The zips hold one top folder (e.g. ISIC2018_Task3_Training_Input/);
 * they are unpacked into a staging folder first and each top-level entry then moved into place,
 * replacing an earlier extraction of the same name. Returns the top-level names.
 */
async function extractInto(out: string, zipName: string, files: readonly DatasetFile[], ctx: JobContext): Promise<string[]> {
  const staging = path.join(out, `.${path.basename(zipName, '.zip')}.extracting`);
  await fs.rm(staging, { recursive: true, force: true });
  let progress: ProgressReporter | undefined;
  const result = await extractZipSafely(path.join(out, zipName), staging, ctx.signal, {
    onProgress: (done, total) => {
      progress ??= new ProgressReporter(ctx.emit, `extract ${zipName}`, total, 'file');
      progress.update(done);
    },
  });
  if (result.excluded.length > 0) {
    const examples = result.excluded.slice(0, 3).map((e) => `${e.entry} (${e.reason})`);
    ctx.emit({ type: 'log', level: 'warn', message: `${zipName}: ${result.excluded.length} entr${result.excluded.length === 1 ? 'y was' : 'ies were'} not extracted: ${examples.join('; ')}` });
  }
  const names = await fs.readdir(staging);
  const clash = names.find((name) => name === DOWNLOAD_RECORD || files.some((f) => f.name === name));
  if (clash) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new UserError(`${zipName} contains ${clash}, which would overwrite a downloaded file. The zip is not the expected one: delete it and download again.`);
  }
  for (const name of names) {
    const target = path.join(out, name);
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(path.join(staging, name), target);
  }
  await fs.rm(staging, { recursive: true, force: true });
  return names;
}
