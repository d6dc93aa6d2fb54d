/**
 * Finds out which compute engines can run here, on what device, and — when one cannot — why not,
 * phrased as something the user can do. Probes are injectable so the reasoning is unit-tested.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { EngineInfo } from '../../shared/protocol/engines';
import { bundledPackageVersion } from './bundled';
import type { WebGpuProbe } from './webgpuProbe';
import { MAX_WASM_THREADS, wasmThreadsFor } from './wasmThreads';

export interface AdapterDescription {
  name: string;
  isFallback: boolean;
}

export interface EngineProbes {
  /** Resolves a package to its entry file, or undefined when it is not installed. */
  resolvePackage(name: string): string | undefined;
  /** True if a shared library can be found by the dynamic loader. */
  hasSharedLibrary(file: string): boolean;
  /** Loads tfjs-node(-gpu) and reports the devices it sees; throws with the loader's message on failure. */
  loadNativeTf(pkg: string): Promise<{ gpuDevices: string[] }>;
  /** Asks Dawn for a high-performance adapter (in a child process: see webgpuProbe.ts), and why there is none. */
  probeWebGpu(): Promise<WebGpuProbe>;
  wasmSimd(): boolean;
  platform: NodeJS.Platform;
  cpuCount: number;
}

const CUDA_LIBS = ['libcudart.so.11.0', 'libcudnn.so.8'];

/**
 * `debug` receives what the drivers printed while being probed (Dawn's and the Vulkan loader's messages): the
 * debug log, never the user's stderr.
 */
export async function detectEngines(probes: EngineProbes = realProbes(), debug: (message: string) => void = () => {}): Promise<EngineInfo[]> {
  const cpuDevice = `CPU (${probes.cpuCount} core${probes.cpuCount === 1 ? '' : 's'})`;
  return Promise.all([
    detectNativeGpu(probes),
    detectWebGpu(probes, debug),
    detectNativeCpu(probes, cpuDevice),
    Promise.resolve(detectWasm(probes, cpuDevice)),
    Promise.resolve<EngineInfo>({ name: 'cpu', available: true, gpu: false, device: cpuDevice, reason: 'plain JavaScript; always works, slowest' }),
  ]);
}

async function detectNativeGpu(p: EngineProbes): Promise<EngineInfo> {
  const base = { name: 'tfjs-node-gpu' as const, gpu: true };
  if (p.platform !== 'linux' && p.platform !== 'win32') {
    return { ...base, available: false, reason: `CUDA is not supported on ${p.platform}; the webgpu engine uses this GPU instead` };
  }
  if (!p.resolvePackage('@tensorflow/tfjs-node-gpu')) {
    return {
      ...base,
      available: false,
      reason: 'not installed; run "Lesion Lab: Install GPU Engine…" (needs an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1)',
    };
  }
  if (p.platform === 'linux') {
    const missing = CUDA_LIBS.filter((lib) => !p.hasSharedLibrary(lib));
    if (missing.length) {
      return {
        ...base,
        available: false,
        reason: `installed, but the CUDA library ${missing.join(' and ')} was not found; install CUDA 11.2 and cuDNN 8.1 or add them to LD_LIBRARY_PATH`,
      };
    }
  }
  try {
    const { gpuDevices } = await p.loadNativeTf('@tensorflow/tfjs-node-gpu');
    if (gpuDevices.length === 0) return { ...base, available: false, reason: 'installed and loaded, but TensorFlow sees no GPU device' };
    return { ...base, available: true, device: gpuDevices[0], reason: `CUDA via libtensorflow (${gpuDevices.length} GPU${gpuDevices.length > 1 ? 's' : ''})` };
  } catch (err) {
    return { ...base, available: false, reason: `installed, but failed to load: ${firstLine(err)}` };
  }
}

async function detectWebGpu(p: EngineProbes, debug: (message: string) => void): Promise<EngineInfo> {
  const base = { name: 'webgpu' as const, gpu: true };
  if (!p.resolvePackage('webgpu') || !p.resolvePackage('@tensorflow/tfjs-backend-webgpu')) {
    return { ...base, available: false, reason: 'the webgpu packages are missing from this installation; reinstall Lesion Lab' };
  }
  if (p.platform === 'linux' && !p.hasSharedLibrary('libvulkan.so.1')) {
    return {
      ...base,
      available: false,
      reason: 'no Vulkan loader (libvulkan.so.1); install your GPU driver’s Vulkan support, e.g. `apt install libvulkan1 mesa-vulkan-drivers`',
    };
  }
  let probe: WebGpuProbe;
  try {
    probe = await p.probeWebGpu();
  } catch (err) {
    return { ...base, available: false, reason: `Dawn failed to start: ${firstLine(err)}` };
  }
  if (probe.diagnostics.length) debug(`webgpu: what Dawn and the GPU driver printed while looking for an adapter:\n  ${probe.diagnostics.join('\n  ')}`);
  const adapter = probe.adapter;
  if (!adapter) return { ...base, available: false, reason: probe.whyNone ?? 'no WebGPU adapter' };
  const kind = adapter.isFallback ? 'software fallback adapter' : 'Dawn';
  return { ...base, available: true, device: adapter.name, reason: `${kind} over ${p.platform === 'darwin' ? 'Metal' : p.platform === 'win32' ? 'D3D12' : 'Vulkan'}` };
}

async function detectNativeCpu(p: EngineProbes, device: string): Promise<EngineInfo> {
  const base = { name: 'tfjs-node' as const, gpu: false, device };
  if (!p.resolvePackage('@tensorflow/tfjs-node')) {
    return { ...base, available: false, reason: 'not installed; run "Lesion Lab: Install GPU Engine…" and choose the CPU build for native speed' };
  }
  try {
    await p.loadNativeTf('@tensorflow/tfjs-node');
    return { ...base, available: true, reason: 'native libtensorflow on the CPU' };
  } catch (err) {
    return { ...base, available: false, reason: `installed, but failed to load: ${firstLine(err)}` };
  }
}

function detectWasm(p: EngineProbes, device: string): EngineInfo {
  const base = { name: 'wasm' as const, gpu: false, device };
  if (!p.resolvePackage('@tensorflow/tfjs-backend-wasm')) {
    return { ...base, available: false, reason: 'the wasm package is missing from this installation; reinstall Lesion Lab' };
  }
  // The threaded build needs SIMD too (TF.js ships it as threaded-SIMD only).
  const threads = wasmThreadsFor(undefined);
  return p.wasmSimd()
    ? { ...base, available: true, reason: `WebAssembly with SIMD, on ${threads} thread${threads === 1 ? '' : 's'} (every physical core, at most ${MAX_WASM_THREADS}; --threads to change)` }
    : { ...base, available: true, reason: 'WebAssembly without SIMD (slower), one thread' };
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

/** Extra folder where "Install GPU Engine…" puts tfjs-node(-gpu): `<dir>/node_modules/…`. */
export function enginesDir(): string | undefined {
  return process.env.LESION_LAB_ENGINES_DIR || undefined;
}

export function createEngineRequire(): (name: string) => string | undefined {
  const requires = [createRequire(__filename)];
  const extra = enginesDir();
  if (extra) requires.unshift(createRequire(path.join(extra, 'node_modules', 'noop.js')));
  return (name) => {
    for (const r of requires) {
      try {
        return r.resolve(name);
      } catch {
        // try the next location
      }
    }
    return undefined;
  };
}

function libraryDirs(): string[] {
  const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return [
    ...fromEnv,
    '/usr/local/nvidia/lib64',
    '/usr/local/cuda/lib64',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64',
  ];
}

// A WebAssembly module using one SIMD instruction (i8x16.splat); validate() says whether SIMD exists.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function realProbes(): EngineProbes {
  const resolve = createEngineRequire();
  return {
    // A package compiled into the packaged backend has no node_modules entry: its entry is this bundle.
    resolvePackage: (name) => (bundledPackageVersion(name) ? __filename : resolve(name)),
    hasSharedLibrary: (file) => libraryDirs().some((d) => existsSync(path.join(d, file))),
    async loadNativeTf(pkg) {
      const entry = resolve(pkg);
      if (!entry) throw new Error(`${pkg} is not installed`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tf = require(entry) as { backend(): unknown; getBackend(): string };
      await Promise.resolve(tf.backend());
      return { gpuDevices: pkg.endsWith('-gpu') ? ['NVIDIA GPU (CUDA)'] : [] };
    },
    async probeWebGpu() {
      const entry = resolve('webgpu');
      if (!entry) throw new Error('the webgpu package is not installed');
      const { probeWebGpu } = await import('./webgpuProbe');
      return probeWebGpu(entry);
    },
    wasmSimd: () => {
      try {
        const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
        return wasm.validate(SIMD_PROBE);
      } catch {
        return false;
      }
    },
    platform: process.platform,
    cpuCount: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
  };
}
