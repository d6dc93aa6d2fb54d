// End-to-end tests in a real VS Code workbench: code-server (on Node 24) driven through Debian's
// Chromium by playwright-core. See /work/shared/E2E.md for why not @vscode/test-electron here.
//
//   npm run test:e2e                    all scenarios in test/e2e/scenarios/, in file-name order
//   node test/e2e/run.mjs foundation    only the scenarios whose file name contains "foundation"
//
// Tools come from test/e2e/setup.sh's cache; every run gets a fresh folder under .e2e/ (settings,
// extensions, logs, workspaces) and screenshots go to test-artifacts/e2e/.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './lib/browser.mjs';
import { freePort, startCodeServer, writeUserSettings } from './lib/codeServer.mjs';
import { installExtensionUnpacked } from './lib/installExtension.mjs';
import { artifactsDir, missingPrerequisites, repoRoot, runsDir, scenariosDir } from './lib/paths.mjs';
import { runScenarios } from './lib/runner.mjs';

const KEEP_RUNS = 3;
const RUN_TIMEOUT_MS = Number(process.env.LESION_LAB_E2E_TIMEOUT_MS || 20 * 60_000);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

function newRunDir() {
  mkdirSync(runsDir, { recursive: true });
  const old = readdirSync(runsDir).filter((d) => d.startsWith('run-')).sort();
  for (const d of old.slice(0, Math.max(0, old.length - (KEEP_RUNS - 1)))) rmSync(join(runsDir, d), { recursive: true, force: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const dir = join(runsDir, `run-${stamp}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function main() {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    console.error(`e2e: cannot start; missing:\n  - ${missing.join('\n  - ')}`);
    return 1;
  }
  const filters = process.argv.slice(2);
  const files = readdirSync(scenariosDir).filter((f) => f.endsWith('.mjs')).sort()
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .map((f) => join(scenariosDir, f));
  if (files.length === 0) {
    console.error(`e2e: no scenario in ${scenariosDir} matches ${filters.join(', ')}`);
    return 1;
  }
  if (filters.length === 0) rmSync(artifactsDir, { recursive: true, force: true });

  const runDir = newRunDir();
  const userDataDir = join(runDir, 'user');
  const extensionsDir = join(runDir, 'exts');
  const extension = installExtensionUnpacked(repoRoot, extensionsDir);
  writeUserSettings(userDataDir, {});
  const port = await freePort();
  console.log(`e2e: run folder ${runDir}`);

  const server = await startCodeServer({ runDir, extensionsDir, userDataDir, port });
  console.log(`e2e: code-server ${server.url} ready (${elapsed()}); extension ${extension.id} ${extension.version} installed unpacked`);
  let context;
  try {
    context = await launchChromium(join(runDir, 'chromium-profile'));
    const result = await runScenarios({ files, context, url: server.url, runDir, userDataDir, codeServerLog: server.logPath, repoRoot, extension });
    console.log(`e2e: ${result.passed} passed, ${result.failed} failed (${elapsed()})`);
    return result.failed === 0 ? 0 : 1;
  } finally {
    await context?.close().catch(() => { /* already closed */ });
    await server.stop();
  }
}

// A hung browser or server must not hang CI: the exit handler in codeServer.mjs kills the group.
const watchdog = setTimeout(() => {
  console.error(`e2e: the whole run exceeded ${RUN_TIMEOUT_MS / 1000} s; stopping`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
}, RUN_TIMEOUT_MS);
watchdog.unref();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`e2e: ${err?.stack ?? err}`);
    console.log('e2e: 0 passed, 1 failed');
    process.exitCode = 1;
  },
).finally(() => clearTimeout(watchdog));
