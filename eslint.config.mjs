import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', '.vscode-test/**', 'test-artifacts/**', '.e2e/**', 'bench/out/**', '**/*.mjs', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Only the extension talks to VS Code: the backend runs as a plain Node CLI, webviews in a browser.
    files: ['src/backend/**', 'src/shared/**', 'webview/**', 'test/unit/**', 'test/backend/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: "Only src/extension may import 'vscode'." }] }],
    },
  },
);
