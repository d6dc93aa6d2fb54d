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
  await parkMouse(typeof target.page === 'function' ? target.page() : target);
  if ('frameElement' in target) {
    // A webview's content lives in a nested frame; what it shows is its <iframe> element's box.
    await (await target.frameElement()).screenshot({ path });
  } else {
    await target.screenshot({ path });
  }
  return path;
}

/**
 * Moves the pointer off whatever it last clicked, so that no tooltip or hover covers the picture:
 * to the empty middle of the status bar.
 */
async function parkMouse(page) {
  const box = await page.locator('.part.statusbar').boundingBox({ timeout: 1000 }).catch(() => null);
  if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // Tooltips fade out; give them a moment.
  await page.waitForTimeout(300);
}
