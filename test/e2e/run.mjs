// End-to-end tests in a real VS Code workbench: code-server (on Node 24) driven through Debian's
// Chromium by playwright-core. See /work/shared/E2E.md for why not @vscode/test-electron here.
//
//   npm run test:e2e                    all scenarios in test/e2e/scenarios/, in file-name order
//   node test/e2e/run.mjs foundation    only the scenarios whose file name contains "foundation"
//   LESION_LAB_E2E_VSIX=dist-packages node test/e2e/run.mjs
//                                       the same against the packaged extension: the .vsix (a file, or the
//                                       folder holding this platform's) installed with code-server
//                                       --install-extension instead of the checkout copied in; *-vsix
//                                       scenarios run only in this mode (npm run test:e2e:vsix)
//
// Tools come from test/e2e/setup.sh's cache; every run gets a fresh folder under .e2e/ (settings,
// extensions, logs, workspaces) and screenshots go to test-artifacts/e2e/.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium } from './lib/browser.mjs';
import { freePort, startCodeServer, writeUserSettings } from './lib/codeServer.mjs';
import { installExtensionFromVsix, installExtensionUnpacked } from './lib/installExtension.mjs';
import { artifactsDir, missingPrerequisites, repoRoot, runsDir, scenariosDir } from './lib/paths.mjs';
import { runScenarios } from './lib/runner.mjs';

const KEEP_RUNS = 3;
const RUN_TIMEOUT_MS = Number(process.env.LESION_LAB_E2E_TIMEOUT_MS || 20 * 60_000);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/**
 * The .vsix that LESION_LAB_E2E_VSIX names: a file, or a folder holding `<name>-<platform>-<arch>-<version>.vsix`
 * (what `npm run package` writes to dist-packages/). Undefined when the variable is not set.
 */
function vsixToInstall() {
  const given = process.env.LESION_LAB_E2E_VSIX;
  if (!given) return undefined;
  let file = resolve(repoRoot, given);
  if (existsSync(file) && statSync(file).isDirectory()) {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    file = join(file, `${pkg.name}-${process.platform}-${process.arch}-${pkg.version}.vsix`);
  }
  if (!existsSync(file)) throw new Error(`LESION_LAB_E2E_VSIX: ${file} does not exist; run npm run package -- --target ${process.platform}-${process.arch}`);
  return file;
}

function newRunDir(base) {
  mkdirSync(base, { recursive: true });
  const old = readdirSync(base).filter((d) => d.startsWith('run-')).sort();
  // Old runs go, but not one another e2e run on this machine may still be using (recent ones stay).
  for (const d of old.slice(0, Math.max(0, old.length - (KEEP_RUNS - 1)))) {
    try {
      if (Date.now() - statSync(join(base, d)).mtimeMs > 30 * 60_000) rmSync(join(base, d), { recursive: true, force: true });
    } catch {
      /* removed meanwhile, or in use: leave it */
    }
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const dir = join(base, `run-${stamp}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function main() {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    console.error(`e2e: cannot start; missing:\n  - ${missing.join('\n  - ')}`);
    return 1;
  }
  const vsix = vsixToInstall();
  const filters = process.argv.slice(2);
  const matching = readdirSync(scenariosDir).filter((f) => f.endsWith('.mjs')).sort()
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  // A *-vsix scenario checks the installed package itself: it has nothing to check in a checkout copy.
  const needVsix = matching.filter((f) => /-vsix\.mjs$/.test(f));
  if (!vsix && needVsix.length > 0) console.log(`e2e: skipping ${needVsix.join(', ')}: set LESION_LAB_E2E_VSIX (npm run test:e2e:vsix)`);
  const files = matching.filter((f) => vsix || !needVsix.includes(f)).map((f) => join(scenariosDir, f));
  if (files.length === 0) {
    console.error(needVsix.length > 0 ? 'e2e: nothing to run without LESION_LAB_E2E_VSIX' : `e2e: no scenario in ${scenariosDir} matches ${filters.join(', ')}`);
    return 1;
  }
  if (filters.length === 0) rmSync(artifactsDir, { recursive: true, force: true });

  // A package under test lives outside the checkout: Node would otherwise find whatever the .vsix lacks
  // in the checkout's node_modules, walking up from the installed folder.
  const runDir = newRunDir(vsix ? join(tmpdir(), 'lesion-lab-e2e-vsix') : runsDir);
  const userDataDir = join(runDir, 'user');
  const extensionsDir = join(runDir, 'exts');
  const extension = vsix
    ? { ...installExtensionFromVsix({ vsix, extensionsDir, userDataDir, env: { ...process.env, TMPDIR: tmpdir(), XDG_CONFIG_HOME: join(runDir, 'xdg-config'), XDG_DATA_HOME: join(runDir, 'xdg-data') } }), vsix }
    : installExtensionUnpacked(repoRoot, extensionsDir);
  writeUserSettings(userDataDir, {});
  const port = await freePort();
  console.log(`e2e: run folder ${runDir}`);

  const server = await startCodeServer({ runDir, extensionsDir, userDataDir, port });
  console.log(`e2e: code-server ${server.url} ready (${elapsed()}); extension ${extension.id} ${extension.version} ${vsix ? `installed from ${vsix}` : 'installed unpacked'}`);
  let context;
  try {
    context = await launchChromium(join(runDir, 'chromium-profile'));
    const result = await runScenarios({ files, context, url: server.url, runDir, userDataDir, codeServerLog: server.logPath, repoRoot, extension });
    // The count alone on its line, as CI's log readers expect it; the duration just before.
    console.log(`e2e: finished in ${elapsed()}`);
    console.log(`e2e: ${result.passed} passed, ${result.failed} failed`);
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
