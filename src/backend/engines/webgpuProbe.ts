/**
 * Asks Dawn for a WebGPU adapter in a child process. Dawn, the Vulkan loader and the drivers print their
 * diagnostics from native code straight to file descriptor 2 (Mesa 22.3's lavapipe: `error: XDG_RUNTIME_DIR is
 * invalid…`, then Dawn's `Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.` with a C++ source
 * location). dawn.node has no logging hook, so in-process those lines would land on the user's terminal; in a
 * child they are captured, go to the debug log, and are read for the exact reason there is no adapter. A child
 * also keeps a hanging or crashing driver from taking the backend with it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { AdapterDescription } from './detect';
import { DAWN_FLAGS, describeAdapter, type RawAdapterInfo } from './webgpuDevice';

export interface WebGpuProbe {
  adapter: AdapterDescription | null;
  /** Why there is no adapter, as exactly as the loader's and Dawn's messages allow; absent when there is one. */
  whyNone?: string;
  /** What Dawn, the Vulkan loader and the drivers printed, for the debug log (empty when they printed nothing). */
  diagnostics: string[];
}

/** What the child's stderr says, once the Vulkan loader's own debug output (VK_LOADER_DEBUG=driver) is read. */
export interface ProbeOutput {
  /** Vulkan driver manifests the loader found (icd.d/*.json). */
  driverManifests: string[];
  /** Physical devices the loader enumerated (their Vulkan device names). */
  devices: string[];
  /** Dawn's reasons for turning an adapter down ("Vulkan shaderUniform*ArrayDynamicIndexing required."). */
  rejections: string[];
  /** The lavapipe library the loader loaded, when it did: its Mesa version is read from it. */
  lavapipeLibrary?: string;
  /** Every line that is not the loader's debug output: Dawn's and the drivers' own messages. */
  messages: string[];
}

// The child: plain ESM run by `node --input-type=module -e`, independent of how this backend was built.
const CHILD = `
const [url, flags] = process.argv.slice(1);
const { create } = await import(url);
const adapter = await create(JSON.parse(flags)).requestAdapter({ powerPreference: 'high-performance' });
const info = adapter?.info ?? {};
process.stdout.write(JSON.stringify(adapter ? { description: info.description, device: info.device, vendor: info.vendor,
  architecture: info.architecture, isFallbackAdapter: adapter.isFallbackAdapter === true } : null) + '\\n');
process.exit(0);
`;

const LOADER_LINE = /^(?:\[Vulkan Loader\]\s*)?(?:(?:DEBUG|INFO|WARNING|ERROR|PERF)\s*\|\s*)*(?:DRIVER|LAYER|LOADER|DEBUG|INFO|WARNING|ERROR|PERF|VALIDATION)(?:\s*\|\s*\w+)*:/;

/** Reads the child's stderr: the loader's findings, Dawn's rejections, and everything else as messages. */
export function readProbeOutput(stderr: string): ProbeOutput {
  const out: ProbeOutput = { driverManifests: [], devices: [], rejections: [], messages: [] };
  const lines = stderr.split(/\r?\n/);
  let inDeviceList = false;
  lines.forEach((line, i) => {
    if (LOADER_LINE.test(line)) {
      const manifest = /Found ICD manifest file (.+?),\s*version/.exec(line)?.[1];
      if (manifest && !out.driverManifests.includes(manifest)) out.driverManifests.push(manifest);
      const library = /Searching for ICD drivers named (\S*libvulkan_lvp\.so\S*)/.exec(line)?.[1];
      if (library) out.lavapipeLibrary ??= library;
      if (/Original order:/.test(line)) inDeviceList = true;
      else if (/Sorted order:|linux_read_sorted/.test(line)) inDeviceList = false;
      const device = inDeviceList ? /\[\d+\]\s+(.+?)\s*$/.exec(line)?.[1] : undefined;
      if (device && !out.devices.includes(device)) out.devices.push(device);
      return;
    }
    if (line.trim() === '') return;
    out.messages.push(line);
    // Dawn: "Warning: <why>" then " - While initializing adapter (backend=BackendType::Vulkan)".
    const why = /^Warning:\s*(.+)$/.exec(line)?.[1];
    if (why && /While initializing adapter/.test(lines[i + 1] ?? '') && !out.rejections.includes(why)) out.rejections.push(why);
  });
  return out;
}

/** "Vulkan shaderUniform*ArrayDynamicIndexing required." → "shaderUniform*ArrayDynamicIndexing". */
function missingFeature(rejection: string): string | undefined {
  return /^Vulkan (\S+)(?: feature)? required\.?$/.exec(rejection.trim())?.[1];
}

const basename = (file: string): string => file.split(/[\\/]/).pop() ?? file;

/** The reason, in words a user can act on, that the probe found no adapter. */
export function explainNoAdapter(out: ProbeOutput, platform: NodeJS.Platform, mesaVersion?: string): string {
  const api = platform === 'darwin' ? 'Metal' : platform === 'win32' ? 'D3D12' : 'Vulkan';
  if (out.rejections.length > 0) {
    const lavapipe = out.devices.some((d) => /llvmpipe|lavapipe/i.test(d)) || (out.devices.length === 0 && out.lavapipeLibrary !== undefined);
    const devices = out.devices.length ? out.devices.join(', ') : 'a Vulkan device';
    const what = lavapipe ? `${mesaVersion ? `Mesa ${mesaVersion}’s` : 'Mesa’s'} software Vulkan driver lavapipe, device ${devices},` : `${devices},`;
    const features = out.rejections.map(missingFeature);
    const why = features.every((f) => f !== undefined)
      ? `it lacks the Vulkan feature${features.length > 1 ? 's' : ''} ${features.join(', ')} that Dawn requires`
      : `Dawn rejected it: ${out.rejections.map((r) => r.replace(/\.$/, '')).join('; ')}`;
    const next = lavapipe ? 'lavapipe from Mesa 25 or later has it, or install a GPU vendor’s Vulkan driver' : 'update the GPU’s Vulkan driver';
    return `no WebGPU adapter: found ${what} but ${why}; ${next}`;
  }
  if (api !== 'Vulkan') return `no WebGPU adapter: Dawn found no ${api} device`;
  if (out.driverManifests.length === 0 && out.devices.length === 0) {
    return 'no WebGPU adapter: the Vulkan loader found no driver (install the GPU vendor’s Vulkan driver)';
  }
  if (out.devices.length === 0) {
    return `no WebGPU adapter: the Vulkan drivers here (${out.driverManifests.map(basename).join(', ')}) found no device (install the GPU vendor’s Vulkan driver)`;
  }
  return `no WebGPU adapter: Dawn turned down ${out.devices.join(', ')} without saying why (see the debug log)`;
}

/** The Mesa version a lavapipe library was built from ("25.0.7-2~bpo12+1"), read from its version string. */
async function mesaVersionOf(library: string | undefined): Promise<string | undefined> {
  if (!library) return undefined;
  try {
    return /Mesa (\d+\.\d+\.\d+[\w.~+-]*)/.exec((await readFile(library)).toString('latin1'))?.[1];
  } catch {
    return undefined;
  }
}

/** For the debug log: Dawn's and the drivers' own lines, and a one-line summary of what the loader found. */
function diagnosticsOf(out: ProbeOutput): string[] {
  const found = out.driverManifests.length || out.devices.length
    ? [`Vulkan loader: drivers ${out.driverManifests.map(basename).join(', ') || 'none'}; devices ${out.devices.join(', ') || 'none'}`]
    : [];
  return [...found, ...out.messages];
}

/** Runs the probe: `webgpuEntry` is the webgpu package's index.js. Never throws; a failure is a reason. */
export async function probeWebGpu(webgpuEntry: string, timeoutMs = 15000): Promise<WebGpuProbe> {
  const env: NodeJS.ProcessEnv = { ...process.env, VK_LOADER_DEBUG: process.env.VK_LOADER_DEBUG || 'driver' };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, pathToFileURL(webgpuEntry).href, JSON.stringify(DAWN_FLAGS)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  const out = readProbeOutput(stderr);
  const diagnostics = diagnosticsOf(out);
  if (timedOut) return { adapter: null, whyNone: `Dawn failed to start: no answer from the GPU driver in ${timeoutMs / 1000} s`, diagnostics };
  let raw: RawAdapterInfo | null | undefined;
  try {
    raw = exit.code === 0 ? (JSON.parse(stdout.trim().split('\n').pop() ?? '') as RawAdapterInfo | null) : undefined;
  } catch {
    raw = undefined;
  }
  if (raw === undefined) {
    const how = exit.error ? exit.error.message : exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    const last = out.messages.filter((l) => !/^\s+at /.test(l)).pop();
    return { adapter: null, whyNone: `Dawn failed to start (${how})${last ? `: ${last.trim().slice(0, 300)}` : ''}`, diagnostics };
  }
  if (raw) return { adapter: describeAdapter(raw), diagnostics };
  const mesa = out.rejections.length ? await mesaVersionOf(out.lavapipeLibrary) : undefined;
  return { adapter: null, whyNone: explainNoAdapter(out, process.platform, mesa), diagnostics };
}
