/**
 * Dawn (the `webgpu` package) as the WebGPU implementation in Node. One GPU instance per process:
 * Dawn keeps native state, and TF.js' webgpu backend finds it through `navigator.gpu`.
 */
import type { AdapterDescription } from './detect';

interface WebGpuModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let gpu: GPU | undefined;

// Dawn rounds timestamp queries to 65.5 µs steps by default (a browser's defence against timing attacks),
// too coarse for per-pass GPU times (engines/webgpu/gpuTimer.ts).
export const DAWN_FLAGS: readonly string[] = ['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization'];

/** The adapter's self-description, as GPUAdapterInfo gives it (and the probe child reports it). */
export interface RawAdapterInfo {
  description?: string;
  device?: string;
  vendor?: string;
  architecture?: string;
  isFallbackAdapter?: boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader/i;

/** A name to show for the adapter, marked "(software)" when it is a CPU fallback that does not say so itself. */
export function describeAdapter(info: RawAdapterInfo): AdapterDescription {
  const parts = [info.description, info.device, info.vendor, info.architecture].filter((x): x is string => !!x && x.length > 0);
  const name = parts[0] ?? 'WebGPU adapter';
  const isFallback = info.isFallbackAdapter === true || SOFTWARE.test(parts.join(' '));
  return { name: isFallback && !SOFTWARE.test(name) ? `${name} (software)` : name, isFallback };
}

/** Installs `navigator.gpu` and the WebGPU globals (GPUBufferUsage, …) that TF.js expects. */
export async function installWebGpuGlobals(): Promise<GPU> {
  if (gpu) return gpu;
  const mod = (await import('webgpu')) as unknown as WebGpuModule;
  gpu = mod.create([...DAWN_FLAGS]);
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (g[k] === undefined) g[k] = v;
  // Node 21+ defines a read-only `navigator`; Node 20 has none.
  const nav = (g.navigator as Record<string, unknown> | undefined) ?? {};
  try {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  } catch {
    // already defined by the runtime
  }
  if (g.navigator === undefined) g.navigator = nav;
  return gpu;
}

export async function requestAdapter(timeoutMs = 15000): Promise<AdapterDescription | null> {
  const instance = await installWebGpuGlobals();
  const adapter = await Promise.race([
    instance.requestAdapter({ powerPreference: 'high-performance' }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer from the GPU driver in ${timeoutMs / 1000} s`)), timeoutMs).unref()),
  ]);
  if (!adapter) return null;
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  // Copied field by field: Dawn's info object keeps them as getters, which a spread would not see.
  return describeAdapter({
    description: info?.description,
    device: info?.device,
    vendor: info?.vendor,
    architecture: info?.architecture,
    isFallbackAdapter: (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
  });
}
