/**
 * TF.js' threaded-SIMD WebAssembly build under Node, so that the wasm engine's XNNPACK kernels (convolutions,
 * matrix products, depthwise convolutions) use more than one core.
 *
 * tfjs-backend-wasm 4.22 ships the build but turns it off in Node (WASM_HAS_MULTITHREAD_SUPPORT is false there),
 * and forcing the flag fails: Emscripten's pthread pool starts its 8 workers from `blob:` URLs, which Node's
 * worker_threads refuses (ERR_WORKER_PATH), and would then load the module's factory from a Blob holding the
 * factory's source as bundled into TF.js, which refers to the bundle's own closure. While the backend
 * initialises, this module swaps worker_threads' Worker for a subclass that starts the package's own pthread
 * worker script (evaluated as source) and hands it the package's standalone Emscripten factory file instead of
 * the Blob. It also shows the C++ side a logical core count of twice the wanted threads: TF.js caps its
 * XNNPACK threadpool at (logical cores / 2), a guess at hyper-threading that gives one thread on a 2-core machine.
 * Everything else is TF.js' own code: the threaded build computes the same results as the single-threaded one
 * (XNNPACK splits work by output tiles, never a sum; checked by test/unit/engines/wasmThreads.test.ts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import workerThreads from 'node:worker_threads';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

/** Emscripten's pre-started pthread pool in tfjs-backend-wasm 4.22 (PTHREAD_POOL_SIZE): more would deadlock. */
export const MAX_WASM_THREADS = 8;

const FACTORY_FILE = 'tfjs-backend-wasm-threaded-simd.js';
const localRequire = createRequire(__filename);

/**
 * Cores that compute side by side: one per physical core on Linux (hyper-threads share a core's SIMD units, so a
 * second thread per core adds little to XNNPACK's kernels), at most what this process may run on. Elsewhere the
 * logical count (Apple silicon has no SMT).
 */
export function physicalCores(): number {
  const allowed = os.availableParallelism();
  try {
    const root = '/sys/devices/system/cpu';
    const cores = new Set<string>();
    for (const name of readdirSync(root)) {
      if (!/^cpu\d+$/.test(name)) continue;
      const file = path.join(root, name, 'topology', 'core_cpus_list');
      const siblings = path.join(root, name, 'topology', 'thread_siblings_list');
      const list = existsSync(file) ? file : siblings;
      if (existsSync(list)) cores.add(readFileSync(list, 'utf8').trim());
    }
    if (cores.size > 0) return Math.max(1, Math.min(cores.size, allowed));
  } catch {
    // not Linux, or sysfs unreadable: fall through
  }
  return Math.max(1, allowed);
}

/** The thread count the wasm engine uses for a `--threads` request (default: every physical core, at most 8). */
export function wasmThreadsFor(requested: number | undefined): number {
  const wanted = requested ?? physicalCores();
  if (!Number.isInteger(wanted) || wanted < 1) throw new Error(`threads must be a whole number ≥ 1, got ${wanted}`);
  return Math.min(wanted, MAX_WASM_THREADS);
}

/**
 * The threaded build's standalone Emscripten factory, which each pthread worker evaluates: beside the production
 * bundle (scripts/build.mjs copies it with the .wasm files), or in the package's wasm-out folder.
 */
function factoryPath(wasmDir: string | undefined): string {
  const candidates = wasmDir ? [path.join(wasmDir, FACTORY_FILE)] : [];
  try {
    candidates.push(path.join(path.dirname(localRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', FACTORY_FILE));
  } catch {
    // bundled: the package is not installed beside us
  }
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`the threaded wasm build's ${FACTORY_FILE} is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** The pthread worker script as source text: TF.js embeds it as a string whose line breaks are `\n` escapes. */
function pthreadWorkerSource(): string {
  return wasmWorkerContents.replace(/\n/g, '\\n');
}

type WorkerClass = typeof workerThreads.Worker;

/**
 * Runs `init` (which must initialise the wasm backend, e.g. `tf.setBackend('wasm')`) with the threaded build
 * enabled for `threads` threads. `setFlag` turns TF.js' WASM_HAS_MULTITHREAD_SUPPORT on; `setThreadsCount` is the
 * backend's own. The worker_threads and os patches last only as long as `init`.
 */
export async function withWasmThreads<T>(
  threads: number,
  hooks: { setFlag: () => void; setThreadsCount: (n: number) => void; wasmDir?: string },
  init: () => Promise<T>,
): Promise<T> {
  const factory = factoryPath(hooks.wasmDir);
  const source = pthreadWorkerSource();
  const OriginalWorker: WorkerClass = workerThreads.Worker;
  class PthreadWorker extends OriginalWorker {
    constructor() {
      super(source, { eval: true });
      super.unref();
    }
    // Emscripten refs a worker while it runs a pthread; XNNPACK's threads run for the life of the process and the
    // main thread waits for them synchronously, so they must never keep the process alive on their own.
    override ref(): void {}
    override postMessage(message: unknown, transfer?: readonly workerThreads.TransferListItem[]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') message = { ...m, urlOrBlob: factory };
      super.postMessage(message, transfer);
    }
  }
  const cpus = os.cpus;
  const mutableThreads = workerThreads as { Worker: WorkerClass };
  const mutableOs = os as { cpus: typeof os.cpus };
  mutableThreads.Worker = PthreadWorker as unknown as WorkerClass;
  mutableOs.cpus = () => {
    // Only the length is read (emscripten_num_logical_cores).
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length] ?? ({} as os.CpuInfo));
  };
  try {
    hooks.setFlag();
    hooks.setThreadsCount(threads);
    return await init();
  } finally {
    mutableThreads.Worker = OriginalWorker;
    mutableOs.cpus = cpus;
  }
}
