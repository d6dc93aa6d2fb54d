import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_WASM_THREADS, physicalCores, wasmThreadsFor } from '../../../src/backend/engines/wasmThreads';

interface ChildReport {
  device: string;
  threads: number;
  xnnpackThreads: number;
  kernelThreads: number;
  conv: string;
  grad: string;
  weights: string;
}

/** Runs wasmThreads.child.ts; it must end on its own (no process.exit), so a hang fails the test by timeout. */
function runChild(threads: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(__dirname, 'wasmThreads.child.ts'), String(threads)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${threads}-thread child did not exit within 60 s (a pthread worker kept it alive?)\n${stdout}${stderr.slice(0, 2000)}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`child exited with ${code}: ${stderr.slice(0, 2000)}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport);
    });
  });
}

describe('engines › wasm threads', function () {
  this.timeout(120_000);

  it('counts physical cores (Linux: distinct core sibling lists), at most what the process may use', () => {
    const n = physicalCores();
    assert.ok(n >= 1 && n <= os.availableParallelism(), `${n}`);
    if (process.platform === 'linux') {
      const root = '/sys/devices/system/cpu';
      const cores = new Set(readdirSync(root).filter((d) => /^cpu\d+$/.test(d)).map((d) => readFileSync(path.join(root, d, 'topology', 'core_cpus_list'), 'utf8').trim()));
      assert.equal(n, Math.min(cores.size, os.availableParallelism()));
    }
  });

  it('--threads: default every physical core, capped at the 8 workers TF.js pre-starts; 0 is refused', () => {
    assert.equal(wasmThreadsFor(undefined), Math.min(physicalCores(), MAX_WASM_THREADS));
    assert.equal(wasmThreadsFor(3), 3);
    assert.equal(wasmThreadsFor(MAX_WASM_THREADS + 5), MAX_WASM_THREADS);
    assert.throws(() => wasmThreadsFor(0), /whole number ≥ 1/);
  });

  it('starts the threaded build under Node with 2 threads, exits cleanly, and trains bit for bit as 1 thread does', async () => {
    const one = await runChild(1);
    const two = await runChild(2);
    assert.equal(one.threads, 1);
    assert.match(one.device, /WebAssembly SIMD, 1 thread\)/);
    assert.equal(two.threads, 2);
    assert.equal(two.xnnpackThreads, 2, 'XNNPACK’s threadpool has 2 threads');
    assert.match(two.device, /WebAssembly SIMD, 2 threads\)/);
    assert.equal(one.kernelThreads, 1);
    assert.equal(two.kernelThreads, 2, 'the project’s JavaScript kernels run on 2 threads too');
    assert.equal(two.conv, one.conv, 'convolution');
    assert.equal(two.grad, one.grad, 'filter gradient');
    assert.equal(two.weights, one.weights, 'three training steps (batch norm, ReLU6, depthwise and RMSprop kernels split over 2 threads)');
  });
});
