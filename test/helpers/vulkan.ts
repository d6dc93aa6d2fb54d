/**
 * The software Vulkan driver (Mesa lavapipe ≥ 25) that test/e2e/setup.sh extracts into its tool cache, as the
 * environment a child process needs to run the webgpu engine on it. The variables must be there when the
 * process starts (the dynamic loader reads LD_LIBRARY_PATH once), so tests pass them to a child, never to
 * themselves.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SoftwareVulkan {
  /** VK_ICD_FILENAMES, LD_LIBRARY_PATH and MESA_SHADER_CACHE_DIR for a child process. */
  env: Record<string, string>;
  /** The folder setup.sh filled: `root/` (the extracted .debs), `lvp_icd.json`. */
  home: string;
}

const TRIPLETS: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

export function softwareVulkanHome(): string {
  const e2eHome = process.env.LESION_LAB_E2E_HOME || path.join(os.homedir(), '.cache', 'lesion-lab', 'e2e');
  return path.join(e2eHome, 'vulkan');
}

/** The environment that selects lavapipe, or undefined when setup.sh has not extracted it here. */
export function softwareVulkanEnv(): SoftwareVulkan | undefined {
  const home = softwareVulkanHome();
  const triplet = TRIPLETS[process.arch];
  if (process.platform !== 'linux' || !triplet) return undefined;
  const icd = path.join(home, 'lvp_icd.json');
  const libDir = path.join(home, 'root', 'usr', 'lib', triplet);
  if (![icd, path.join(libDir, 'libvulkan_lvp.so'), path.join(libDir, 'libvulkan.so.1')].every((f) => existsSync(f))) return undefined;
  const inherited = process.env.LD_LIBRARY_PATH;
  return {
    home,
    env: {
      VK_ICD_FILENAMES: icd,
      LD_LIBRARY_PATH: inherited ? `${libDir}:${inherited}` : libDir,
      // lavapipe compiles every shader with LLVM (most of a first run's time); its cache stays beside the driver.
      MESA_SHADER_CACHE_DIR: path.join(home, 'shader-cache'),
    },
  };
}

/**
 * For a mocha `before`: the lavapipe environment. Its absence fails the suite, never skips it: `npm test` runs
 * setup.sh first, which extracts lavapipe, so a missing one is a broken set-up to be told about.
 */
export function requireSoftwareVulkan(): SoftwareVulkan {
  const found = softwareVulkanEnv();
  if (found) return found;
  throw new Error(`no software Vulkan driver in ${softwareVulkanHome()}: run npm test, or test/e2e/setup.sh (it extracts Mesa lavapipe there)`);
}

/**
 * The device limits the webgpu tests run under: the adapter's maxima (what TF.js asks for, as on a user's GPU) and
 * WebGPU's defaults (128 MiB per storage binding, 256 MiB per buffer: engines/load.ts honours
 * LESION_LAB_WEBGPU_LIMITS=default), so a temporary sized past what a device may allow fails here.
 */
export const WEBGPU_LIMIT_MODES: readonly { name: string; env: Record<string, string> }[] = [
  { name: 'adapter limits', env: {} },
  { name: 'WebGPU default limits', env: { LESION_LAB_WEBGPU_LIMITS: 'default' } },
];

/** WebGPU's default maxStorageBufferBindingSize. */
export const DEFAULT_STORAGE_BINDING_BYTES = 128 * 1024 * 1024;

/** ‖actual − expected‖ / ‖expected‖: how the engine-parity tests compare tensors. */
export function relativeL2(actual: number[], expected: number[]): number {
  if (actual.length !== expected.length) throw new Error(`relativeL2: ${actual.length} vs ${expected.length} elements`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
}

/**
 * Runs a TypeScript test program (through tsx) in a child process with extra environment: the Vulkan
 * variables must be set when a process starts, so webgpu comparisons run in a child.
 */
export function runTsChild(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The end of a child test program: exit 0 when `main` resolves, else print the error and exit 1. */
export function exitWhenDone(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
