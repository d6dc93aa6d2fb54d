import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'dist-packages/**', 'node_modules/**', '.vscode-test/**', 'test-artifacts/**', '.e2e/**', 'bench/out/**', 'demo-workspace/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Plain JavaScript (the e2e suite, build scripts, the bin shim): the compiler does not check these, so
    // ESLint's own rules do — an undefined name or an unreachable branch is an error here too.
    files: ['**/*.{js,mjs,cjs}'],
    ...js.configs.recommended,
    languageOptions: { ...js.configs.recommended.languageOptions, globals: { ...globals.node } },
    rules: {
      ...js.configs.recommended.rules,
      'no-unused-vars': 'off', // the TypeScript rule below does it, with the project's `_` convention
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // CommonJS files: `require` is how they import.
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The extension tests that run inside a desktop VS Code (npm run test:vscode) are mocha suites.
    files: ['test/vscode/suite/**/*.test.cjs'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
  },
  {
    // ESLint's flat config must be a default export.
    files: ['eslint.config.mjs'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Code that Playwright runs inside the page (page.evaluate, frame.waitForFunction) sees the DOM.
    files: ['test/e2e/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Only the extension talks to VS Code: the backend runs as a plain Node CLI, webviews in a browser.
    files: ['src/backend/**', 'src/shared/**', 'webview/**', 'test/unit/**', 'test/backend/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: "Only src/extension may import 'vscode'." }] }],
    },
  },
);
