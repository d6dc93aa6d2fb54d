/**
 * Where the per-pixel affine loop runs: on the calling thread, or on worker threads so that the
 * JavaScript transform and sharp's JPEG encodes (libuv threadpool) can keep every core busy.
 * Sources are packed (one 32-bit word per pixel) once, into a SharedArrayBuffer when workers read
 * them; each result comes back as a transferred ArrayBuffer, so no pixels are copied per output.
 */
import { Worker } from 'node:worker_threads';
import type { AffineParams, FillOptions } from './kerasAffine';
import { FILL_MODE_CODES, affineKernel, applyAffinePacked, packPixels, sourceMapping } from './kerasAffine';

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

export interface AffineRunner {
  /** Packs decoded pixels into memory the runner can read from any of its threads. */
  share(image: DecodedImage): PackedSource;
  transform(source: PackedSource, params: AffineParams, fill: FillOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function createAffineRunner(workers: number): AffineRunner {
  return workers > 0 ? new WorkerAffineRunner(workers) : new InlineAffineRunner();
}

class InlineAffineRunner implements AffineRunner {
  share(image: DecodedImage): PackedSource {
    return { packed: packPixels(image.data, image.width, image.height, image.channels), width: image.width, height: image.height, channels: image.channels };
  }
  async transform(source: PackedSource, params: AffineParams, fill: FillOptions): Promise<Uint8Array> {
    return applyAffinePacked(source.packed, source.width, source.height, source.channels, params, fill);
  }
  async close(): Promise<void> {}
}

interface TransformRequest {
  id: number;
  source: SharedArrayBuffer;
  w: number;
  h: number;
  ch: number;
  m: [number, number, number, number, number, number];
  mode: number;
  cval: number;
}

// The kernel is self-contained, so its compiled source text runs in the worker as it is.
const workerSource = `
const { parentPort } = require('node:worker_threads');
const affineKernel = ${affineKernel.toString()};
parentPort.on('message', (r) => {
  const dst = new Uint8Array(r.w * r.h * r.ch);
  affineKernel(new Uint32Array(r.source), dst, r.w, r.h, r.ch, r.m[0], r.m[1], r.m[2], r.m[3], r.m[4], r.m[5], r.mode, r.cval);
  parentPort.postMessage({ id: r.id, pixels: dst.buffer }, [dst.buffer]);
});
`;

interface Pending {
  resolve: (pixels: Uint8Array) => void;
  reject: (err: Error) => void;
}

class WorkerAffineRunner implements AffineRunner {
  private readonly workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private nextId = 0;
  private closed = false;

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(workerSource, { eval: true });
      worker.unref();
      const pending = new Map<number, Pending>();
      const failAll = (err: Error): void => {
        for (const p of pending.values()) p.reject(err);
        pending.clear();
      };
      worker.on('message', (msg: { id: number; pixels: ArrayBuffer }) => {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        p?.resolve(new Uint8Array(msg.pixels));
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

  transform(source: PackedSource, params: AffineParams, fill: FillOptions): Promise<Uint8Array> {
    if (!(source.packed.buffer instanceof SharedArrayBuffer) || source.packed.byteOffset !== 0) {
      return Promise.reject(new Error('WorkerAffineRunner.transform needs a source from share()'));
    }
    const m = sourceMapping(params, source.width, source.height);
    const request: TransformRequest = {
      id: this.nextId++,
      source: source.packed.buffer,
      w: source.width,
      h: source.height,
      ch: source.channels,
      m: [m.a, m.b, m.c, m.d, m.e, m.f],
      mode: FILL_MODE_CODES[fill.mode],
      cval: fill.cval ?? 0,
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
