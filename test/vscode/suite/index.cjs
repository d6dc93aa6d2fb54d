// Entry point that VS Code's extension host calls with --extensionTestsPath: runs the mocha tests in
// this folder inside the editor, where `require('vscode')` is the real API.
const { join } = require('node:path');
const { readdirSync } = require('node:fs');

async function run() {
  // mocha 12 is an ES module; import() works in every extension host (require(esm) only in newer ones).
  const { default: Mocha } = await import('mocha');
  const mocha = new Mocha({ ui: 'bdd', color: true, timeout: 120_000 });
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.cjs')).sort()) mocha.addFile(join(__dirname, file));
  await mocha.loadFilesAsync();
  const failures = await new Promise((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}

module.exports = { run };
