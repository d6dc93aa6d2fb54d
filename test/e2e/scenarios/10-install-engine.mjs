// "Lesion Lab: Install GPU Engine…" as a person uses it: pick the CPU build in the quick pick, confirm
// the dialog, and the backend runs the real npm into the extension's global storage; afterwards the
// extension detects the engine and says it is available. Only the registry is local: the engines
// folder's .npmrc points npm at a node:http registry serving a small stand-in for
// @tensorflow/tfjs-node@4.22.0 (packed with `npm pack`), whose install script must run for it to load.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sidebarFrame } from '../lib/lesionLab.mjs';
import { openViewContainer, runCommand, textOf, waitFor, waitForEditor, waitForText } from '../lib/vscode.mjs';
import { clearNotifications, pickQuickPickItem, waitForNotification } from '../lib/workbench.mjs';

export const title = 'Install GPU Engine… installs the CPU build with npm (from a local registry) and the engine becomes available';
export const timeoutMs = 240_000;

const PKG = '@tensorflow/tfjs-node';

function packStandIn(root) {
  const dir = join(root, 'src');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: PKG, version: '4.22.0', description: 'Lesion Lab e2e stand-in', main: 'index.js', license: 'MIT',
    scripts: { install: 'node install.js cpu download' },
  }));
  // Loads only if npm ran the install script (as the real binding does); answers what detection asks.
  writeFileSync(join(dir, 'index.js'), "require('./lib/binding.json');\nexports.backend = () => ({});\nexports.getBackend = () => 'tensorflow';\n");
  writeFileSync(join(dir, 'install.js'), "require('fs').mkdirSync('lib', { recursive: true });\nrequire('fs').writeFileSync('lib/binding.json', '{}');\nconsole.error('* Building TensorFlow Node.js bindings');\n");
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', root], { cwd: dir, encoding: 'utf8' }));
  return readFileSync(join(root, filename));
}

async function startRegistry(tarball) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const base = `http://127.0.0.1:${server.address().port}/`;
    if (path === `/${PKG}`) {
      const manifest = JSON.parse(execFileSync('tar', ['-xzOf', '-', 'package/package.json'], { input: tarball, encoding: 'utf8' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        name: PKG,
        'dist-tags': { latest: '4.22.0' },
        versions: { '4.22.0': { ...manifest, dist: {
          tarball: `${base}${PKG}/-/tfjs-node-4.22.0.tgz`,
          integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
        } } },
      }));
    } else if (path === `/${PKG}/-/tfjs-node-4.22.0.tgz`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length }).end(tarball);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, requests, url: `http://127.0.0.1:${server.address().port}/` };
}

export async function run(t) {
  const { page } = t;
  const work = mkdtempSync(join(tmpdir(), 'lesion-lab-e2e-engine-'));
  const registry = await startRegistry(packStandIn(work));
  // The extension's global storage in this code-server profile: what it passes as LESION_LAB_ENGINES_DIR.
  const engines = join(t.runDir, 'user', 'User', 'globalStorage', t.extension.id.toLowerCase(), 'engines');
  mkdirSync(engines, { recursive: true });
  // npm reads the engines folder's own .npmrc (it is the --prefix project); a mirror is configured the same way.
  writeFileSync(join(engines, '.npmrc'), `registry=${registry.url}\ncache=${join(work, 'npm-cache')}\nfetch-retries=0\n`);
  try {
    // Once the extension is up (the Training view shows the detected engines), so that its state is there for the quick pick.
    await openViewContainer(page, 'Lesion Lab');
    await waitForText(await sidebarFrame(page), /wasm|webgpu|cpu/, 60_000);
    // The palette is asked again until it lists the command (right after start-up it may offer only "similar commands").
    const input = page.locator('.quick-input-widget input');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Lesion Lab: Install GPU Engine' }).first();
    await waitFor(async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill('>Lesion Lab: Install GPU');
      return row.waitFor({ state: 'visible', timeout: 2000 }).then(() => true, () => false);
    }, 'the command palette to list Install GPU Engine…', 60_000);
    await row.click();
    await pickQuickPickItem(page, 'CPU build (tfjs-node)');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 15_000 });
    const dialogText = await dialog.innerText();
    assert.match(dialogText, /Install tfjs-node\?/);
    assert.match(dialogText, /libtensorflow 2\.9\.1/);
    assert.ok(dialogText.includes(engines), `the dialog names the folder ${engines}:\n${dialogText}`);
    await t.screenshot(page, 'confirm');
    await dialog.locator('.monaco-button', { hasText: /^Install$/ }).click();

    const toast = await waitForNotification(page, /tfjs-node is now available on/, 120_000);
    await t.screenshot(page, 'installed');
    assert.match(await toast.innerText(), /Use It for Training/);
    assert.ok(registry.requests.includes(`/${PKG}`), `npm asked the registry for ${PKG}: ${registry.requests.join(', ')}`);
    // npm may take the tarball from a cache it already holds (same name, version and integrity) instead
    // of asking for it again; the packument request above and the install script's output below are what
    // prove the install went through this registry and ran for real.
    if (!registry.requests.some((r) => r.endsWith('/tfjs-node-4.22.0.tgz'))) console.log(`    note: npm did not fetch the tarball (cached); requests: ${registry.requests.join(', ')}`);
    assert.ok(existsSync(join(engines, 'node_modules', '@tensorflow', 'tfjs-node', 'lib', 'binding.json')), 'the install script ran');
    const written = JSON.parse(readFileSync(join(engines, 'package.json'), 'utf8'));
    assert.deepEqual(written.allowScripts, { [PKG]: true });

    // The Engines document now lists tfjs-node as available.
    await runCommand(page, 'Lesion Lab: Show Engines');
    await waitForEditor(page, 'Lesion Lab Engines');
    let doc = '';
    await waitFor(async () => {
      doc = await textOf(page.locator('.editor-group-container.active .monaco-editor .view-lines').first()).catch(() => '');
      return doc.split('\n').some((l) => /(?<![\w-])tfjs-node(?![\w-])/.test(l) && /available/.test(l) && !/unavailable/.test(l));
    }, 'tfjs-node available in the Engines document', 60_000).catch((err) => {
      throw new Error(`${err.message}; it shows:\n${doc}`);
    });
    await clearNotifications(page);
  } finally {
    registry.server.close();
    // Later scenarios expect the stock engines.
    rmSync(join(engines, 'node_modules'), { recursive: true, force: true });
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) rmSync(join(engines, f), { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
