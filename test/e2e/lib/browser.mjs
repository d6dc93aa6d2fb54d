// Debian's Chromium driven by playwright-core (no browser download), loaded from the tool cache.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromiumBin, playwrightDir } from './paths.mjs';

export async function launchChromium(profileDir) {
  const require = createRequire(join(playwrightDir, 'package.json'));
  const { chromium } = require(playwrightDir);
  // The profile is Playwright's persistent-context folder: passing --user-data-dir in args is refused.
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumBin,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
