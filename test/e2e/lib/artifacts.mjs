// Screenshots a person can look at after a run: test-artifacts/e2e/<name>.png.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir } from './paths.mjs';

/**
 * @param {import('playwright-core').Page | import('playwright-core').Frame | import('playwright-core').Locator} target
 *   a page (the whole window), a webview frame (just that view) or a locator (one element)
 * @param {string} name file name without extension
 * @returns {Promise<string>} the file written
 */
export async function screenshot(target, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  if ('frameElement' in target) {
    // A webview's content lives in a nested frame; what it shows is its <iframe> element's box.
    await (await target.frameElement()).screenshot({ path });
  } else {
    await target.screenshot({ path });
  }
  return path;
}
