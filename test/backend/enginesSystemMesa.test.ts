/**
 * The real CLI on Debian's own Mesa lavapipe (mesa-vulkan-drivers from the release; 22.3 on Debian 12), the driver
 * a user gets from `apt install mesa-vulkan-drivers`. Dawn turns that lavapipe down, and Mesa and Dawn print
 * their reasons from native code (`error: XDG_RUNTIME_DIR is invalid…`, `Warning: Vulkan
 * shaderUniform*ArrayDynamicIndexing required.` with a C++ source location). None of it may reach the user's
 * stderr; the engine's reason must say what happened. test/e2e/setup.sh installs the package (npm test runs it).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EngineInfo } from '../../src/shared/protocol/engines';
import { assertBuilt, runCli } from '../helpers/cli';

const ICD_DIR = '/usr/share/vulkan/icd.d';
// What Dawn, the Vulkan loader or Mesa print: none of it belongs on the user's stderr.
// (Anchored at the line start: Lesion Lab's own lines may quote Dawn's reason.)
const DRIVER_NOISE = /^(error: XDG_RUNTIME_DIR|Warning: |\s*- While initializing adapter|\s+at \w+ \(.*\.cpp:\d+\)|(?:\w+ \| )*DRIVER:)/;

interface SystemLavapipe {
  icd: string;
  mesa: string;
}

/** Debian's lavapipe: its ICD manifest and the Mesa version its library was built from. */
function systemLavapipe(): SystemLavapipe {
  const name = existsSync(ICD_DIR) ? readdirSync(ICD_DIR).find((f) => /^lvp_icd\..*\.json$/.test(f)) : undefined;
  if (!name) throw new Error(`no lavapipe in ${ICD_DIR}: Debian's mesa-vulkan-drivers is not installed; run test/e2e/setup.sh (npm test runs it)`);
  const icd = path.join(ICD_DIR, name);
  const library = (JSON.parse(readFileSync(icd, 'utf8')) as { ICD: { library_path: string } }).ICD.library_path;
  const mesa = /Mesa (\d+\.\d+\.\d+)/.exec(readFileSync(library).toString('latin1'))?.[1];
  if (!mesa) throw new Error(`${library} names no Mesa version`);
  return { icd, mesa };
}

describe('backend process: engines on Debian’s own Mesa lavapipe (no Dawn or loader lines on stderr, the exact reason)', function () {
  let lavapipe: SystemLavapipe;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    assertBuilt();
    lavapipe = systemLavapipe();
    // Only the system lavapipe (whatever else this machine has), no Mesa 25 from the test cache, and no
    // XDG_RUNTIME_DIR, as in a shell over ssh or a container: what makes Mesa 22.3 print its error.
    env = { VK_ICD_FILENAMES: lavapipe.icd, VK_DRIVER_FILES: lavapipe.icd, LD_LIBRARY_PATH: '', XDG_RUNTIME_DIR: '' };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-system-mesa-'));
  });

  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** The reason `engines` must give for webgpu with this Mesa. */
  function expectWebGpu(webgpu: EngineInfo | undefined): void {
    assert.ok(webgpu);
    if (Number(lavapipe.mesa.split('.')[0]) < 25) {
      assert.equal(webgpu.available, false);
      const escaped = lavapipe.mesa.replace(/\./g, '\\.');
      assert.match(
        webgpu.reason,
        new RegExp(
          `^no WebGPU adapter: found Mesa ${escaped}[^’]*’s software Vulkan driver lavapipe, device llvmpipe \\(LLVM [^)]+\\), but it lacks the Vulkan feature shaderUniform\\*ArrayDynamicIndexing that Dawn requires; lavapipe from Mesa 25 or later has it`,
        ),
      );
    } else {
      // A newer release's Mesa (Debian 13 ships 25): Dawn takes it, as a software adapter.
      assert.equal(webgpu.available, true, webgpu.reason);
      assert.match(webgpu.device ?? '', /llvmpipe/);
    }
  }

  it('`engines`: the table names the real reason, and stderr is empty', async () => {
    const r = await runCli(['engines'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr');
    const row = r.stdout.split('\n').find((l) => /^\s+[✓✗] webgpu\s/.test(l));
    assert.ok(row, r.stdout);
    expectWebGpu({ name: 'webgpu', gpu: true, available: row.includes('✓'), reason: row.replace(/^\s+[✓✗] webgpu\s+(\[[^\]]*\] )?/, ''), device: /\[([^\]]*)\]/.exec(row)?.[1] });
    assert.match(r.stdout, /selected \(auto\): wasm/);
    // Asked for, the debug log is there on stderr.
    const debug = await runCli(['engines'], { env: { ...env, LESION_LAB_DEBUG: '1' } });
    assert.match(debug.stderr, /^webgpu: what Dawn and the GPU driver printed while looking for an adapter:\n {2}Vulkan loader: /);
  });

  it('`engines --json`: stdout is events only, stderr is empty, and what the driver printed is in a debug log event', async () => {
    const r = await runCli(['engines', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const detected = r.events.find((e) => e.type === 'engines/didDetect');
    assert.ok(detected && detected.type === 'engines/didDetect');
    expectWebGpu(detected.engines.find((e) => e.name === 'webgpu'));
    const debug = r.events.filter((e) => e.type === 'log' && e.level === 'debug').map((e) => (e.type === 'log' ? e.message : ''));
    assert.equal(debug.length, 1, JSON.stringify(debug));
    assert.match(debug[0]!, /^webgpu: what Dawn and the GPU driver printed while looking for an adapter:\n {2}Vulkan loader: drivers lvp_icd\.[^;]*; devices llvmpipe/);
    if (Number(lavapipe.mesa.split('.')[0]) < 25) {
      assert.match(debug[0]!, /\n {2}Warning: Vulkan shaderUniform\*ArrayDynamicIndexing required\.\n {3}- While initializing adapter/);
      assert.match(debug[0]!, /XDG_RUNTIME_DIR is invalid or not set/);
    }
  });

  it('train, evaluate and predict (engine auto) print no Dawn or loader line on stderr either', async () => {
    const demo = path.join(dir, 'demo');
    const prepared = path.join(dir, 'prepared');
    const run = path.join(dir, 'run');
    assert.equal((await runCli(['demo-data', '--out', demo, '--per-class', '3', '--size', '64', '--json'])).code, 0);
    assert.equal((await runCli(['prepare', '--data', demo, '--out', prepared, '--json'])).code, 0);
    const image = (await fs.readdir(demo, { recursive: true })).find((f) => f.endsWith('.jpg'))!;
    const steps = [
      ['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--phase', 'finetune', '--epochs', '1'],
      ['evaluate', '--run', run],
      ['predict', '--run', run, path.join(demo, image)],
    ];
    for (const args of steps) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
      const noise = r.stderr.split('\n').filter((l) => DRIVER_NOISE.test(l));
      assert.deepEqual(noise, [], `${args[0]} printed driver lines on stderr`);
      if (args[0] === 'train') assert.match(r.stderr + r.stdout, /wasm/, 'train said which engine it chose');
    }
  });
});
