/**
 * Runs the project's JavaScript wasm kernels (heapKernels.ts) on every thread of `--threads`: XNNPACK's kernels use
 * the threaded build's own pthreads, these use worker threads of ours that share the same wasm memory (the threaded
 * build's memory is a SharedArrayBuffer). A call is synchronous, as a TF.js kernel must be: the calling thread
 * writes the kernel's index and arguments into shared control words, wakes the workers (Atomics.notify), does part
 * 0 itself and sleeps (Atomics.wait) until every worker has done its part. No messages, no event loop: waking a
 * worker costs microseconds. Without a pool (one thread, or the non-shared single-threaded build) the same kernels
 * run inline as one part.
 */
import { Worker } from 'node:worker_threads';
import type { HeapKernelName } from './heapKernels';
import { HEAP_KERNELS } from './heapKernels';

/** A WebAssembly.Memory (the project's TypeScript libraries do not declare the WebAssembly namespace). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

const KERNEL_NAMES = Object.keys(HEAP_KERNELS) as HeapKernelName[];
const MAX_ARGS = 32;
/** Control words: the call's generation, workers still busy, kernel index, parts, a worker failed. */
const GEN = 0;
const BUSY = 1;
const KERNEL = 2;
const PARTS = 3;
const FAILED = 4;

const workerSource = `
const { workerData } = require('node:worker_threads');
const KERNELS = [${KERNEL_NAMES.map((k) => HEAP_KERNELS[k].toString()).join(',\n')}];
const { memory, control, args, scratch, index } = workerData;
const ctl = new Int32Array(control);
const a = new Float64Array(args);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${GEN}, seen);
  seen = Atomics.load(ctl, ${GEN});
  try {
    const parts = ctl[${PARTS}];
    if (index < parts) KERNELS[ctl[${KERNEL}]](memory.buffer, scratch, a, index, parts);
  } catch (err) {
    Atomics.store(ctl, ${FAILED}, 1);
    require('node:fs').writeSync(2, 'a wasm kernel worker failed: ' + (err && err.stack || err) + '\\n');
  }
  if (Atomics.sub(ctl, ${BUSY}, 1) === 1) Atomics.notify(ctl, ${BUSY});
}
`;

/** Per-chunk partial sums: 8 chunks × 2 sums × 8 bytes per channel; enough for 16k channels (ResNet has 2,048). */
const SCRATCH_BYTES = 2 << 20;

export class HeapPool {
  private readonly workers: Worker[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(64));
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * MAX_ARGS));
  readonly scratch = new SharedArrayBuffer(SCRATCH_BYTES);

  constructor(
    private readonly memory: WasmMemory,
    readonly threads: number,
  ) {
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(workerSource, {
        eval: true,
        workerData: { memory, control: this.control.buffer, args: this.args.buffer, scratch: this.scratch, index },
      });
      // Idle workers sleep in Atomics.wait; they must not keep the process alive.
      worker.unref();
      this.workers.push(worker);
    }
  }

  run(kernel: HeapKernelName, args: number[], parts: number): void {
    if (args.length > MAX_ARGS) throw new Error(`${kernel}: ${args.length} arguments, at most ${MAX_ARGS}`);
    const n = Math.max(1, Math.min(parts, this.threads));
    const ctl = this.control;
    this.args.set(args);
    ctl[KERNEL] = KERNEL_NAMES.indexOf(kernel);
    ctl[PARTS] = n;
    ctl[FAILED] = 0;
    Atomics.store(ctl, BUSY, this.workers.length);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    let failure: unknown;
    try {
      HEAP_KERNELS[kernel](this.memory.buffer, this.scratch, this.args, 0, n);
    } catch (err) {
      failure = err;
    }
    // Every worker takes part in every call (those past `n` do nothing), so the count always comes back to 0.
    for (let busy = Atomics.load(ctl, BUSY); busy !== 0; busy = Atomics.load(ctl, BUSY)) Atomics.wait(ctl, BUSY, busy);
    if (failure) throw failure;
    if (ctl[FAILED]) throw new Error(`the ${kernel} kernel failed on a worker thread (see the log)`);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

let pool: HeapPool | undefined;
let inlineScratch = new ArrayBuffer(1 << 16);

/** Starts the pool for `threads` threads on the threaded build's shared memory (replacing a previous one). */
export function startHeapPool(memory: WasmMemory | undefined, threads: number): void {
  void pool?.close();
  pool = threads > 1 && memory?.buffer instanceof SharedArrayBuffer ? new HeapPool(memory, threads) : undefined;
}

/** Threads the JavaScript kernels run on (1 without a pool). */
export function heapThreads(): number {
  return pool?.threads ?? 1;
}

/**
 * Runs `kernel` over `heap` (the wasm memory's buffer) split into at most `parts` parts, on the pool's threads when
 * there is one; synchronous. Small work should ask for 1 part: waking the workers costs more than it saves.
 * Returns the scratch buffer the kernel wrote its partial sums to (`scratchBytes` of them).
 */
export function runHeapKernel(heap: ArrayBufferLike, kernel: HeapKernelName, args: number[], parts = Infinity, scratchBytes = 0): ArrayBufferLike {
  if (pool && parts > 1 && scratchBytes <= pool.scratch.byteLength) {
    pool.run(kernel, args, parts);
    return pool.scratch;
  }
  if (inlineScratch.byteLength < scratchBytes) inlineScratch = new ArrayBuffer(scratchBytes);
  HEAP_KERNELS[kernel](heap, inlineScratch, Float64Array.from(args), 0, 1);
  return inlineScratch;
}
