import assert from 'node:assert/strict';
import type { EngineProbes } from '../../../src/backend/engines/detect';
import { detectEngines } from '../../../src/backend/engines/detect';
import { isSoftwareAdapter, selectEngine } from '../../../src/backend/engines/select';
import { UserError } from '../../../src/backend/errors';
import { wasmThreadsFor } from '../../../src/backend/engines/wasmThreads';

function probes(over: Partial<EngineProbes> & { packages?: string[]; libs?: string[] } = {}): EngineProbes {
  const packages = new Set(over.packages ?? ['webgpu', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm']);
  const libs = new Set(over.libs ?? []);
  return {
    resolvePackage: (name) => (packages.has(name) ? `/x/${name}/index.js` : undefined),
    hasSharedLibrary: (f) => libs.has(f),
    loadNativeTf: async () => ({ gpuDevices: ['NVIDIA GPU (CUDA)'] }),
    probeWebGpu: async () => ({ adapter: null, whyNone: 'no WebGPU adapter: the Vulkan loader found no driver (install the GPU vendor’s Vulkan driver)', diagnostics: [] }),
    wasmSimd: () => true,
    platform: 'linux',
    cpuCount: 2,
    ...over,
  };
}

describe('engine detection', () => {
  it('lists all five engines in a fixed order, with cpu always available', async () => {
    const engines = await detectEngines(probes());
    assert.deepEqual(engines.map((e) => e.name), ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
    assert.equal(engines.find((e) => e.name === 'cpu')!.available, true);
    assert.equal(engines.find((e) => e.name === 'wasm')!.available, true);
  });

  it('wasm says how many threads it will use: every physical core (capped), one without SIMD', async () => {
    const threads = wasmThreadsFor(undefined);
    const simd = (await detectEngines(probes())).find((e) => e.name === 'wasm')!;
    assert.match(simd.reason, new RegExp(`with SIMD, on ${threads} threads?\\b.*--threads`));
    const scalar = (await detectEngines(probes({ wasmSimd: () => false }))).find((e) => e.name === 'wasm')!;
    assert.match(scalar.reason, /without SIMD.*one thread/);
  });

  it('says why tfjs-node-gpu is unavailable: not installed, then missing CUDA libraries, then load failure', async () => {
    let [gpu] = await detectEngines(probes());
    assert.match(gpu!.reason, /not installed.*Install GPU Engine/);
    [gpu] = await detectEngines(probes({ packages: ['@tensorflow/tfjs-node-gpu'], libs: ['libcudnn.so.8'] }));
    assert.equal(gpu!.available, false);
    assert.match(gpu!.reason, /libcudart\.so\.11\.0 was not found/);
    [gpu] = await detectEngines(
      probes({ packages: ['@tensorflow/tfjs-node-gpu'], libs: ['libcudart.so.11.0', 'libcudnn.so.8'], loadNativeTf: async () => { throw new Error('libtensorflow.so.2: cannot open shared object file\nmore'); } }),
    );
    assert.match(gpu!.reason, /failed to load: libtensorflow\.so\.2: cannot open shared object file$/);
    [gpu] = await detectEngines(probes({ packages: ['@tensorflow/tfjs-node-gpu'], libs: ['libcudart.so.11.0', 'libcudnn.so.8'] }));
    assert.equal(gpu!.available, true);
    assert.equal(gpu!.device, 'NVIDIA GPU (CUDA)');
  });

  it('says why webgpu is unavailable: no Vulkan loader, or no adapter; reports the adapter name when there is one', async () => {
    let webgpu = (await detectEngines(probes()))[1]!;
    assert.match(webgpu.reason, /no Vulkan loader \(libvulkan\.so\.1\)/);
    webgpu = (await detectEngines(probes({ libs: ['libvulkan.so.1'] })))[1]!;
    assert.match(webgpu.reason, /no WebGPU adapter/);
    webgpu = (await detectEngines(probes({ libs: ['libvulkan.so.1'], probeWebGpu: async () => ({ adapter: { name: 'NVIDIA H200', isFallback: false }, diagnostics: [] }) })))[1]!;
    assert.equal(webgpu.available, true);
    assert.equal(webgpu.device, 'NVIDIA H200');
    webgpu = (await detectEngines(probes({ platform: 'darwin', probeWebGpu: async () => ({ adapter: { name: 'Apple M3', isFallback: false }, diagnostics: [] }) })))[1]!;
    assert.match(webgpu.reason, /Metal/);
  });

  it('webgpu: the probe’s exact reason is the engine’s, and what the driver printed goes to the debug log only', async () => {
    const debug: string[] = [];
    const whyNone = 'no WebGPU adapter: found Mesa 22.3.6’s software Vulkan driver lavapipe, device llvmpipe, but it lacks the Vulkan feature X that Dawn requires; …';
    const diagnostics = ['error: XDG_RUNTIME_DIR is invalid or not set in the environment.', 'Warning: Vulkan X required.'];
    const engines = await detectEngines(probes({ libs: ['libvulkan.so.1'], probeWebGpu: async () => ({ adapter: null, whyNone, diagnostics }) }), (m) => debug.push(m));
    assert.equal(engines[1]!.reason, whyNone);
    assert.equal(debug.length, 1);
    assert.match(debug[0]!, /^webgpu: what Dawn and the GPU driver printed while looking for an adapter:\n {2}error: XDG_RUNTIME_DIR.*\n {2}Warning: Vulkan X required\.$/s);
    const crashed = await detectEngines(probes({ libs: ['libvulkan.so.1'], probeWebGpu: async () => { throw new Error('spawn EACCES\nmore'); } }));
    assert.equal(crashed[1]!.reason, 'Dawn failed to start: spawn EACCES');
  });

  it('reports CUDA as impossible on macOS', async () => {
    const [gpu] = await detectEngines(probes({ platform: 'darwin' }));
    assert.match(gpu!.reason, /not supported on darwin/);
  });
});

describe('engine selection', () => {
  const base = async (over: Partial<EngineProbes> & { packages?: string[]; libs?: string[] } = {}) => detectEngines(probes(over));

  it('auto picks wasm on a machine with no GPU and says why', async () => {
    const sel = selectEngine(await base(), 'auto');
    assert.equal(sel.engine, 'wasm');
    assert.match(sel.reason, /no usable GPU engine/);
  });

  it('auto prefers a real WebGPU adapter, but skips a software one', async () => {
    const real = selectEngine(await base({ libs: ['libvulkan.so.1'], probeWebGpu: async () => ({ adapter: { name: 'AMD Radeon RX 7900', isFallback: false }, diagnostics: [] }) }), 'auto');
    assert.equal(real.engine, 'webgpu');
    assert.match(real.reason, /GPU found: AMD Radeon/);
    const soft = selectEngine(await base({ libs: ['libvulkan.so.1'], probeWebGpu: async () => ({ adapter: { name: 'llvmpipe (LLVM 19.1.7, 256 bits)', isFallback: true }, diagnostics: [] }) }), 'auto');
    assert.equal(soft.engine, 'wasm');
    assert.match(soft.reason, /software adapter/);
    assert.equal(isSoftwareAdapter('SwiftShader Device'), true);
    assert.equal(isSoftwareAdapter('NVIDIA H100'), false);
  });

  it('auto prefers CUDA over WebGPU when both work', async () => {
    const sel = selectEngine(
      await base({ packages: ['@tensorflow/tfjs-node-gpu', 'webgpu', '@tensorflow/tfjs-backend-webgpu'], libs: ['libcudart.so.11.0', 'libcudnn.so.8', 'libvulkan.so.1'], probeWebGpu: async () => ({ adapter: { name: 'NVIDIA', isFallback: false }, diagnostics: [] }) }),
      'auto',
    );
    assert.equal(sel.engine, 'tfjs-node-gpu');
  });

  it('an explicit unavailable engine is a UserError that suggests another', async () => {
    assert.throws(() => selectEngine([], 'webgpu'), UserError);
    const engines = await base();
    assert.throws(() => selectEngine(engines, 'webgpu'), (e: unknown) => e instanceof UserError && /not available here: no Vulkan loader.*--engine/.test(e.message));
    assert.equal(selectEngine(engines, 'cpu').engine, 'cpu');
  });
});
