// Bundles the three sides with esbuild: the extension host code, the backend (its own entry, forked
// as a child process) and one script per webview app. `--watch` rebuilds on change.
import { build, context } from 'esbuild';
import { readFileSync, readdirSync, existsSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', define: { __LESION_LAB_VERSION__: JSON.stringify(pkg.version) } };

const webviewApps = readdirSync('webview', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`webview/${d.name}/main.ts`))
  .map((d) => d.name);

const configs = [
  // Native and wasm-carrying packages stay external: they are loaded from node_modules at run time.
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: ['src/backend/cli.ts'], outfile: 'dist/backend/cli.js', platform: 'node', format: 'cjs', target: 'node20', packages: 'external' },
  {
    ...common,
    entryPoints: Object.fromEntries(webviewApps.map((n) => [n, `webview/${n}/main.ts`])),
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

if (watch) {
  for (const c of configs) await (await context(c)).watch();
  console.log('watching…');
} else {
  await Promise.all(configs.map((c) => build(c)));
  console.log(`built extension, backend and ${webviewApps.length} webview app(s): ${webviewApps.join(', ')}`);
}
