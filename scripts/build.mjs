// Bundles the three sides with esbuild: the extension host code, the backend (its own entry, forked
// as a child process) and one script per webview app. `--watch` rebuilds on change.
//
// `--production [--out DIR]` is the packaging build (scripts/package.mjs): minified, no source maps,
// and the backend bundles its pure-JS dependencies (TF.js, yauzl) so that a .vsix carries only the
// packages that must stay files: sharp (native), webgpu (dawn.node), h5wasm (ESM + wasm). The wasm
// engine's .wasm files are copied next to the backend, to DIR/backend/wasm/ (engines/bundled.ts).
import { execFileSync } from 'node:child_process';
import { build, context } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const args = process.argv.slice(2);
const watch = args.includes('--watch');
const production = args.includes('--production');
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args[outIndex + 1] : 'dist';
if (!out) throw new Error('--out needs a folder');

/** Packages the production backend leaves to node_modules: they load native code or wasm from their own files. */
const RUNTIME_PACKAGES = ['sharp', 'webgpu', 'h5wasm'];
/**
 * The optional engines "Install GPU Engine…" puts into global storage later: never bundled, and
 * required only through createRequire(…) with a computed path (engines/detect.ts, engines/load.ts).
 */
const LATER_ENGINES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
// tfjs-backend-wasm's builds: plain, SIMD, and threaded SIMD (used with --threads > 1, engines/wasmThreads.ts).
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
// The threaded build's standalone factory, which its pthread workers load (engines/wasmThreads.ts).
const WASM_WORKER_FILES = ['tfjs-backend-wasm-threaded-simd.js'];

const require = createRequire(import.meta.url);
const versionOf = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
/** Name → version of every runtime dependency compiled into the production backend. */
const bundledPackages = Object.fromEntries(Object.keys(pkg.dependencies)
  .filter((name) => !RUNTIME_PACKAGES.includes(name))
  .map((name) => [name, versionOf(name)]));

/** The commit this build is made from (`-dirty` with uncommitted changes), recorded in every run's config.json; '' outside a checkout. */
function sourceRevision() {
  try {
    const git = (...a) => execFileSync('git', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return '';
  }
}

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // --watch keeps one build context across commits: leave the revision to the backend to ask git at run time.
  define: { __LESION_LAB_VERSION__: JSON.stringify(pkg.version), ...(watch ? {} : { __LESION_LAB_REVISION__: JSON.stringify(sourceRevision()) }) },
};

const webviewApps = readdirSync('webview', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`webview/${d.name}/main.ts`))
  .map((d) => d.name);

const backend = production
  ? {
    ...common,
    external: [...RUNTIME_PACKAGES, ...RUNTIME_PACKAGES.map((p) => `${p}/*`), ...LATER_ENGINES],
    define: { ...common.define, __LESION_LAB_BUNDLED__: JSON.stringify(bundledPackages) },
  }
  // Development: every package is loaded from node_modules at run time (fast rebuilds).
  : { ...common, packages: 'external' };

const configs = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: `${out}/extension.js`, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...backend, entryPoints: ['src/backend/cli.ts'], outfile: `${out}/backend/cli.js`, platform: 'node', format: 'cjs', target: 'node20' },
  {
    ...common,
    entryPoints: Object.fromEntries(webviewApps.map((n) => [n, `webview/${n}/main.ts`])),
    outdir: `${out}/webview`,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

function copyWasmFiles() {
  const from = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const to = join(out, 'backend', 'wasm');
  mkdirSync(to, { recursive: true });
  for (const f of WASM_FILES) copyFileSync(join(from, f), join(to, f));
  const wasmOut = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  for (const f of WASM_WORKER_FILES) copyFileSync(join(wasmOut, f), join(to, f));
}

if (watch) {
  for (const c of configs) await (await context(c)).watch();
  console.log('watching…');
} else {
  await Promise.all(configs.map((c) => build(c)));
  if (production) copyWasmFiles();
  const mode = production ? ` (production, into ${out}; bundled: ${Object.keys(bundledPackages).join(', ')})` : '';
  console.log(`built extension, backend and ${webviewApps.length} webview app(s): ${webviewApps.join(', ')}${mode}`);
}
