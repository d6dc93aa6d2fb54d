// Installs the extension unpacked into a code-server extensions folder, the way a .vsix would lay it
// out: `<publisher>.<name>-<version>/` with the manifest, the bundles and the runtime packages.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { codeServerEntry, node24Bin } from './paths.mjs';

// node_modules is ~700 MB with the dev tools; a symlink costs nothing. The extension host resolves
// `require('sharp')` from dist/ upwards and Node follows the link to the real path, so packages and
// their own dependencies load exactly as they would from the checkout.
const COPIED = ['package.json', 'dist', 'media', 'bin', 'README.md', 'LICENSE', 'CHANGELOG.md'];

/** @returns {{ id: string, dir: string, version: string }} */
export function installExtensionUnpacked(repoRoot, extensionsDir) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const id = `${pkg.publisher}.${pkg.name}`;
  const dir = join(extensionsDir, `${id}-${pkg.version}`);
  mkdirSync(dir, { recursive: true });
  for (const entry of COPIED) {
    const from = join(repoRoot, entry);
    if (existsSync(from)) cpSync(from, join(dir, entry), { recursive: true });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { id, dir, version: pkg.version };
}

/**
 * Installs a packaged .vsix the way a user does, with `code-server --install-extension` (VS Code's own
 * extension management: unzip, target-platform check, extensions.json), so that the run tests the
 * artefact, not the checkout. Returns the folder code-server installed it into.
 * @param {{ vsix: string, extensionsDir: string, userDataDir: string, env?: NodeJS.ProcessEnv }} opts
 * @returns {{ id: string, dir: string, version: string }}
 */
export function installExtensionFromVsix({ vsix, extensionsDir, userDataDir, env = process.env }) {
  mkdirSync(extensionsDir, { recursive: true });
  const out = execFileSync(node24Bin, [codeServerEntry, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix], {
    encoding: 'utf8', env: { ...env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  // extensions.json is VS Code's record of what is installed, with the folder each one went into.
  const installed = JSON.parse(readFileSync(join(extensionsDir, 'extensions.json'), 'utf8'));
  const entry = installed.find((e) => e.identifier?.id?.startsWith('lesion-lab.'));
  if (!entry) throw new Error(`code-server did not install ${vsix}:\n${out}`);
  const dir = join(extensionsDir, entry.relativeLocation ?? basename(entry.location.path ?? entry.location.fsPath));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return { id: `${pkg.publisher}.${pkg.name}`, dir, version: pkg.version };
}
