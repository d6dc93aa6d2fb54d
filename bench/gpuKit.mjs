// Packs the GPU bench (bench/gpuBench.ts) into one self-contained folder for a linux-x64 machine with an NVIDIA GPU
// and neither Node.js nor a network: bench/gpu.sh calls it (`bash bench/gpu.sh pack [DIR]`).
//
//   DIR/node.xz        this machine's node binary, xz-compressed (the kit is packed on linux-x64 with Node ≥ 20.19)
//   DIR/app.tar.xz     the production build (scripts/build.mjs --production: TF.js compiled into dist/backend/cli.js),
//                      dist/node_modules with what must stay files for linux-x64 (sharp + libvips, webgpu + dawn.node),
//                      and dist/bench/: gpu.js (the bench, esbuild-bundled) beside pytorchStep.py
//   DIR/vulkan/        libvulkan.so.1, the Vulkan loader, from Debian's libvulkan1 (`apt-get download` + `dpkg -x`):
//                      GPU containers often ship the NVIDIA driver's ICD but no loader
//   DIR/run.sh         unpacks into $TMPDIR once (xz, or python3's lzma), points the loader at the NVIDIA ICD, runs
//
// Usage: node bench/gpuKit.mjs DIR
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const kit = resolve(process.argv[2] ?? join(repoRoot, 'bench', 'out', 'gpu-kit'));
const MAX_KIT_BYTES = 64 * 1024 * 1024;
if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the GPU kit is for linux-x64 and is packed on linux-x64 (it carries this node binary)');

const stage = mkdtempSync(join(tmpdir(), 'lesion-lab-gpu-kit-'));
const dist = join(stage, 'app', 'dist');
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });

try {
  rmSync(kit, { recursive: true, force: true });
  mkdirSync(join(kit, 'vulkan'), { recursive: true });

  console.log('gpu kit: production build');
  run(process.execPath, [join(repoRoot, 'scripts', 'build.mjs'), '--production', '--out', dist], { cwd: repoRoot });

  console.log('gpu kit: node_modules for linux-x64 (sharp + libvips, webgpu + dawn.node)');
  const nm = join(dist, 'node_modules');
  const copy = (pkg, parts) => {
    const from = join(repoRoot, 'node_modules', ...pkg.split('/'));
    if (!existsSync(join(from, 'package.json'))) throw new Error(`${pkg} is not installed; run npm ci`);
    for (const part of ['package.json', ...parts]) if (existsSync(join(from, part))) cpSync(join(from, part), join(nm, ...pkg.split('/'), part), { recursive: true });
  };
  copy('sharp', ['LICENSE', 'dist', 'lib']);
  copy('detect-libc', ['lib', 'index.d.ts', 'LICENSE']);
  copy('semver', ['classes', 'functions', 'internal', 'ranges', 'index.js', 'preload.js', 'range.bnf', 'LICENSE']);
  copy('@img/colour', ['index.cjs', 'color.cjs', 'LICENSE.md']);
  copy('@img/sharp-linux-x64', ['lib', 'index.cjs', 'LICENSE']);
  copy('@img/sharp-libvips-linux-x64', ['lib', 'versions.json']);
  copy('webgpu', ['index.js', 'LICENSE.md', join('dist', 'linux-x64')]);

  console.log('gpu kit: the bench, bundled');
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  await build({
    entryPoints: [join(repoRoot, 'bench', 'gpuBench.ts')],
    outfile: join(dist, 'bench', 'gpu.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    logLevel: 'warning',
    external: ['sharp', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    define: { __LESION_LAB_VERSION__: JSON.stringify(pkg.version) },
  });
  cpSync(join(repoRoot, 'bench', 'pytorchStep.py'), join(dist, 'bench', 'pytorchStep.py'));

  console.log('gpu kit: compressing (xz)');
  const xz = (file) => run('xz', ['-6', '-T0', '-f', file]);
  run('tar', ['-cf', join(kit, 'app.tar'), '-C', join(stage), 'app']);
  xz(join(kit, 'app.tar'));
  cpSync(process.execPath, join(kit, 'node'));
  xz(join(kit, 'node'));

  console.log('gpu kit: the Vulkan loader (apt-get download libvulkan1, dpkg -x)');
  const debs = join(stage, 'debs');
  mkdirSync(debs);
  run('apt-get', ['download', 'libvulkan1'], { cwd: debs });
  const deb = readdirSync(debs).find((f) => f.startsWith('libvulkan1_') && f.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download libvulkan1 gave no .deb');
  run('dpkg', ['-x', join(debs, deb), join(stage, 'root')]);
  const libDir = join(stage, 'root', 'usr', 'lib', 'x86_64-linux-gnu');
  // The soname the webgpu package's Dawn loads, as one file (the .deb has it as a symlink to the versioned one).
  cpSync(realpathSync(join(libDir, 'libvulkan.so.1')), join(kit, 'vulkan', 'libvulkan.so.1'));
  writeFileSync(join(kit, 'vulkan', 'FROM'), `${deb}\n`);

  // The kit's identity names its unpack folder, so a changed kit never runs a stale unpacked copy.
  const id = createHash('sha256').update(readFileSync(join(kit, 'app.tar.xz'))).update(readFileSync(join(kit, 'node.xz'))).digest('hex').slice(0, 12);
  writeFileSync(join(kit, 'run.sh'), runScript(id), { mode: 0o755 });

  const files = readdirSync(kit, { recursive: true }).map((f) => join(kit, String(f))).filter((f) => statSync(f).isFile());
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  for (const f of files) console.log(`  ${relative(kit, f).padEnd(28)} ${(statSync(f).size / 2 ** 20).toFixed(1).padStart(6)} MiB`);
  console.log(`gpu kit: ${kit}, ${(bytes / 2 ** 20).toFixed(1)} MiB (limit ${MAX_KIT_BYTES / 2 ** 20} MiB)`);
  if (bytes > MAX_KIT_BYTES) throw new Error(`the kit is ${(bytes / 2 ** 20).toFixed(1)} MiB, over ${MAX_KIT_BYTES / 2 ** 20} MiB`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

function runScript(id) {
  return `#!/usr/bin/env bash
# Lesion Lab GPU bench kit ${id}: needs bash, tar and xz (or python3), an NVIDIA GPU with its Vulkan driver;
# no Node.js, no network. Unpacks into \${LESION_LAB_GPU_KIT_HOME:-\${TMPDIR:-/tmp}}/lesion-lab-gpu-kit-${id} once.
#   bash run.sh [--models resnet50,resnet152,mobilenetv2] [--size 224] [--batch 32] [--steps 3] [--budget 480] [--python python3]
set -euo pipefail
kit="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
home="\${LESION_LAB_GPU_KIT_HOME:-\${TMPDIR:-/tmp}}/lesion-lab-gpu-kit-${id}"
unxz_to() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}
if [ ! -x "$home/node" ] || [ ! -f "$home/app/dist/bench/gpu.js" ]; then
  rm -rf "$home.partial" && mkdir -p "$home.partial"
  unxz_to "$kit/node.xz" > "$home.partial/node" && chmod +x "$home.partial/node"
  unxz_to "$kit/app.tar.xz" | tar -x -C "$home.partial"
  rm -rf "$home" && mv "$home.partial" "$home"
fi
export LD_LIBRARY_PATH="$kit/vulkan\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "\${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_ICD_FILENAMES="$nvidia_icd"; fi
echo "kit ${id}: $("$home/node" --version) from the kit; Vulkan ICD \${VK_ICD_FILENAMES:-from the loader search path}"
exec "$home/node" "$home/app/dist/bench/gpu.js" --cli "$home/app/dist/backend/cli.js" "$@"
`;
}
