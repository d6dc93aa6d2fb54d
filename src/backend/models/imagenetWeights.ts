/**
 * The official Keras ImageNet weight files (include_top=False) for each backbone, where they are
 * cached, and how to get one: cached and verified → used offline; otherwise downloaded (resumable)
 * and checked against the MD5 that Keras itself uses (keras/src/applications/resnet.py
 * WEIGHTS_HASHES; Keras publishes no hash for the MobileNetV2 files, so those are size-checked by the
 * downloader only when a size is known — none is recorded here).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelName } from '../../shared/protocol/jobs';
import { UserError, throwIfCancelled } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { DownloadFileOptions } from '../net/httpDownload';
import { downloadFile } from '../net/httpDownload';
import { MOBILENET_V2_ALPHAS, MOBILENET_V2_SIZES } from './mobilenetV2';

export const KERAS_WEIGHTS_BASE_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/';

/** LESION_LAB_WEIGHTS_BASE_URL (a mirror of the Keras files, e.g. behind a firewall), else Keras' own bucket. */
export function defaultWeightsBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.LESION_LAB_WEIGHTS_BASE_URL?.trim() || KERAS_WEIGHTS_BASE_URL;
}

export interface ImagenetWeightsSpec {
  fileName: string;
  url: string;
  /** The hash Keras' get_file checks (MD5), where Keras records one. */
  md5?: string;
}

// keras/src/applications/resnet.py, WEIGHTS_HASHES[name][1] (the no-top file).
const RESNET_NOTOP_MD5: Record<Exclude<ModelName, 'mobilenetv2'>, string> = {
  resnet50: '4d473c1dd8becc155b73f8504c6f6626',
  resnet101: '88cf7a10940856eca736dc7b7e228a21',
  resnet152: 'ee4c566cf9a93f14d82f913c2dc6dd0c',
};

/** Python's str(float(alpha)): 1 → "1.0", 0.5 → "0.5", 0.35 → "0.35". */
function pythonFloat(alpha: number): string {
  return Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha);
}

/**
 * Which file Keras would load for this backbone. MobileNetV2 weights are published per alpha and
 * input size (96–224); like Keras, any other size uses the 224 file. The weights do not depend on the
 * input size (only what they were trained on does), so they load at any size. Alphas 1.3 and 1.4 were
 * only published for 224 (the TF-slim checkpoints they come from), so those always use 224.
 */
export function imagenetWeightsSpec(name: ModelName, alpha: number | undefined, inputSize: number, baseUrl = defaultWeightsBaseUrl()): ImagenetWeightsSpec {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  if (name !== 'mobilenetv2') {
    const fileName = `${name}_weights_tf_dim_ordering_tf_kernels_notop.h5`;
    return { fileName, url: `${base}resnet/${fileName}`, md5: RESNET_NOTOP_MD5[name] };
  }
  const a = alpha ?? 1.0;
  if (!(MOBILENET_V2_ALPHAS as readonly number[]).includes(a)) {
    throw new UserError(`ImageNet weights for MobileNetV2 exist only for alpha ${MOBILENET_V2_ALPHAS.join(', ')} (got ${a}). Pick one of those, or train with --weights none.`);
  }
  const rows = a > 1.0 || !(MOBILENET_V2_SIZES as readonly number[]).includes(inputSize) ? 224 : inputSize;
  const fileName = `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${pythonFloat(a)}_${rows}_no_top.h5`;
  return { fileName, url: `${base}mobilenet_v2/${fileName}` };
}

/** LESION_LAB_CACHE (the extension passes its global storage), else ~/.cache/lesion-lab; weights under weights/. */
export function defaultWeightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.LESION_LAB_CACHE?.trim() || path.join(os.homedir(), '.cache', 'lesion-lab');
  return path.join(root, 'weights');
}

export type DownloadProgress = (doneBytes: number, totalBytes: number | undefined) => void;

/** The shape of src/backend/net/httpDownload.ts' downloadFile (resumable, verified). */
export type DownloadFile = (url: string, dest: string, options: DownloadFileOptions) => Promise<unknown>;

export interface ResolveWeightsOptions {
  /** A mirror of storage.googleapis.com/tensorflow/keras-applications/ (tests use a local server). */
  baseUrl?: string;
  /** Injected downloader; defaults to the project's resumable downloader. */
  download?: DownloadFile;
}

/**
 * The path of the ImageNet weights file for this backbone, downloading it into `cacheDir` first if it
 * is not there (or failed verification). Offline with a verified cached copy, no network is touched.
 */
export async function resolveImagenetWeights(
  name: ModelName,
  alpha: number | undefined,
  inputSize: number,
  cacheDir: string,
  signal: AbortSignal,
  onProgress?: DownloadProgress,
  options: ResolveWeightsOptions = {},
): Promise<string> {
  const spec = imagenetWeightsSpec(name, alpha, inputSize, options.baseUrl);
  const cached = await cachedImagenetWeights(spec, cacheDir);
  if (cached) return cached;
  throwIfCancelled(signal);
  await fs.mkdir(cacheDir, { recursive: true });
  const dest = path.join(cacheDir, spec.fileName);
  const download = options.download ?? downloadFile;
  try {
    await download(spec.url, dest, {
      signal,
      onProgress,
      hint: `download ${spec.url} yourself and give its path to --weights`,
    });
  } catch (err) {
    if (err instanceof UserError || signal.aborted) throw err;
    throw new UserError(
      `Could not download the ImageNet weights ${spec.url}: ${(err as Error).message}. Check the network connection and try again (the download resumes), or download the file yourself and give its path to --weights.`,
    );
  }
  throwIfCancelled(signal);
  if (!(await verify(dest, spec, signal))) {
    await fs.rm(dest, { force: true });
    throw new UserError(`The downloaded ${spec.fileName} does not match the checksum Keras publishes for it (MD5 ${spec.md5}); it was deleted. Try again; if it keeps failing, the mirror is serving a different file.`);
  }
  return dest;
}

/** The cached, verified copy of the file, if there is one (no network involved). */
export async function cachedImagenetWeights(spec: ImagenetWeightsSpec, cacheDir: string): Promise<string | undefined> {
  const file = path.join(cacheDir, spec.fileName);
  return (await isVerified(file, spec)) ? file : undefined;
}

const sidecar = (file: string): string => `${file}.verified.json`;

interface VerifiedMark {
  size: number;
  mtimeMs: number;
  md5?: string;
}

/** Hashing 230 MB every run is wasteful: trust a file whose size and mtime match its verification mark. */
async function isVerified(file: string, spec: ImagenetWeightsSpec): Promise<boolean> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return false;
  }
  const mark = await readMark(file);
  return mark !== undefined && mark.size === stat.size && mark.mtimeMs === stat.mtimeMs && mark.md5 === spec.md5;
}

async function readMark(file: string): Promise<VerifiedMark | undefined> {
  try {
    return JSON.parse(await fs.readFile(sidecar(file), 'utf8')) as VerifiedMark;
  } catch {
    return undefined;
  }
}

async function verify(file: string, spec: ImagenetWeightsSpec, signal: AbortSignal): Promise<boolean> {
  const stat = await fs.stat(file);
  if (spec.md5) {
    const actual = await md5File(file, signal);
    if (actual !== spec.md5) return false;
  }
  await writeJsonAtomic(sidecar(file), { size: stat.size, mtimeMs: stat.mtimeMs, md5: spec.md5 } satisfies VerifiedMark);
  return true;
}

export async function md5File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
