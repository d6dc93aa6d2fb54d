import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { programFor, switchesWithoutAssertNever } from './exhaustiveSwitch';

const repo = path.resolve(__dirname, '../../..');

describe('architecture: every switch over a union ends in assertNever', function () {
  // Type-checking the projects takes a few seconds each on a busy 2-core machine.
  this.timeout(180_000);

  it('flags a switch with no default, or a default that does not call assertNever, and passes the exhaustive one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-switch-'));
    try {
      await fs.writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2022' }, include: ['*.ts'] }));
      await fs.writeFile(
        path.join(dir, 'x.ts'),
        [
          'declare function assertNever(v: never): never;',
          "type Msg = { type: 'a' } | { type: 'b' };",
          'export function none(m: Msg): number { switch (m.type) { case "a": return 1; case "b": return 2; } }',
          'export function quiet(m: Msg): number { switch (m.type) { case "a": return 1; default: return 0; } }',
          'export function good(m: Msg): number { switch (m.type) { case "a": return 1; case "b": return 2; default: return assertNever(m); } }',
          'export function open(s: string): number { switch (s) { case "a": return 1; default: return 0; } }',
        ].join('\n'),
      );
      const found = switchesWithoutAssertNever(programFor(path.join(dir, 'tsconfig.json')), dir);
      assert.deepEqual(
        found.map((f) => [f.line, f.problem]),
        [
          [3, 'has no default clause'],
          [4, 'its default clause does not call assertNever'],
        ],
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  for (const project of ['src/backend', 'src/extension', 'webview']) {
    it(`${project}`, () => {
      const program = programFor(path.join(repo, project, 'tsconfig.json'));
      const root = project === 'webview' ? path.join(repo, 'webview') : path.join(repo, 'src');
      const found = switchesWithoutAssertNever(program, root).map((f) => `${path.relative(repo, f.file)}:${f.line} switch (${f.discriminant}) ${f.problem}`);
      assert.deepEqual(found, []);
    });
  }
});
