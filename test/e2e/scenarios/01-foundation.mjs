// The extension activates in a real workbench, its Training view shows the engine the backend
// chooses on this machine, and "Lesion Lab: Show Engines" lists every engine with its availability.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensionHostLogs } from '../lib/diagnostics.mjs';
import { node24Bin, softwareVulkanEnv } from '../lib/paths.mjs';
import { findWebviewFrame, openViewContainer, notifications, runCommand, textOf, waitFor, waitForEditor, waitForText } from '../lib/vscode.mjs';

export const title = 'Training view shows the selected engine; Show Engines lists all engines';

const ENGINES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];
const ENGINE_WORD = /(?<![\w-])(tfjs-node-gpu|tfjs-node|webgpu|wasm|cpu)(?![\w-])/;

/** What `lesion-lab engines` selects here, on the Node that the extension host (and its backend) runs on. */
function selectedByCli(extensionDir) {
  // The same environment as code-server's extension host: with the software Vulkan driver where setup.sh installed it.
  const out = execFileSync(node24Bin, [join(extensionDir, 'dist', 'backend', 'cli.js'), 'engines', '--json'], { encoding: 'utf8', env: { ...process.env, ...softwareVulkanEnv() } });
  const event = out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'engines/didDetect');
  assert.ok(event, `lesion-lab engines --json printed no engines/didDetect event:\n${out}`);
  return event;
}

export async function run(t) {
  const { page } = t;
  const detected = selectedByCli(t.extension.dir);
  const selected = detected.selected.engine;

  await openViewContainer(page, 'Lesion Lab');
  const view = await findWebviewFrame(page, { text: ENGINE_WORD }, 60_000);
  // The view may first show "detecting…"; the engine name arrives with the backend's answer.
  const viewText = await waitForText(view, new RegExp(`(?<![\\w-])${selected}(?![\\w-])`), 60_000);
  assert.match(viewText, /engine/i, 'the Training view labels the engine');
  // With a Vulkan driver (lavapipe here, in CI too) the view names the WebGPU adapter it found.
  const webgpu = detected.engines.find((e) => e.name === 'webgpu');
  if (webgpu?.available) await waitForText(view, webgpu.device.split(' ')[0]);
  else assert.fail(`webgpu should be available on lavapipe: ${webgpu?.reason}`);
  await t.screenshot(page, 'window');
  await t.screenshot(view, 'training-view');

  await runCommand(page, 'Lesion Lab: Show Engines');
  await waitForEditor(page, 'Lesion Lab Engines');
  // The document may be re-rendered once detection finishes: wait until it names every engine.
  const doc = await waitFor(async () => {
    const text = await textOf(page.locator('.editor-group-container.active .monaco-editor .view-lines').first());
    return ENGINES.every((name) => new RegExp(`(?<![\\w-])${name}(?![\\w-])`).test(text)) ? text : undefined;
  }, 'the Engines editor to list every engine', 60_000);
  // An engine's row is a line whose first engine name is that engine (summary lines such as
  // "auto selects: wasm (… webgpu: no Vulkan …)" are not rows).
  const rows = doc.split('\n').filter((l) => !/^\s*(auto|selected|setting)/i.test(l));
  for (const info of detected.engines) {
    const line = rows.find((l) => l.match(ENGINE_WORD)?.[1] === info.name);
    assert.ok(line, `the Engines editor has no line for ${info.name}:\n${doc}`);
    // Each engine's line says whether it is available, the way the CLI decided.
    const says = /unavailable|not available|✗/i.test(line) ? false : /available|✓/i.test(line) ? true : undefined;
    assert.equal(says, info.available, `line for ${info.name} should say ${info.available ? 'available' : 'unavailable'}: "${line}"`);
  }
  assert.deepEqual(detected.engines.map((e) => e.name).sort(), [...ENGINES].sort(), 'the CLI knows every engine');
  await t.screenshot(page, 'engines-editor');

  // Nothing went wrong on the way: the extension host logged no failed activation or error of ours.
  const userDataDir = join(t.runDir, 'user');
  await waitFor(() => extensionHostLogs(userDataDir, t.extension.id).length > 0, 'the extension host log', 10_000);
  const hostLog = extensionHostLogs(userDataDir, t.extension.id)
    .filter((f) => /exthost\.log$/i.test(f) && existsSync(f))
    .map((f) => readFileSync(f, 'utf8')).join('\n');
  const ours = hostLog.split('\n').filter((l) => l.includes(t.extension.id) && /\[error\]|failed/i.test(l));
  assert.deepEqual(ours, [], 'extension host errors about the extension');
  const toasts = await notifications(page);
  assert.ok(!toasts.some((n) => /lesion lab.*(error|failed)/is.test(n)), `no error notification: ${toasts.join(' | ')}`);
}
