import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { sourceFiles } from './importGraph';

const repo = path.resolve(__dirname, '../../..');

/** Every JavaScript file of ours: the e2e suite, scripts, the bin shim, the desktop VS Code suite. */
function javascriptFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...javascriptFiles(p));
    else if (/\.(m|c)?js$/.test(name)) out.push(p);
  }
  return out;
}

describe('architecture: npm run lint covers every source file', () => {
  it('no TypeScript or JavaScript file of ours is ignored, and JavaScript gets the undefined-name check', async () => {
    const eslint = new ESLint({ cwd: repo });
    const files = [
      ...['src', 'webview', 'test', 'bench'].flatMap((d) => sourceFiles(path.join(repo, d))),
      ...['test/e2e', 'test/vscode', 'scripts', 'bin'].flatMap((d) => javascriptFiles(path.join(repo, d))),
    ];
    assert.ok(files.some((f) => f.endsWith('03-workflow.mjs')) && files.some((f) => f.endsWith('build.mjs')));
    const ignored: string[] = [];
    for (const f of files) if (await eslint.isPathIgnored(f)) ignored.push(path.relative(repo, f));
    assert.deepEqual(ignored, []);
    const config = (await eslint.calculateConfigForFile(path.join(repo, 'test/e2e/scenarios/03-workflow.mjs'))) as { rules: Record<string, unknown[]> };
    assert.equal(config.rules['no-undef']?.[0], 2, 'no-undef is an error in .mjs');
  });
});
