/**
 * The webgpu training step, TF.js 4.22 stock vs Lesion Lab's webgpu kernels, side by side in one process on the
 * same adapter: ResNet50 and MobileNetV2 (src/backend/models, Keras layer for layer) + the reference head,
 * RMSprop (or --optimizer adam|sgd), trainOnBatch on a fixed batch, in every variant of bench/webgpuVariants.ts
 * (stock TF.js, then the project's changes one by one, then mixed precision).
 * Reports img/s (median step), GPU time per step (timestamp queries over every compute pass of one extra step:
 * engines/webgpu/gpuTimer.ts), GPU dispatches per step, ratios to stock, and per variant the kernels with the most
 * dispatches and the most GPU time (one more step, one dispatch per pass, so each pass is one kernel's). On a
 * software adapter (Mesa lavapipe) use a small input: dispatch counts barely depend on size.
 *
 *   source ~/.cache/lesion-lab/e2e/vulkan/env.sh   # only without a GPU
 *   npx tsx bench/webgpuStep.ts [--models resnet50,mobilenetv2] [--size 64] [--batch 2] [--steps 3] [--optimizer rmsprop]
 *                               [--pytorch python3] [--no-mixed]
 * On a real GPU, the issue's figure: --size 224 --batch 32 (--steps 10). With --pytorch, bench/pytorchStep.py then
 * trains the same models in PyTorch fp32 (CUDA when it has one) as the reference: "Lesion Lab webgpu at X% of PyTorch".
 * Steps are interleaved across variants (the machine may be shared) and the median is reported.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelName } from '../src/shared/protocol/jobs';
import { initEngine } from '../src/backend/engines/load';
import { deviceHasHalf } from '../src/backend/engines/webgpu/mixedPrecision';
import { webgpuBackend } from '../src/backend/engines/webgpu/backendInternals';
import type { WebGpuBackendInternals } from '../src/backend/engines/webgpu/backendInternals';
import { supportsGpuTimestamps, timeGpu } from '../src/backend/engines/webgpu/gpuTimer';
import { dispatchesByKernel } from '../src/backend/engines/webgpu/kernelAttribution';
import type { OptimizerName } from '../src/backend/engines/webgpu/fusedOptimizers';
import { createOptimizer } from '../src/backend/engines/webgpu/fusedOptimizers';
import type { WebGpuVariant } from './webgpuVariants';
import { WEBGPU_VARIANTS, restoreLesionLab } from './webgpuVariants';
import { buildBackbone, buildClassifier } from '../src/backend/models/backbone';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const models = arg('models', 'resnet50,mobilenetv2').split(',') as ModelName[];
const size = Number(arg('size', '64'));
const batch = Number(arg('batch', '2'));
const steps = Number(arg('steps', '3'));
const optimizerName = arg('optimizer', 'rmsprop') as OptimizerName;
const pythonForTorch = arg('pytorch', '');
const CLASSES = 7;

let VARIANTS: readonly WebGpuVariant[] = WEBGPU_VARIANTS;

interface Result {
  model: string;
  variant: string;
  stepMs: number;
  /** GPU busy time of one step (Σ over its compute passes); undefined without timestamp queries. */
  gpuMs?: number;
  /** Wall-clock time of that same step (GPU busy share = gpuMs / gpuStepMs). */
  gpuStepMs?: number;
  dispatches: number;
  /** Dispatches by the outermost TF.js kernel that issued them ('(no kernel)': the fused optimizer's own). */
  byKernel: Map<string, number>;
  /** GPU ms by the same kernels, from a step with one dispatch per pass. */
  gpuByKernel?: Map<string, number>;
}

/** Dawn's timestamp step in ns as the bench saw it (undefined: not quantized, or not measured yet). */
let timestampQuantumNs: number | undefined;

function topKernels(byKernel: Map<string, number>, n: number, format: (v: number) => string = String): string {
  return [...byKernel.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, d]) => `${k} ${format(d)}`)
    .join(', ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function compare(name: ModelName, backend: WebGpuBackendInternals | undefined): Promise<Result[]> {
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % CLASSES), 'int32'), CLASSES);
  const built: { variant: WebGpuVariant; model: tfl.LayersModel }[] = VARIANTS.map((variant) => {
    const model = buildClassifier(buildBackbone(name, { inputSize: size }), CLASSES);
    model.compile({ optimizer: createOptimizer(optimizerName, 1e-3, variant.optimizerEngine), loss: 'categoricalCrossentropy' });
    return { variant, model };
  });
  const step = async (b: (typeof built)[number]) => {
    b.variant.activate();
    const t0 = performance.now();
    await b.model.trainOnBatch(x, y);
    return performance.now() - t0;
  };
  try {
    const results: Result[] = [];
    for (const b of built) {
      const warm = await step(b); // shader compilation, optimizer slots
      console.error(`  ${name} ${b.variant.name}: warm-up step ${(warm / 1000).toFixed(1)} s`);
    }
    const times = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
    for (let r = 0; r < steps; r++) for (const b of built) times.get(b.variant.name)!.push(await step(b));
    for (const b of built) {
      const stepMs = median(times.get(b.variant.name)!);
      if (!backend) {
        const { total, byKernel } = await dispatchesByKernel(() => step(b));
        results.push({ model: name, variant: b.variant.name, stepMs, dispatches: total, byKernel });
        continue;
      }
      // Extra steps, not in the median: the GPU total, then dispatches and GPU time per kernel.
      const whole = await timeGpu(backend, () => step(b));
      timestampQuantumNs ??= whole.quantumNs;
      const { total, byKernel, result: perKernel } = await dispatchesByKernel(() => timeGpu(backend, () => step(b), { byKernel: true }));
      results.push({ model: name, variant: b.variant.name, stepMs, gpuMs: whole.gpuMs, gpuStepMs: whole.result, dispatches: total, byKernel, gpuByKernel: perKernel.byLabel });
    }
    return results;
  } finally {
    for (const b of built) b.model.dispose();
    tf.dispose([x, y]);
    restoreLesionLab();
  }
}

const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : 'n/a');

interface TorchResult {
  model: string;
  imgPerSec: number;
  device: string;
}

/** bench/pytorchStep.py for the same models, size, batch and optimizer; undefined (and a line saying why) when it cannot run. */
function runPyTorch(python: string): Promise<TorchResult[] | undefined> {
  const script = path.join(__dirname, 'pytorchStep.py');
  const args = [script, '--models', models.join(','), '--size', String(size), '--batch', String(batch), '--steps', String(Math.max(steps, 3)), '--optimizer', optimizerName];
  return new Promise((resolve) => {
    execFile(python, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} not found` : stderr.trim().split('\n').pop() || err.message;
        console.log(`PyTorch reference skipped: ${why}`);
        resolve(undefined);
        return;
      }
      resolve(
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as TorchResult),
      );
    });
  });
}

async function main(): Promise<void> {
  const engine = await initEngine('webgpu');
  const backend = webgpuBackend();
  const timed = backend && supportsGpuTimestamps(backend) ? backend : undefined;
  const half = !!backend && deviceHasHalf(backend);
  VARIANTS = WEBGPU_VARIANTS.filter((v) => v.name !== 'mixed' || (half && !process.argv.includes('--no-mixed')));
  if (!half) console.log('mixed variant left out: the adapter has no shader-f16');
  console.log(`webgpu on ${engine.device}; ${size}×${size}, batch ${batch}, ${optimizerName}, trainOnBatch, median of ${steps} steps; node ${process.version}`);
  console.log(
    timed
      ? 'GPU ms/step: timestamp queries over every compute pass of one extra step (busy: its share of that step); GPU ms by kernel: one more step, one dispatch per pass'
      : 'GPU time: n/a (the device has no timestamp-query feature)',
  );
  const all: Result[] = [];
  for (const name of models) {
    const rs = await compare(name, timed);
    all.push(...rs);
    if (timed && name === models[0]) {
      console.log(`GPU timestamps: ${timestampQuantumNs ? `quantized to ${(timestampQuantumNs / 1000).toFixed(1)} µs steps (Dawn's timestamp_quantization)` : 'not quantized'}`);
    }
    const stock = rs.find((r) => r.variant === 'stock')!;
    for (const r of rs) {
      const gpu = r.gpuMs === undefined || !r.gpuStepMs ? '   n/a' : `${r.gpuMs.toFixed(0).padStart(6)} ms/step (${((100 * r.gpuMs) / r.gpuStepMs).toFixed(0).padStart(3)}% busy)`;
      console.log(
        `${name.padEnd(12)} ${r.variant.padEnd(7)} ${((batch * 1000) / r.stepMs).toFixed(2).padStart(7)} img/s  step ${r.stepMs.toFixed(0).padStart(6)} ms  ` +
          `GPU ${gpu}  ${String(r.dispatches).padStart(5)} dispatches/step   vs stock: ${ratio(stock.stepMs, r.stepMs)}× faster, ` +
          `${ratio(r.gpuMs, stock.gpuMs)}× the GPU time, ${ratio(r.dispatches, stock.dispatches)}× the dispatches`,
      );
      console.log(`${''.padEnd(21)}dispatches by kernel: ${topKernels(r.byKernel, 8)}`);
      if (r.gpuByKernel) console.log(`${''.padEnd(21)}GPU ms by kernel:     ${topKernels(r.gpuByKernel, 8, (ms) => ms.toFixed(1))}`);
    }
  }
  if (pythonForTorch) {
    const torch = await runPyTorch(pythonForTorch);
    for (const t of torch ?? []) {
      const lesion = all.find((r) => r.model === t.model && r.variant === 'lesion');
      if (!lesion) continue;
      const ours = (batch * 1000) / lesion.stepMs;
      console.log(`${t.model}: PyTorch fp32 on ${t.device} ${t.imgPerSec.toFixed(2)} img/s; Lesion Lab webgpu at ${((100 * ours) / t.imgPerSec).toFixed(1)}% of PyTorch fp32`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
