// A tiny scenario runner: one code-server and one browser for the whole run, a fresh page and a
// fresh workspace folder per scenario, run in file-name order.
//
// A scenario module (test/e2e/scenarios/NN-name.mjs) exports:
//   title                  what it checks, one line
//   run(t)                 the steps; throws on failure
//   settings?              user settings for this scenario, e.g. { 'workbench.colorTheme': 'Default Light Modern' }
//   setupWorkspace?(dir)   writes files into the scenario's workspace folder before the window opens
//   timeoutMs?             default 180 s
// t = { page, workspace, runDir, repoRoot, extension, url, setSettings(obj), screenshot(target, name) }
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { screenshot } from './artifacts.mjs';
import { writeUserSettings } from './codeServer.mjs';
import { diagnosticsReport } from './diagnostics.mjs';
import { openWorkbench } from './vscode.mjs';

const DEFAULT_SCENARIO_TIMEOUT = 180_000;

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/**
 * @param {{ files: string[], context: import('playwright-core').BrowserContext, url: string, runDir: string,
 *   userDataDir: string, codeServerLog: string, repoRoot: string, extension: { id: string, dir: string } }} env
 * @returns {Promise<{ passed: number, failed: number }>}
 */
export async function runScenarios(env) {
  let passed = 0;
  let failed = 0;
  for (const file of env.files) {
    const name = basename(file, '.mjs');
    const scenario = await import(file);
    const started = Date.now();
    const workspace = join(env.runDir, 'workspaces', name);
    mkdirSync(workspace, { recursive: true });
    const consoleLines = [];
    let page;
    try {
      if (typeof scenario.run !== 'function') throw new Error(`${file} exports no run(t) function`);
      writeUserSettings(env.userDataDir, scenario.settings ?? {});
      await scenario.setupWorkspace?.(workspace);
      page = await env.context.newPage();
      page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
      const t = {
        page, workspace, runDir: env.runDir, repoRoot: env.repoRoot, extension: env.extension, url: env.url,
        setSettings: (settings) => writeUserSettings(env.userDataDir, { ...scenario.settings, ...settings }),
        screenshot: (target, shot) => screenshot(target, `${name}-${shot}`),
      };
      await withTimeout((async () => {
        await openWorkbench(page, `${env.url}/?folder=${encodeURIComponent(workspace)}`);
        await scenario.run(t);
      })(), scenario.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT, `scenario ${name}`);
      passed++;
      console.log(`  ✓ ${name}: ${scenario.title ?? ''} (${seconds(started)})`);
    } catch (err) {
      failed++;
      console.log(`  ✗ ${name}: ${scenario.title ?? ''} (${seconds(started)})\n    ${String(err?.stack ?? err).replace(/\n/g, '\n    ')}`);
      if (page) {
        const shot = await screenshot(page, `${name}-FAILED`).catch((e) => `(no screenshot: ${e.message})`);
        console.log(`    screenshot: ${shot}`);
      }
      console.log(diagnosticsReport({ codeServerLog: env.codeServerLog, userDataDir: env.userDataDir, extensionId: env.extension.id, consoleLines }));
    } finally {
      await page?.close().catch(() => { /* browser gone */ });
    }
  }
  return { passed, failed };
}
