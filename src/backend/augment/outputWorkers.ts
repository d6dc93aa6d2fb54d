/**
 * Where an augmented output is made — transformed, JPEG-encoded and written — on the calling thread or on worker
 * threads. With workers, each takes whole outputs: the per-pixel affine loop, sharp's encode (sharp works in
 * worker threads) and the write (a temporary sibling renamed over the target, synchronous in the worker), so the
 * main thread only decodes sources and hands out jobs: profiled, sharp's per-call JavaScript and the promise-based
 * file writes cost the main thread ~0.9 ms an output, more than the encode itself.
 * Sources are packed (one 32-bit word per pixel) once, into a SharedArrayBuffer when workers read them; a job
 * message carries only the transform and the paths, so no pixels are copied per output.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import type { JpegOptions } from 'sharp';
import { atomicTempPath, writeFileAtomic } from '../fsAtomic';
import type { AffineParams, FillOptions } from './kerasAffine';
import { FILL_MODE_CODES, affineKernel, applyAffinePacked, kerasContrastStretch, packPixels, sourceMapping } from './kerasAffine';

/** A decoded image: interleaved bytes, `channels` per pixel. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** A source ready for transforms: packed by packPixels, readable by the runner's threads. */
export interface PackedSource {
  packed: Uint32Array;
  width: number;
  height: number;
  channels: number;
}

/** One output: the transform, what to do to its pixels after, and where it goes. */
export interface OutputJob {
  params: AffineParams;
  fill: FillOptions;
  /** Keras' array_to_img(scale=True) after the transform. */
  contrastStretch: boolean;
  /** JPEG quality. */
  quality: number;
  target: string;
}

export interface OutputRunner {
  /** Packs decoded pixels into memory the runner can read from any of its threads. */
  share(image: DecodedImage): PackedSource;
  /** Transforms the source, encodes it and writes it to `job.target` atomically (the target exists only complete). */
  write(source: PackedSource, job: OutputJob): Promise<void>;
  close(): Promise<void>;
}

/** Baseline JPEG, 4:2:0, no Huffman optimisation: what PIL's `save(quality=75)` writes, and faster. */
export function jpegOptions(quality: number): JpegOptions {
  return { quality, chromaSubsampling: '4:2:0', optimiseCoding: false };
}

export function encodeJpeg(pixels: Uint8Array, width: number, height: number, channels: number, quality: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
    .jpeg(jpegOptions(quality))
    .toBuffer();
}

export function createOutputRunner(workers: number): OutputRunner {
  return workers > 0 ? new WorkerOutputRunner(workers) : new InlineOutputRunner();
}

class InlineOutputRunner implements OutputRunner {
  share(image: DecodedImage): PackedSource {
    return { packed: packPixels(image.data, image.width, image.height, image.channels), width: image.width, height: image.height, channels: image.channels };
  }
  async write(source: PackedSource, job: OutputJob): Promise<void> {
    const pixels = applyAffinePacked(source.packed, source.width, source.height, source.channels, job.params, job.fill);
    if (job.contrastStretch) kerasContrastStretch(pixels);
    // No fsync: a kill leaves a complete file or none; a file a power loss truncated fails the JPEG end-marker
    // check on the next run and is rewritten.
    await writeFileAtomic(job.target, await encodeJpeg(pixels, source.width, source.height, source.channels, job.quality), { sync: false });
  }
  async close(): Promise<void> {}
}

interface WorkerJob {
  id: number;
  source: SharedArrayBuffer;
  w: number;
  h: number;
  ch: number;
  m: [number, number, number, number, number, number];
  mode: number;
  cval: number;
  stretch: boolean;
  jpeg: JpegOptions;
  temp: string;
  target: string;
}

// The kernels are self-contained, so their compiled source text runs in the worker as it is; sharp is loaded
// from the path this module resolved it at (an eval'd worker resolves modules from the working directory).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const sharp = require(workerData.sharp);
const affineKernel = ${affineKernel.toString()};
const kerasContrastStretch = ${kerasContrastStretch.toString()};
parentPort.on('message', (j) => {
  const dst = new Uint8Array(j.w * j.h * j.ch);
  affineKernel(new Uint32Array(j.source), dst, j.w, j.h, j.ch, j.m[0], j.m[1], j.m[2], j.m[3], j.m[4], j.m[5], j.mode, j.cval);
  if (j.stretch) kerasContrastStretch(dst);
  sharp(dst, { raw: { width: j.w, height: j.h, channels: j.ch } }).jpeg(j.jpeg).toBuffer().then((jpeg) => {
    fs.writeFileSync(j.temp, jpeg);
    fs.renameSync(j.temp, j.target);
    parentPort.postMessage({ id: j.id });
  }).catch((err) => {
    try { fs.rmSync(j.temp, { force: true }); } catch {}
    parentPort.postMessage({ id: j.id, error: String(err && err.message || err) });
  });
});
`;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

class WorkerOutputRunner implements OutputRunner {
  private readonly workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private nextId = 0;
  private closed = false;

  constructor(count: number) {
    const sharpPath = createRequire(__filename).resolve('sharp');
    for (let i = 0; i < count; i++) {
      const worker = new Worker(workerSource, { eval: true, workerData: { sharp: sharpPath } });
      worker.unref();
      const pending = new Map<number, Pending>();
      const failAll = (err: Error): void => {
        for (const p of pending.values()) p.reject(err);
        pending.clear();
      };
      worker.on('message', (msg: { id: number; error?: string }) => {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error === undefined) p?.resolve();
        else p?.reject(new Error(msg.error));
      });
      worker.on('error', failAll);
      worker.on('exit', (code) => {
        if (!this.closed) failAll(new Error(`an augmentation worker thread stopped (exit code ${code})`));
      });
      this.workers.push({ worker, pending });
    }
  }

  share(image: DecodedImage): PackedSource {
    const packed = new Uint32Array(new SharedArrayBuffer(4 * image.width * image.height));
    packPixels(image.data, image.width, image.height, image.channels, packed);
    return { packed, width: image.width, height: image.height, channels: image.channels };
  }

  write(source: PackedSource, job: OutputJob): Promise<void> {
    if (!(source.packed.buffer instanceof SharedArrayBuffer) || source.packed.byteOffset !== 0) {
      return Promise.reject(new Error('WorkerOutputRunner.write needs a source from share()'));
    }
    const m = sourceMapping(job.params, source.width, source.height);
    const request: WorkerJob = {
      id: this.nextId++,
      source: source.packed.buffer,
      w: source.width,
      h: source.height,
      ch: source.channels,
      m: [m.a, m.b, m.c, m.d, m.e, m.f],
      mode: FILL_MODE_CODES[job.fill.mode],
      cval: job.fill.cval ?? 0,
      stretch: job.contrastStretch,
      jpeg: jpegOptions(job.quality),
      temp: atomicTempPath(job.target),
      target: job.target,
    };
    // The least busy worker takes it.
    let target = this.workers[0]!;
    for (const w of this.workers) if (w.pending.size < target.pending.size) target = w;
    return new Promise((resolve, reject) => {
      target.pending.set(request.id, { resolve, reject });
      target.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
