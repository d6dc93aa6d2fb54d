// Starts code-server (the VS Code workbench served to a browser) on Node 24, in its own process
// group so that stopping it also ends the extension host, the file watcher and the pty host it
// forks. Everything it writes stays under the run folder.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { codeServerEntry, node24Bin, node24Dir, softwareVulkanEnv } from './paths.mjs';

/** The user settings every run starts from (E2E.md); scenarios add their own on top. */
export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  // Trust is off by this setting rather than code-server's --disable-workspace-trust, which would hold for
  // the whole server: 06-trust turns it back on for its window to test Restricted Mode.
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'workbench.tips.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'window.restoreWindows': 'none',
  'workbench.editor.restoreViewState': false,
  // Run folders live under the repository's .e2e/: without this, Git offers to open the parent repo.
  'git.openRepositoryInParentFolders': 'never',
  // Cleaner screenshots: no highlighted occurrences of the word under the cursor.
  'editor.occurrencesHighlight': 'off',
  'editor.selectionHighlight': false,
};

export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

export function writeUserSettings(userDataDir, settings) {
  const dir = join(userDataDir, 'User');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2));
}

/**
 * @param {{ runDir: string, extensionsDir: string, userDataDir: string, port: number }} opts
 * @returns {Promise<{ url: string, logPath: string, pid: number, stop: () => Promise<void> }>}
 */
export async function startCodeServer({ runDir, extensionsDir, userDataDir, port }) {
  const config = join(runDir, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  for (const d of ['tmp', 'xdg-config', 'xdg-data']) mkdirSync(join(runDir, d), { recursive: true });
  const logPath = join(runDir, 'code-server.log');
  const log = createWriteStream(logPath);
  const env = {
    ...process.env,
    PATH: `${join(node24Dir, 'bin')}:${process.env.PATH}`,
    TMPDIR: join(runDir, 'tmp'),
    XDG_CONFIG_HOME: join(runDir, 'xdg-config'),
    XDG_DATA_HOME: join(runDir, 'xdg-data'),
    // Variables of the surrounding npm/mocha process would leak into the extension host.
    NODE_OPTIONS: '',
    // The extension's backend sees the software Vulkan adapter, as on a machine with a Vulkan driver.
    ...softwareVulkanEnv(),
    // ImageNet weights come from an address that does not resolve: every scenario sees what an offline
    // machine sees (a failed lookup), whether or not this machine can reach storage.googleapis.com.
    LESION_LAB_WEIGHTS_BASE_URL: 'http://keras-weights.invalid/',
  };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(
    node24Bin,
    [codeServerEntry, '--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
      '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
      '--disable-getting-started-override', '--ignore-last-opened'],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }, // detached = setsid: its own process group
  );
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exited = false;
  const exit = new Promise((r) => child.once('exit', (code, signal) => { exited = true; r({ code, signal }); }));
  const pid = /** @type {number} */ (child.pid);

  // Ends the whole group even when this process is dying (exit handlers cannot await).
  const killGroup = (sig) => { try { process.kill(-pid, sig); } catch { /* already gone */ } };
  const onExit = () => killGroup('SIGKILL');
  process.on('exit', onExit);

  const stop = async () => {
    process.off('exit', onExit);
    killGroup('SIGTERM');
    const timer = setTimeout(() => killGroup('SIGKILL'), 3000);
    await exit;
    clearTimeout(timer);
    killGroup('SIGKILL'); // helpers that outlived the server
    log.end();
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited during start-up; see ${logPath}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { await stop(); throw new Error(`code-server did not answer /healthz within 30 s; see ${logPath}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, logPath, pid, stop };
}
