// Workbench interactions beyond the command palette, done the way a person does them: choosing in a
// quick pick, typing a path into the simple file dialog (code-server has no native dialog), clicking a
// notification's button, switching the colour theme. Selectors are VS Code 1.139's own class names.
import { runCommand, waitFor } from './vscode.mjs';

const DEFAULT_TIMEOUT = 30_000;

const quickInput = (page) => page.locator('.quick-input-widget');
const quickInputBox = (page) => page.locator('.quick-input-widget .quick-input-box input');

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits for a quick pick (not the command palette) to be open; returns its title and rows. */
export async function waitForQuickPick(page, timeout = DEFAULT_TIMEOUT) {
  return waitFor(async () => {
    if (!(await quickInput(page).isVisible())) return undefined;
    const value = await quickInputBox(page).inputValue();
    if (value.startsWith('>')) return undefined; // still the command palette
    const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    if (rows.length === 0) return undefined;
    const title = await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '');
    return { title, rows };
  }, 'a quick pick', timeout);
}

/** Picks the row whose label starts with `label` in the open quick pick (a click, like a person). */
export async function pickQuickPickItem(page, label, timeout = DEFAULT_TIMEOUT) {
  const { rows } = await waitForQuickPick(page, timeout);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}`, 'i') }),
  }).first();
  if ((await row.count()) === 0) throw new Error(`the quick pick has no item "${label}"; it offered: ${rows.join(' | ')}`);
  const title = await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '');
  await row.click();
  // Picked: the quick input closes, or asks the next question at once (another title).
  await waitFor(async () => !(await quickInput(page).isVisible())
    || (await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => title)) !== title, `the quick pick to take "${label}"`, timeout);
}

/**
 * Answers an open-folder dialog: code-server shows VS Code's simple file dialog (a quick input whose
 * box holds a path). Types the folder's path and clicks the dialog's accept button (its `openLabel`).
 */
export async function chooseFolderInDialog(page, folder, acceptLabel = 'Select', timeout = DEFAULT_TIMEOUT) {
  const box = quickInputBox(page);
  await waitFor(async () => (await quickInput(page).isVisible()) && (await box.inputValue()).startsWith('/'), 'the simple file dialog', timeout);
  const path = folder.endsWith('/') ? folder : `${folder}/`;
  await box.fill(path);
  // The dialog lists the folder's children once it has navigated there; then accept that folder.
  await waitFor(async () => (await box.inputValue()) === path
    && (await page.locator('.quick-input-list .monaco-list-row').count()) > 0, `the dialog to show ${path}`, timeout);
  const accept = page.locator('.quick-input-widget .monaco-button', { hasText: new RegExp(`^\\s*${escapeRegExp(acceptLabel)}\\s*$`) }).first();
  // While the dialog is still resolving what was typed it ignores the button; press it again then. Once it
  // accepts, the quick input closes — or shows the next question at once (its box then holds no path).
  const gone = async () => !(await quickInput(page).isVisible()) || !(await box.inputValue()).startsWith('/');
  await waitFor(async () => {
    if (await gone()) return true;
    await accept.click({ timeout: 2000 }).catch(() => undefined);
    return waitFor(gone, 'the dialog to close', 3000).then(() => true, () => false);
  }, `the dialog to accept ${path}`, timeout);
}

/** The notification toast whose text matches `pattern`, once it is shown. */
export async function waitForNotification(page, pattern, timeout = DEFAULT_TIMEOUT) {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: pattern }).first();
  await toast.waitFor({ state: 'visible', timeout });
  return toast;
}

/** Clicks the button labelled `action` on the toast matching `pattern`. */
export async function clickNotificationAction(page, pattern, action, timeout = DEFAULT_TIMEOUT) {
  const toast = await waitForNotification(page, pattern, timeout);
  await toast.locator('.monaco-button', { hasText: action }).first().click();
}

/** Closes every notification toast (they would cover the panels in screenshots). */
export async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => { /* none shown */ });
}

/**
 * Switches the colour theme through "Preferences: Color Theme", like a person; waits until it applies.
 * `label` is the name the picker shows ("Light Modern"; its settings id is "Default Light Modern").
 */
export async function switchColorTheme(page, label, timeout = DEFAULT_TIMEOUT) {
  await runCommand(page, 'Preferences: Color Theme', timeout);
  await waitForQuickPick(page, timeout);
  await quickInputBox(page).fill(label);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`, 'i') }),
  }).first();
  await row.waitFor({ state: 'visible', timeout }).catch(async () => {
    const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    throw new Error(`the colour theme picker has no "${label}"; it offered: ${rows.join(' | ')}`);
  });
  await row.click();
  await quickInput(page).waitFor({ state: 'hidden', timeout });
  const light = /light/i.test(label);
  await waitFor(async () => (await page.locator(light ? '.monaco-workbench.vs' : '.monaco-workbench.vs-dark').count()) > 0,
    `the workbench to use ${label}`, timeout);
}

/** Waits until a webview frame's body carries the theme kind's class (vscode-light / vscode-dark). */
export async function waitForWebviewTheme(frame, kind, timeout = DEFAULT_TIMEOUT) {
  await waitFor(async () => frame.evaluate((k) => document.body.classList.contains(`vscode-${k}`), kind), `the webview to switch to the ${kind} theme`, timeout);
}

/**
 * How much of each <canvas> in the frame is painted: for every canvas, its size, the share of
 * non-transparent pixels and the number of distinct colours (a blank or cleared chart has 0 and ≤ 1).
 */
export async function canvasPaint(frame) {
  return frame.evaluate(() => [...document.querySelectorAll('canvas')].map((canvas) => {
    const ctx = canvas.getContext('2d');
    const { width, height } = canvas;
    if (!ctx || width === 0 || height === 0) return { width, height, painted: 0, colours: 0, label: canvas.getAttribute('aria-label') };
    const data = ctx.getImageData(0, 0, width, height).data;
    let painted = 0;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      painted++;
      // Coarse buckets: anti-aliasing makes many near-identical shades.
      if (colours.size < 64) colours.add(`${data[i] >> 4},${data[i + 1] >> 4},${data[i + 2] >> 4}`);
    }
    return { width, height, painted: painted / (width * height), colours: colours.size, label: canvas.getAttribute('aria-label') };
  }));
}

/** The rows of an HTML table in a frame as arrays of cell texts (th and td). */
export async function tableRows(frame, selector) {
  return frame.locator(selector).evaluateAll((rows) => rows.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
}

/**
 * How well each chart's title (Chart.js draws it in the top strip of the canvas) stands out from the
 * page behind it: the largest luma difference, 0–1, between a title pixel (composited over the
 * body's background) and that background. Theme-coloured text on its own theme scores ≳ 0.5;
 * text coloured for the other theme scores ≲ 0.25.
 */
export async function chartTitleContrast(frame) {
  return frame.evaluate(() => {
    const luma = (r, g, b) => (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    const bg = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
    const bgLuma = luma(bg[0], bg[1], bg[2]);
    return [...document.querySelectorAll('canvas')].map((canvas) => {
      const ctx = canvas.getContext('2d');
      const strip = Math.max(1, Math.round(canvas.height * 0.08));
      const data = ctx.getImageData(0, 0, canvas.width, strip).data;
      let best = 0;
      for (let i = 0; i < data.length; i += 4) {
        const a = data[i + 3] / 255;
        if (a === 0) continue;
        const l = a * luma(data[i], data[i + 1], data[i + 2]) + (1 - a) * bgLuma;
        best = Math.max(best, Math.abs(l - bgLuma));
      }
      return { label: canvas.getAttribute('aria-label'), contrast: Number(best.toFixed(3)), background: `rgb(${bg.slice(0, 3).join(',')})` };
    });
  });
}

/**
 * Elements matching `selector` in a frame that stick out past the right edge of its viewport (a
 * chart that does not shrink with its panel, a control cut off), as "selector #i: right edge/width".
 */
export async function overflowing(frame, selector) {
  return frame.evaluate((sel) => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll(sel)]
      .map((el, i) => ({ i, right: Math.round(el.getBoundingClientRect().right), label: el.getAttribute('aria-label') ?? el.tagName.toLowerCase() }))
      .filter((e) => e.right > width + 1)
      .map((e) => `${e.label} reaches x=${e.right} in a ${width} px wide view`);
  }, selector);
}

/**
 * Whether a webview's page is wider than its view (so that it needs horizontal scrolling): undefined
 * when it fits, else how much wider and the innermost elements that stick out (tag.class "text…").
 */
export async function pageOverflow(frame) {
  return frame.evaluate(() => {
    const root = document.documentElement;
    const excess = root.scrollWidth - root.clientWidth;
    if (excess <= 0) return undefined;
    const out = [...document.body.querySelectorAll('*')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > root.clientWidth + 1 || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible');
    });
    const innermost = out.filter((el) => !out.some((other) => other !== el && el.contains(other)));
    const name = (el) => `${el.tagName.toLowerCase()}${el.classList.length ? `.${[...el.classList].join('.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}…"`;
    return `${excess} px wider than the panel; sticking out: ${innermost.slice(0, 3).map(name).join(', ') || 'nothing measurable'}`;
  });
}

/** Editor groups shown now (a maximised group hides the others). */
async function visibleEditorGroups(page) {
  return page.locator('.part.editor .editor-group-container').evaluateAll((els) => els.filter((el) => el.getBoundingClientRect().width > 0).length);
}

/**
 * Maximises the active editor group (`on`) or shows all groups again, through "View: Toggle Maximize
 * Editor Group"; toggles only when the workbench is not already in that state, so it can be repeated.
 */
let maximisedByUs = false;

export async function setEditorGroupMaximized(page, on, timeout = DEFAULT_TIMEOUT) {
  // With a single editor group there is nothing to maximise (and no toggle command to undo).
  if (!on && !maximisedByUs) return;
  const done = async () => (on ? (await visibleEditorGroups(page)) === 1 : (await visibleEditorGroups(page)) > 1);
  if (await done()) {
    if (on) maximisedByUs = false;
    return;
  }
  await runCommand(page, 'View: Toggle Maximize Editor Group', timeout);
  await waitFor(done, on ? 'the editor group to be maximised' : 'every editor group to be shown again', timeout);
  maximisedByUs = on;
}

/**
 * Pictures a whole webview panel, not only its first screen: the window is made tall enough for the
 * panel's page to fit (up to 7,000 px more), pictured, then put back. Maximise the panel's editor group
 * first for a readable width. Returns the file written.
 */
export async function screenshotWholePanel(t, frame, name) {
  const page = t.page;
  const before = page.viewportSize();
  const overflow = () => frame.evaluate(() => document.documentElement.scrollHeight - document.documentElement.clientHeight);
  let extra = Math.min(7000, Math.max(0, await overflow()));
  try {
    // Charts and thumbnails may change the page's height once it is taller: grow again until it fits.
    for (let i = 0; i < 3 && extra > 0; i++) {
      await page.setViewportSize({ width: before.width, height: before.height + extra });
      await page.waitForTimeout(400); // the workbench lays out, charts follow on the next frame
      const more = await overflow();
      if (more <= 0) break;
      extra = Math.min(7000, extra + more);
    }
    return await t.screenshot(frame, name);
  } finally {
    if (extra > 0) {
      await page.setViewportSize(before);
      await page.waitForTimeout(300);
    }
  }
}
