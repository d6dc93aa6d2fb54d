// `npm run test:vscode`: the extension's in-editor suite (test/vscode/suite/) inside a desktop VS Code
// via @vscode/test-electron. That package downloads VS Code from update.code.visualstudio.com, so this
// needs a machine that reaches it, or a local VS Code: VSCODE_EXECUTABLE_PATH=/path/to/code. On a Linux
// machine without a display run it under xvfb-run. Offline CI uses the code-server suite instead
// (npm run test:e2e, test/e2e/).
import { runTests } from '@vscode/test-electron';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const workspace = mkdtempSync(join(tmpdir(), 'lesion-lab-vscode-test-'));

try {
  const exitCode = await runTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(repoRoot, 'test', 'vscode', 'suite', 'index.cjs'),
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH || undefined,
    version: process.env.VSCODE_VERSION || 'stable',
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    extensionTestsEnv: { LESION_LAB_TEST_WORKSPACE: workspace },
  });
  process.exitCode = exitCode;
} catch (err) {
  console.error(`test:vscode: ${err?.message ?? err}`);
  console.error('If VS Code cannot be downloaded here, set VSCODE_EXECUTABLE_PATH to a local VS Code, or run npm run test:e2e (code-server, offline).');
  process.exitCode = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
