import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { explainNoAdapter, readProbeOutput } from '../../../src/backend/engines/webgpuProbe';

// What a probe child printed on stderr (VK_LOADER_DEBUG=driver) on a Debian 12 machine without a GPU, captured
// from the real driver stacks: Debian's own mesa-vulkan-drivers 22.3.6, the Mesa 25 lavapipe from
// bookworm-backports (via VK_ICD_FILENAMES), and VK_ICD_FILENAMES pointing at no file.
const fixture = (name: string) => readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'webgpu-probe', `${name}.txt`), 'utf8');

describe('webgpu probe: reading what Dawn and the Vulkan loader printed', () => {
  it('Mesa 22.3 lavapipe: the device, the drivers, Dawn’s rejection and the lavapipe library are found', () => {
    const out = readProbeOutput(fixture('mesa-22.3-lavapipe'));
    assert.deepEqual(out.devices, ['llvmpipe (LLVM 15.0.6, 256 bits)']);
    assert.deepEqual(out.driverManifests.map((m) => path.basename(m)), ['intel_icd.x86_64.json', 'lvp_icd.x86_64.json', 'intel_hasvk_icd.x86_64.json', 'radeon_icd.x86_64.json']);
    assert.deepEqual(out.rejections, ['Vulkan shaderUniform*ArrayDynamicIndexing required.']);
    assert.equal(out.lavapipeLibrary, '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so');
    // The loader's own debug lines are summarised, not repeated; Mesa's and Dawn's lines are kept for the log.
    assert.ok(out.messages.every((l) => !/DRIVER/.test(l)), out.messages.join('\n'));
    assert.ok(out.messages.includes('error: XDG_RUNTIME_DIR is invalid or not set in the environment.'));
    assert.ok(out.messages.some((l) => /at InitializeImpl \(.*PhysicalDeviceVk\.cpp:\d+\)/.test(l)));
  });

  it('names lavapipe, its Mesa version, the missing feature and what works instead', () => {
    const reason = explainNoAdapter(readProbeOutput(fixture('mesa-22.3-lavapipe')), 'linux', '22.3.6');
    assert.equal(
      reason,
      'no WebGPU adapter: found Mesa 22.3.6’s software Vulkan driver lavapipe, device llvmpipe (LLVM 15.0.6, 256 bits), but it lacks the Vulkan feature shaderUniform*ArrayDynamicIndexing that Dawn requires; lavapipe from Mesa 25 or later has it, or install a GPU vendor’s Vulkan driver',
    );
    assert.doesNotMatch(reason, /found no driver/);
  });

  it('a rejected GPU (not lavapipe) is named with Dawn’s own words when they are not a feature', () => {
    const stderr = [
      'INFO | DRIVER:         Original order:',
      'INFO | DRIVER:               [0] Mali-G610',
      'Warning: Vulkan textureCompressionBC feature required or both textureCompressionETC2 and textureCompressionASTC required.',
      ' - While initializing adapter (backend=BackendType::Vulkan)',
    ].join('\n');
    const reason = explainNoAdapter(readProbeOutput(stderr), 'linux');
    assert.equal(reason, 'no WebGPU adapter: found Mali-G610, but Dawn rejected it: Vulkan textureCompressionBC feature required or both textureCompressionETC2 and textureCompressionASTC required; update the GPU’s Vulkan driver');
  });

  it('Mesa 25 lavapipe: an adapter, no rejection; Dawn’s limit warnings are kept for the debug log', () => {
    const out = readProbeOutput(fixture('mesa-25-lavapipe'));
    assert.deepEqual(out.devices, ['llvmpipe (LLVM 15.0.6, 256 bits)']);
    assert.deepEqual(out.rejections, []);
    assert.equal(out.messages.length, 2);
    assert.match(out.messages[0]!, /^Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced/);
  });

  it('no driver at all: says the loader found none (and only then)', () => {
    const out = readProbeOutput(fixture('no-driver'));
    assert.deepEqual([out.devices, out.driverManifests, out.rejections], [[], [], []]);
    assert.equal(explainNoAdapter(out, 'linux'), 'no WebGPU adapter: the Vulkan loader found no driver (install the GPU vendor’s Vulkan driver)');
  });

  it('drivers without a device, and the other platforms', () => {
    const drivers = readProbeOutput('DRIVER:           Found ICD manifest file /usr/share/vulkan/icd.d/radeon_icd.x86_64.json, version "1.0.0"\n');
    assert.equal(explainNoAdapter(drivers, 'linux'), 'no WebGPU adapter: the Vulkan drivers here (radeon_icd.x86_64.json) found no device (install the GPU vendor’s Vulkan driver)');
    assert.equal(explainNoAdapter(readProbeOutput(''), 'darwin'), 'no WebGPU adapter: Dawn found no Metal device');
    assert.equal(explainNoAdapter(readProbeOutput(''), 'win32'), 'no WebGPU adapter: Dawn found no D3D12 device');
  });
});
