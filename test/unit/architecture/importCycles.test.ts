import assert from 'node:assert/strict';
import path from 'node:path';
import { findCycles, importGraph, runtimeImports, sourceFiles } from './importGraph';

const repo = path.resolve(__dirname, '../../..');

describe('architecture: no import cycles', () => {
  it('finds the kinds of import that load a module at run time, and only those', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from './b';",
      "import { type C } from './c';",
      "import d, { type D } from './d';",
      "export { e } from './e';",
      "export type { F } from './f';",
      "async function g() { return import('./g'); }",
      "import fs from 'node:fs';",
    ].join('\n');
    assert.deepEqual(runtimeImports('x.ts', text), ['./a', './d', './e', './g']);
  });

  it('reports a cycle, including one closed by a dynamic import', () => {
    const graph = new Map([
      ['job.ts', ['commands.ts']],
      ['commands.ts', ['train.ts']],
      ['train.ts', ['job.ts']],
      ['leaf.ts', []],
    ]);
    assert.deepEqual(findCycles(graph), [['job.ts', 'commands.ts', 'train.ts', 'job.ts']]);
    assert.deepEqual(findCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
  });

  for (const room of ['src', 'webview']) {
    it(`${room}/ has none`, () => {
      const files = sourceFiles(path.join(repo, room));
      assert.ok(files.length > 10, `found only ${files.length} files under ${room}/`);
      const cycles = findCycles(importGraph(files)).map((c) => c.map((f) => path.relative(repo, f)).join(' → '));
      assert.deepEqual(cycles, []);
    });
  }
});
