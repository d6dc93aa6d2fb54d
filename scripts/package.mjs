// Builds installable .vsix files, one per platform, into dist-packages/:
//
//   npm run package                          linux-x64, linux-arm64, darwin-arm64, darwin-x64, win32-x64
//   npm run package -- --target linux-x64    only these (repeat --target, or give a comma list)
//   npm run package -- --keep-stage          leave the staging folders in the temp dir to look at
//
// A user installs a .vsix without npm: no install script runs, so everything the extension loads has to
// be inside, built for that platform. The production build (scripts/build.mjs --production) bundles
// TF.js and yauzl into dist/backend/cli.js and puts the wasm engine's .wasm files beside it; the packages
// that must stay files go into dist/node_modules/, where Node finds them from dist/backend/cli.js:
// sharp with only the target's @img binaries (other platforms' come from `npm pack`, at the versions
// the installed sharp pins), webgpu with only the target's dawn.node, and h5wasm's Node build.
// (vsce's file walk skips a top-level node_modules when it is told --no-dependencies; dist/node_modules
// is an ordinary folder to it.)
//
// What else goes in is decided by .vscodeignore at the top of the checkout, read with vsce's own rules: the
// checkout's files that it lets through are copied into the staging folder (package.json stripped of what only
// a checkout uses; dist/ replaced by the production build), and vsce packages that folder with the same file.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const outDir = join(repoRoot, 'dist-packages');
const cacheDir = process.env.LESION_LAB_PACKAGE_CACHE || join(homedir(), '.cache', 'lesion-lab', 'packages');
const require = createRequire(join(repoRoot, 'package.json'));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

/** Per VS Code target: the @img packages sharp loads there, and webgpu's folder of prebuilt Dawn. */
const TARGETS = {
  'linux-x64': { img: ['sharp-linux-x64', 'sharp-libvips-linux-x64'], dawn: 'linux-x64' },
  'linux-arm64': { img: ['sharp-linux-arm64', 'sharp-libvips-linux-arm64'], dawn: 'linux-arm64' },
  'darwin-arm64': { img: ['sharp-darwin-arm64', 'sharp-libvips-darwin-arm64'], dawn: 'darwin-universal' },
  'darwin-x64': { img: ['sharp-darwin-x64', 'sharp-libvips-darwin-x64'], dawn: 'darwin-universal' },
  // sharp's Windows build carries libvips' DLLs itself.
  'win32-x64': { img: ['sharp-win32-x64'], dawn: 'win32-x64' },
};

const ignoreFile = join(repoRoot, '.vscodeignore');

// Type declarations, source maps and the docs of the packages: nothing at run time reads them.
const DEV_ONLY = /(\.d\.[cm]?ts|\.map|\.md)$/i;

function parseArgs(argv) {
  const targets = [];
  let keepStage = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') targets.push(...String(argv[++i] ?? '').split(',').filter(Boolean));
    else if (argv[i].startsWith('--target=')) targets.push(...argv[i].slice(9).split(',').filter(Boolean));
    else if (argv[i] === '--keep-stage') keepStage = true;
    else throw new Error(`unknown argument ${argv[i]}; use --target <${Object.keys(TARGETS).join('|')}> and --keep-stage`);
  }
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t}; choose from ${Object.keys(TARGETS).join(', ')}`);
  return { targets: targets.length ? [...new Set(targets)] : Object.keys(TARGETS), keepStage };
}

const packageDir = (name, from = repoRoot) => {
  // Walk up node_modules folders the way require() does; package.json may be hidden by "exports".
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked from ${from}); run npm ci`);
  }
};
const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Copies a package (only `keep` paths, if given) and its dependencies, recursively, into nodeModules. */
function copyPackage(name, nodeModules, { from = repoRoot, keep, skip = DEV_ONLY } = {}) {
  const src = packageDir(name, from);
  const dest = join(nodeModules, ...name.split('/'));
  if (existsSync(dest)) return;
  const wanted = keep ? ['package.json', ...keep] : [''];
  for (const part of wanted) {
    const from_ = join(src, part);
    if (!existsSync(from_)) continue;
    cpSync(from_, join(dest, part), {
      recursive: true,
      filter: (f) => {
        const rel = relative(src, f);
        return rel === '' || rel === 'package.json' || (!rel.split(sep).includes('node_modules') && !skip.test(rel));
      },
    });
  }
  for (const dep of Object.keys(readManifest(src).dependencies ?? {})) copyPackage(dep, nodeModules, { from: src });
}

/**
 * A foreign platform's @img package at the exact version sharp pins: from node_modules when npm
 * installed it (the build machine's own platform), else `npm pack` from the registry, cached.
 */
function imgPackage(name, version) {
  const installed = join(repoRoot, 'node_modules', '@img', name);
  if (existsSync(join(installed, 'package.json')) && readManifest(installed).version === version) return installed;
  const dir = join(cacheDir, '@img', `${name}@${version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  const tmp = mkdtempSync(join(tmpdir(), 'lesion-lab-pack-'));
  try {
    console.log(`  npm pack @img/${name}@${version}`);
    const file = execFileSync('npm', ['pack', `@img/${name}@${version}`, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['-xzf', join(tmp, file), '-C', tmp]);
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(tmp, 'package'), dir, { recursive: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The checkout's files that .vscodeignore lets into the package, by vsce's own reading of it; without
 * package.json (staged stripped) and dist/ (a development build; the package gets the production one).
 */
async function checkoutFiles() {
  if (!existsSync(ignoreFile)) throw new Error(`${ignoreFile} is missing: it lists what stays out of the package`);
  const { listFiles, PackageManager } = require('@vscode/vsce');
  const files = await listFiles({ cwd: repoRoot, packageManager: PackageManager.None, ignoreFile });
  return files.filter((f) => f !== 'package.json' && !f.startsWith('dist/')).sort();
}

function stageTarget(target, buildDist, stage, files) {
  const { img, dawn } = TARGETS[target];
  mkdirSync(stage, { recursive: true });
  // The manifest without what only a checkout uses (vsce would run a vscode:prepublish script).
  const { scripts: _s, devDependencies: _d, dependencies: _r, allowScripts: _a, bin: _b, ...manifest } = pkg;
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of files) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    cpSync(join(repoRoot, f), join(stage, f));
  }
  cpSync(buildDist, join(stage, 'dist'), { recursive: true });

  const nodeModules = join(stage, 'dist', 'node_modules');
  // sharp's JavaScript (it picks @img/sharp-<platform> at run time) and its small pure-JS dependencies;
  // not its C++ sources or install script, which only a build from source uses.
  copyPackage('sharp', nodeModules, { keep: ['LICENSE', 'dist'] });
  const sharpOptional = readManifest(packageDir('sharp')).optionalDependencies;
  for (const name of img) {
    const version = sharpOptional[`@img/${name}`];
    if (!version) throw new Error(`sharp ${readManifest(packageDir('sharp')).version} has no optional dependency @img/${name}`);
    cpSync(imgPackage(name, version), join(nodeModules, '@img', name), { recursive: true, filter: (f) => !DEV_ONLY.test(f) });
  }
  // webgpu: index.js loads dist/<platform>-<arch>/dawn.node (darwin: the universal build); its
  // dependencies are types and a debug logger that index.js does not load.
  const webgpu = packageDir('webgpu');
  for (const f of ['package.json', 'index.js', 'LICENSE', join('dist', dawn)]) {
    if (existsSync(join(webgpu, f))) cpSync(join(webgpu, f), join(nodeModules, 'webgpu', f), { recursive: true });
  }
  // h5wasm: the Node build only (ESM, the wasm inlined in hdf5_util.js).
  copyPackage('h5wasm', nodeModules, { keep: ['LICENSE.txt', join('dist', 'node')] });
}

/** Entries of a zip file (the .vsix) with their uncompressed sizes. */
async function zipEntries(file) {
  const yauzl = require('yauzl');
  return new Promise((resolveEntries, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const entries = [];
      zip.on('entry', (e) => { entries.push({ name: e.fileName, size: e.uncompressedSize }); zip.readEntry(); });
      zip.on('end', () => resolveEntries(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** The files the extension cannot run without on `target`, and no other platform's binaries. */
function checkContents(target, entries) {
  const names = new Set(entries.map((e) => e.name));
  const { img, dawn } = TARGETS[target];
  const nm = 'extension/dist/node_modules';
  const required = [
    'extension/package.json', 'extension/dist/extension.js', 'extension/dist/backend/cli.js',
    'extension/dist/backend/wasm/tfjs-backend-wasm.wasm', 'extension/dist/backend/wasm/tfjs-backend-wasm-simd.wasm',
    'extension/dist/backend/wasm/tfjs-backend-wasm-threaded-simd.wasm', 'extension/dist/backend/wasm/tfjs-backend-wasm-threaded-simd.js',
    `${nm}/sharp/package.json`, `${nm}/sharp/dist/index.cjs`, `${nm}/detect-libc/package.json`, `${nm}/semver/package.json`, `${nm}/@img/colour/package.json`,
    ...img.map((n) => `${nm}/@img/${n}/package.json`),
    `${nm}/webgpu/index.js`, `${nm}/webgpu/dist/${dawn}/dawn.node`,
    `${nm}/h5wasm/package.json`, `${nm}/h5wasm/dist/node/hdf5_hl.js`, `${nm}/h5wasm/dist/node/hdf5_util.js`,
    'extension/media/webview.css', 'extension/dist/webview/sidebar.js', 'extension/readme.md', 'extension/docs/screenshot.png', 'extension/LICENSE.txt',
  ];
  const missing = required.filter((f) => !names.has(f) && !names.has(f.replace('readme.md', 'README.md')));
  if (missing.length) throw new Error(`the ${target} package lacks:\n  ${missing.join('\n  ')}`);
  const foreign = entries.map((e) => e.name).filter((n) => {
    const imgDir = /^extension\/dist\/node_modules\/@img\/(sharp-[^/]+)\//.exec(n)?.[1];
    const dawnDir = /^extension\/dist\/node_modules\/webgpu\/dist\/([^/]+)\//.exec(n)?.[1];
    return (imgDir && !img.includes(imgDir)) || (dawnDir && dawnDir !== dawn) || /(^|\/)node_modules\/\.bin\//.test(n) || n.startsWith('extension/node_modules/');
  });
  if (foreign.length) throw new Error(`the ${target} package holds files for other platforms:\n  ${foreign.slice(0, 10).join('\n  ')}`);
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Top-level listing of the package: each folder under extension/ with its file count and size. */
function listing(entries) {
  const groups = new Map();
  for (const e of entries) {
    const parts = e.name.split('/');
    const key = parts[0] !== 'extension' ? parts[0]
      : parts[1] === 'dist' && parts.length > 3 ? (parts[2] === 'node_modules' ? parts.slice(1, parts[3].startsWith('@') ? 5 : 4).join('/') : parts.slice(1, 3).join('/'))
        : parts.slice(1, 3).join('/');
    const g = groups.get(key) ?? { files: 0, size: 0 };
    g.files++;
    g.size += e.size;
    groups.set(key, g);
  }
  return [...groups].sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, g]) => `    ${k.padEnd(48)} ${String(g.files).padStart(4)} files ${mb(g.size).padStart(9)}`).join('\n');
}

async function main() {
  const { targets, keepStage } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'lesion-lab-package-'));
  try {
    const buildDist = join(work, 'build', 'dist');
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs'), '--production', '--out', buildDist], { cwd: repoRoot, stdio: 'inherit' });
    mkdirSync(outDir, { recursive: true });
    const vsce = join(packageDir('@vscode/vsce'), 'vsce');
    const files = await checkoutFiles();
    const results = [];
    for (const target of targets) {
      const stage = join(work, target);
      stageTarget(target, buildDist, stage, files);
      const file = join(outDir, `${pkg.name}-${target}-${pkg.version}.vsix`);
      // --no-rewrite-relative-links: no repository URL to point README links at; VS Code shows the
      // README from the installed folder, where docs/screenshot.png is.
      execFileSync(process.execPath, [vsce, 'package', '--target', target, '--no-dependencies', '--no-rewrite-relative-links',
        '--allow-missing-repository', '--ignoreFile', ignoreFile, '--out', file], { cwd: stage, stdio: ['ignore', 'pipe', 'inherit'] });
      const entries = await zipEntries(file);
      checkContents(target, entries);
      results.push({ target, file, size: statSync(file).size, entries });
      console.log(`${relative(repoRoot, file)}  ${mb(statSync(file).size)} (${entries.length} files, ${mb(entries.reduce((a, e) => a + e.size, 0))} unpacked)`);
      if (target === targets[0]) console.log(listing(entries));
    }
    console.log(`\npackaged ${results.length} target(s) in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
    for (const r of results) console.log(`  ${r.target.padEnd(13)} ${mb(r.size).padStart(8)}  ${relative(repoRoot, r.file)}`);
    if (keepStage) console.log(`staging folders kept in ${work}`);
  } finally {
    if (!keepStage) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`package: ${err.message}`);
  process.exitCode = 1;
});
