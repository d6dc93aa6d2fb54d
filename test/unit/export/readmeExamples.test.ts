import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// The README shows these files; test/backend/export.test.ts runs them. They must not drift apart.
describe('README: "Using your model elsewhere" shows the example files that the tests run', () => {
  const root = path.resolve(__dirname, '../../..');
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const [file, fence] of [['docs/examples/predict-onnx.mjs', 'js'], ['docs/examples/predict-onnx.py', 'python']] as const) {
    it(`${file} appears verbatim in a \`\`\`${fence} block`, () => {
      const text = readFileSync(path.join(root, file), 'utf8');
      assert.ok(readme.includes('```' + fence + '\n' + text + '```'), `README.md lacks the current ${file}`);
      assert.ok(text.split('\n').length <= 16, 'a short example');
    });
  }
});
