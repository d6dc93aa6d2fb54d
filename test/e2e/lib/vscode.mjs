// Small helpers that drive the VS Code workbench the way a person does: the command palette, the
// activity bar, editor tabs and webviews. Selectors are the workbench's own class names (VS Code 1.139).

const DEFAULT_TIMEOUT = 30_000;

/** Polls `probe` until it returns a truthy value; the error names what was awaited. */
export async function waitFor(probe, what, timeout = DEFAULT_TIMEOUT, interval = 250) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err; // frames detach and re-attach while views load
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Text of a page, frame or locator as rendered, with the editor's non-breaking spaces made plain. */
export async function textOf(target) {
  const isLocator = typeof target.first === 'function'; // pages and frames have no first()
  const text = isLocator ? await target.innerText() : await target.locator('body').innerText();
  return text.replace(/\u00a0/g, ' ');
}

function matches(text, pattern) {
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

/** Waits until the target's text contains `pattern` (string or RegExp); returns the text. */
export async function waitForText(target, pattern, timeout = DEFAULT_TIMEOUT) {
  let last = '';
  try {
    return await waitFor(async () => {
      last = await textOf(target);
      return matches(last, pattern) ? last : undefined;
    }, `text ${pattern}`, timeout);
  } catch (err) {
    err.message += `; the text was:\n${last.slice(0, 2000)}`;
    throw err;
  }
}

export async function openWorkbench(page, url, timeout = 60_000) {
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout });
  // The activity bar appears once the layout is done and contributions are registered.
  await page.locator('.activitybar').first().waitFor({ timeout });
}

/** Runs a command by its palette title (e.g. "Lesion Lab: Show Engines"): F1, type, pick the exact row. */
export async function runCommand(page, title, timeout = DEFAULT_TIMEOUT) {
  const input = page.locator('.quick-input-widget input');
  // The palette's fuzzy filter can miss a typed trailing "…"; the exact row match below still checks it.
  const typed = `>${title.replace(/…$/, '')}`;
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`, 'i') }),
  });
  // An editor that is still opening (e.g. from Go to File just before) can take the focus and close the palette
  // between finding the row and clicking it (seen under load): then open it again.
  for (let attempt = 1; ; attempt++) {
    // Open it and type; while another quick input is still closing, the box can be briefly inert: try again.
    await waitFor(async () => {
      await page.keyboard.press('Escape');
      await page.locator('.monaco-workbench').click({ position: { x: 1150, y: 10 } }); // empty title bar: focus without side effects
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 3000 });
      return input.fill(typed, { timeout: 3000 }).then(() => true, () => false);
    }, 'the command palette', timeout);
    try {
      await row.first().waitFor({ state: 'visible', timeout });
    } catch {
      const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
      throw new Error(`command "${title}" is not in the command palette; it offered: ${rows.join(' | ') || 'nothing'}`);
    }
    try {
      await row.first().click({ timeout: 5000 });
      break;
    } catch (err) {
      if (attempt >= 3 || (await input.isVisible())) throw err;
    }
  }
  // Done when the palette closes, or when the command opened a quick pick of its own (the box then
  // no longer holds the ">command" text).
  await waitFor(async () => !(await input.isVisible()) || !(await input.inputValue()).startsWith('>'), `"${title}" to run`, timeout)
    .catch(() => { /* still shown: the caller's next step says what it expected */ });
}

/** Opens a view container from the activity bar by its title (falls back to "View: Show <title>"). */
export async function openViewContainer(page, title, timeout = DEFAULT_TIMEOUT) {
  const item = page.locator(`.activitybar .action-item a[aria-label*="${title}"]`).first();
  try {
    await item.waitFor({ state: 'visible', timeout });
  } catch {
    await runCommand(page, `View: Show ${title}`, timeout);
    return;
  }
  // Clicking the item of the container already shown would close the side bar.
  const selected = await item.locator('xpath=..').getAttribute('aria-selected');
  if (selected !== 'true') await item.click();
  await page.locator('.part.sidebar .composite.title', { hasText: new RegExp(title, 'i') }).first().waitFor({ timeout });
}

/**
 * Finds the frame holding a webview's content: the workbench nests it two frames deep
 * (…/webview/browser/pre/index.html → inner frame), and frame names are unreliable, so match by content.
 * @param {{ selector?: string, text?: string | RegExp }} by
 * @returns {Promise<import('playwright-core').Frame>}
 */
export async function findWebviewFrame(page, by, timeout = DEFAULT_TIMEOUT) {
  return waitFor(async () => {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame() || frame.isDetached()) continue;
      if (by.selector && (await frame.locator(by.selector).count()) === 0) continue;
      if (by.text && !matches(await textOf(frame).catch(() => ''), by.text)) continue;
      return frame;
    }
    return undefined;
  }, `a webview showing ${by.selector ?? ''}${by.text ?? ''}`, timeout);
}

/** The title of the active editor tab. */
export async function activeEditorTitle(page) {
  return (await page.locator('.tabs-container .tab.active .label-name').first().innerText()).trim();
}

/** Waits for an editor tab titled `title` to be active and returns the text it shows. */
export async function waitForEditor(page, title, timeout = DEFAULT_TIMEOUT) {
  await waitFor(async () => (await activeEditorTitle(page)) === title, `an editor tab titled "${title}"`, timeout);
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  await lines.waitFor({ timeout });
  return textOf(lines);
}

/** Notification toasts currently shown, as text. */
export async function notifications(page) {
  return page.locator('.notifications-toasts .notification-toast').allInnerTexts();
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
