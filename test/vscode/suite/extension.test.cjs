// In a real VS Code: the extension activates and every command its manifest contributes is registered.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const extensionId = `${manifest.publisher}.${manifest.name}`;

describe('Lesion Lab in VS Code', () => {
  it('activates without error', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not installed in the test instance`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers every command the manifest contributes', async () => {
    const contributed = (manifest.contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'contributed but not registered by activate()');
  });

  it('shows the Training view when asked', async () => {
    const containers = manifest.contributes?.viewsContainers?.activitybar ?? [];
    const container = containers.find((c) => /lesion lab/i.test(c.title));
    assert.ok(container, 'no activity-bar container titled Lesion Lab');
    const view = (manifest.contributes?.views?.[container.id] ?? []).find((v) => v.type === 'webview' && /training/i.test(v.name));
    assert.ok(view, 'no Training webview view in the Lesion Lab container');
    // `<view id>.focus` is the command VS Code registers for every contributed view; it rejects if the
    // view cannot be shown.
    await vscode.commands.executeCommand(`${view.id}.focus`);
  });
});
