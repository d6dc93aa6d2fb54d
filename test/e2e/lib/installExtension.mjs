// Installs the extension unpacked into a code-server extensions folder, the way a .vsix would lay it
// out: `<publisher>.<name>-<version>/` with the manifest, the bundles and the runtime packages.
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

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
