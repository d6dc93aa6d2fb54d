/** A small synthetic dataset, prepared, through the real CLI: `<dir>/demo` (HAM10000 layout) and `<dir>/prepared`. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCli } from './cli';

export async function preparedDemoDataset(dir: string, perClass: number, size = 64): Promise<{ demo: string; prepared: string }> {
  const demo = path.join(dir, 'demo');
  const prepared = path.join(dir, 'prepared');
  const d = await runCli(['demo-data', '--out', demo, '--per-class', String(perClass), '--size', String(size), '--json']);
  assert.equal(d.code, 0, d.stderr);
  const p = await runCli(['prepare', '--data', demo, '--out', prepared, '--json']);
  assert.equal(p.code, 0, p.stderr);
  return { demo, prepared };
}
