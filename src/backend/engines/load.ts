/**
 * Loads and activates one compute engine (a TF.js backend) in this process, with the project's fixes:
 * Mean/Sum/FusedBatchNorm gradients that broadcast instead of building full-size arrays (every engine), and
 * the gradient kernels that wasm lacks.
 * There is one @tensorflow/tfjs-core in node_modules; tfjs-layers and every backend share it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { EngineRunInfo } from '../../shared/runConfig';
import type { EngineName } from '../../shared/protocol/engines';
import type { Precision } from '../../shared/protocol/jobs';
import { UserError } from '../errors';
import { bundledPackageVersion, bundledWasmDir } from './bundled';
import { createEngineRequire } from './detect';
import { activeGradientFixes, useGradientFixes } from './broadcastGradients';
import { projectWasmKernels, registerWasmGradientKernels } from './wasmKernels';
import { wasmThreadsFor, withWasmThreads } from './wasmThreads';
import type { WasmMemory } from './heapWorkers';
import { heapThreads, startHeapPool } from './heapWorkers';
import { installWebGpuGlobals, requestAdapter } from './webgpuDevice';
import { activeWebGpuKernels, useWebGpuKernels } from './webgpu/register';
import { webgpuBackend } from './webgpu/backendInternals';
import { checkGpuHealth, provokeGpuFailure, watchGpuDevice } from './webgpu/deviceHealth';
import { activeMixedPrecisionKernels, deviceHasHalf, useWebGpuPrecision } from './webgpu/mixedPrecision';
import { assertNever } from '../../shared/assertNever';

export type TfCore = typeof tf;

export interface LoadedEngine {
  tf: TfCore;
  engine: EngineName;
  /** The TF.js backend name (tfjs-node registers itself as `tensorflow`). */
  backend: string;
  device?: string;
  /** CPU threads the engine computes on (wasm: XNNPACK's threadpool; cpu: 1); undefined where the engine decides. */
  threads?: number;
  /** Something the user should know about how it started (e.g. fewer threads than asked for). */
  note?: string;
}

export interface EngineOptions {
  /** wasm: threads for its kernels (default: every physical core, at most 8). Other engines ignore it. */
  threads?: number;
}

/** What a run's config.json records about the engine it trained on. */
const localRequire = createRequire(__filename);

const BACKEND_PACKAGE: Record<EngineName, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
};

let current: LoadedEngine | undefined;

export async function initEngine(name: EngineName, options: EngineOptions = {}): Promise<LoadedEngine> {
  let loaded: LoadedEngine;
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      loaded = { tf, engine: name, backend: 'cpu', device: 'CPU (JavaScript, 1 thread)', threads: 1 };
      await activate(name, 'cpu', 'The cpu engine is part of Lesion Lab; reinstall it.');
      // Its first-use banner tells the user to install tfjs-node; the engine choice is reported by us instead.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      break;
    case 'wasm': {
      loaded = await initWasm(options.threads);
      break;
    }
    case 'webgpu':
      loaded = await initWebGpu();
      break;
    case 'tfjs-node':
    case 'tfjs-node-gpu':
      loaded = await initNative(name);
      break;
    default:
      return assertNever(name, 'engine');
  }
  useGradientFixes();
  current = loaded;
  precision = 'float32';
  return loaded;
}

async function initWasm(requestedThreads: number | undefined): Promise<LoadedEngine> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Point at the .wasm files explicitly: the packaged backend carries them beside the bundle, a
  // development build finds them in the package's own dist folder.
  const wasmDir = bundledWasmDir() ?? path.dirname(localRequire.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(wasmDir + path.sep);
  const threads = wasmThreadsFor(requestedThreads);
  const start = () => activate('wasm', 'wasm', 'The WebAssembly files in @tensorflow/tfjs-backend-wasm/dist may be missing; reinstall Lesion Lab, or use --engine cpu.');
  // One thread: the plain SIMD build (no shared memory, no workers). A backend already started in this process
  // keeps the build it started with (TF.js reads the thread count once).
  let note: string | undefined;
  if (threads > 1 && !tf.engine().registry.wasm) {
    try {
      await withWasmThreads(threads, { setFlag: () => tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true), setThreadsCount: wasm.setThreadsCount, wasmDir }, start);
    } catch (err) {
      // The threaded build is TF.js' own but started through a shim (wasmThreads.ts): if it fails, train on one thread.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      note = `the wasm engine could not start ${threads} threads (${firstLine(err)}); it runs on one`;
      await start();
    }
  } else {
    await start();
  }
  registerWasmGradientKernels();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const actual = wasm.getThreadsCount();
  // The project's JavaScript kernels (heapKernels.ts) run on as many threads as XNNPACK's, over the same shared heap.
  const memory = (tf.backend() as unknown as { wasm: { wasmMemory?: WasmMemory } }).wasm.wasmMemory;
  if (heapThreads() !== actual) startHeapPool(memory, actual);
  return { tf, engine: 'wasm', backend: 'wasm', device: `CPU (WebAssembly${simd ? ' SIMD' : ''}, ${actual} thread${actual === 1 ? '' : 's'})`, threads: actual, ...(note ? { note } : {}) };
}

async function activate(engine: EngineName, backend: string, whatToDo: string): Promise<void> {
  let failure: unknown;
  let ok = false;
  try {
    ok = await tf.setBackend(backend);
  } catch (err) {
    failure = err;
  }
  if (!ok || tf.getBackend() !== backend) {
    const why = failure instanceof Error ? `: ${failure.message.split('\n')[0]}` : ' (TF.js could not initialise it; see the log above)';
    throw new UserError(`The ${engine} engine failed to start${why}. ${whatToDo}`);
  }
}

async function initWebGpu(): Promise<LoadedEngine> {
  let adapterName: string;
  try {
    const adapter = await requestAdapter();
    if (!adapter) {
      throw new UserError(
        'The webgpu engine found no GPU adapter: Dawn found no Vulkan/Metal/D3D12 driver. Install your GPU driver’s Vulkan support (Linux: libvulkan1 and the vendor driver), or choose --engine wasm.',
      );
    }
    adapterName = adapter.name;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`The webgpu engine could not start Dawn: ${firstLine(err)}. Check the GPU driver, or choose --engine wasm.`);
  }
  requestHalfPrecision(await installWebGpuGlobals());
  // The backend registers itself at import time only if navigator.gpu already exists.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.engine().registryFactory.webgpu) {
    throw new UserError('The webgpu backend did not register (navigator.gpu was missing when it loaded). Choose --engine wasm and report this.');
  }
  await activate('webgpu', 'webgpu', `The GPU (${adapterName}) refused a WebGPU device; update its driver, or choose --engine wasm.`);
  useWebGpuKernels();
  useWebGpuPrecision('float32');
  watchGpuDevice(webgpuBackend()!.device);
  return { tf, engine: 'webgpu', backend: 'webgpu', device: defaultLimitsRequested() ? `${adapterName}, WebGPU default limits` : adapterName };
}

/**
 * TF.js asks for its device with only 'timestamp-query'; float16 shaders (`--precision mixed`) need 'shader-f16'
 * on the device too, so the adapters it gets add that feature to their device request when they have it.
 * With LESION_LAB_WEBGPU_LIMITS=default the device is asked for with WebGPU's default limits instead of the
 * adapter's maxima TF.js asks for (128 MiB per storage binding, …): what the tests run with, so that a buffer
 * sized past what a device may allow fails here and not on a user's GPU.
 */
function requestHalfPrecision(gpu: GPU): void {
  const patched = gpu as GPU & { lesionLabHalf?: boolean };
  if (patched.lesionLabHalf) return;
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  patched.requestAdapter = async (options?: GPURequestAdapterOptions) => {
    const adapter = await requestAdapter(options);
    if (adapter) {
      const half = adapter.features.has('shader-f16');
      const requestDevice = adapter.requestDevice.bind(adapter);
      adapter.requestDevice = (descriptor?: GPUDeviceDescriptor) => {
        const { requiredLimits, ...rest } = descriptor ?? {};
        return requestDevice({
          ...rest,
          ...(defaultLimitsRequested() ? {} : { requiredLimits }),
          requiredFeatures: [...(descriptor?.requiredFeatures ?? []), ...(half ? ['shader-f16' as GPUFeatureName] : [])],
        });
      };
    }
    return adapter;
  };
  patched.lesionLabHalf = true;
}

function defaultLimitsRequested(): boolean {
  return process.env.LESION_LAB_WEBGPU_LIMITS === 'default';
}

async function initNative(name: 'tfjs-node' | 'tfjs-node-gpu'): Promise<LoadedEngine> {
  const pkg = BACKEND_PACKAGE[name];
  const entry = createEngineRequire()(pkg);
  if (!entry) {
    throw new UserError(`The ${name} engine is not installed. Run "Lesion Lab: Install GPU Engine…", or choose --engine auto.`);
  }
  try {
    // Loading it registers the `tensorflow` backend in the shared TF.js registry.
    localRequire(entry);
  } catch (err) {
    const hint = name === 'tfjs-node-gpu' ? ' It needs CUDA 11.2 and cuDNN 8.1 on LD_LIBRARY_PATH.' : '';
    throw new UserError(`The ${name} engine failed to load: ${firstLine(err)}.${hint} Reinstall it with "Lesion Lab: Install GPU Engine…", or choose another --engine.`);
  }
  await activate(name, 'tensorflow', `Reinstall it with "Lesion Lab: Install GPU Engine…", or choose another --engine.`);
  return { tf, engine: name, backend: 'tensorflow', device: name === 'tfjs-node-gpu' ? 'NVIDIA GPU (CUDA)' : 'CPU (native)' };
}

/**
 * Throws (GpuFailure) if the GPU reported running out of memory, a rejected operation or its loss since the last
 * check: such failures do not throw where they happen. A no-op on the CPU engines.
 */
export async function checkEngineHealth(): Promise<void> {
  const gpu = current?.engine === 'webgpu' ? webgpuBackend() : undefined;
  if (gpu) await checkGpuHealth(gpu.device);
}

/** Test hook (LESION_LAB_GPU_FAULT_AT_EPOCH=N): a real GPU failure during epoch N, to exercise the failure path. */
export function injectGpuFaultFor(epoch: number): void {
  const gpu = current?.engine === 'webgpu' ? webgpuBackend() : undefined;
  if (gpu && process.env.LESION_LAB_GPU_FAULT_AT_EPOCH === String(epoch)) provokeGpuFailure(gpu.device);
}

let precision: Precision = 'float32';

/**
 * Switches the active engine to `requested` precision where it can; returns what it uses and, when that is not
 * what was asked for, why. Only webgpu on an adapter with shader-f16 has float16 kernels.
 */
export function usePrecision(requested: Precision): { precision: Precision; note?: string } {
  if (!current) throw new Error('usePrecision() before initEngine()');
  const gpu = current.engine === 'webgpu' ? webgpuBackend() : undefined;
  if (requested === 'mixed' && !gpu) {
    precision = 'float32';
    return { precision, note: `mixed precision needs the webgpu engine (this run uses ${current.engine}); training in float32` };
  }
  if (requested === 'mixed' && gpu && !deviceHasHalf(gpu)) {
    precision = 'float32';
    return { precision, note: `mixed precision needs float16 shaders, and ${current.device ?? 'this GPU'} does not offer shader-f16; training in float32` };
  }
  if (gpu) useWebGpuPrecision(requested);
  precision = requested;
  return { precision };
}

export function engineInfoForRun(): EngineRunInfo {
  if (!current) throw new Error('engineInfoForRun() before initEngine()');
  const loaded = current;
  const versions: Record<string, string> = {};
  const native = loaded.engine === 'tfjs-node' || loaded.engine === 'tfjs-node-gpu';
  for (const pkg of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', BACKEND_PACKAGE[loaded.engine]]) {
    // tfjs-core and tfjs-layers are always ours; only the native engine may live in LESION_LAB_ENGINES_DIR.
    const v = packageVersion(pkg, native && pkg === BACKEND_PACKAGE[loaded.engine]);
    if (v) versions[pkg] = v;
  }
  const patches: string[] = [];
  const fixes = activeGradientFixes();
  if (fixes.length) patches.push(`broadcasting gradients: ${fixes.join(', ')}`);
  const kernels = loaded.engine === 'wasm' ? projectWasmKernels() : [];
  if (kernels.length) patches.push(`wasm gradient kernels: ${kernels.join(', ')}`);
  const gpuKernels = loaded.engine === 'webgpu' ? activeWebGpuKernels() : [];
  if (gpuKernels.length) patches.push(`webgpu kernels: ${gpuKernels.join(', ')}`);
  const halfKernels = loaded.engine === 'webgpu' ? activeMixedPrecisionKernels() : [];
  if (halfKernels.length) patches.push(`float16 (mixed precision) kernels: ${halfKernels.join(', ')}`);
  return { engine: loaded.engine, backend: loaded.backend, device: loaded.device, ...(loaded.threads !== undefined ? { threads: loaded.threads } : {}), versions, patches, precision };
}

function packageVersion(pkg: string, engineDir: boolean): string | undefined {
  if (!engineDir && bundledPackageVersion(pkg)) return bundledPackageVersion(pkg);
  const file = engineDir ? createEngineRequire()(`${pkg}/package.json`) : tryResolve(`${pkg}/package.json`);
  if (!file) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function tryResolve(id: string): string | undefined {
  try {
    return localRequire.resolve(id);
  } catch {
    return undefined;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
