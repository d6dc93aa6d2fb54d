/**
 * The webgpu training step, TF.js 4.22 stock vs Lesion Lab's webgpu kernels, side by side in one process on the
 * same adapter: ResNet50 and MobileNetV2 (src/backend/models, Keras layer for layer) + the reference head,
 * RMSprop (or --optimizer adam|sgd), trainOnBatch on a fixed batch. Variants:
 *   stock    TF.js as shipped (stock gradients, stock kernels, stock optimizer)
 *   +grads   the project's broadcasting Mean/Sum/FusedBatchNorm gradients (every engine has them)
 *   +conv    + the matmul Conv2DBackpropFilter and the fused one-dispatch optimizer (src/backend/engines/webgpu)
 *   lesion   + the fused training-mode batch normalisation (batchNormKernels.ts): Lesion Lab as it trains
 * Reports img/s (median step), GPU dispatches per step, and ratios. On a software adapter (Mesa lavapipe) use a
 * small input: the 224×224 batch 32 figure is for a real GPU; dispatch counts barely depend on size.
 *
 *   source ~/.cache/lesion-lab/e2e/vulkan/env.sh   # only without a GPU
 *   npx tsx bench/webgpuStep.ts [--models resnet50,mobilenetv2] [--size 64] [--batch 2] [--steps 3] [--optimizer rmsprop]
 * Steps are interleaved across variants (this machine is shared) and the median is reported.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelName } from '../src/shared/protocol';
import { initEngine } from '../src/backend/engines/load';
import { useGradientFixes } from '../src/backend/engines/broadcastGradients';
import { countDispatches } from '../src/backend/engines/webgpu/dispatchCounter';
import type { OptimizerName } from '../src/backend/engines/webgpu/fusedOptimizers';
import { createOptimizer } from '../src/backend/engines/webgpu/fusedOptimizers';
import { useWebGpuKernels } from '../src/backend/engines/webgpu/register';
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
const CLASSES = 7;

interface Variant {
  name: string;
  /** Puts the registries in this variant's state (they are global; switched before each of its steps). */
  activate(): void;
  /** The engine name createOptimizer gets: 'webgpu' → fused, anything else → stock. */
  optimizerEngine: 'webgpu' | 'cpu';
}

const VARIANTS: Variant[] = [
  { name: 'stock', activate: () => (useGradientFixes([]), useWebGpuKernels([])), optimizerEngine: 'cpu' },
  { name: '+grads', activate: () => (useGradientFixes(), useWebGpuKernels([])), optimizerEngine: 'cpu' },
  { name: '+conv', activate: () => (useGradientFixes(), useWebGpuKernels(['Conv2DBackpropFilter'])), optimizerEngine: 'webgpu' },
  { name: 'lesion', activate: () => (useGradientFixes(), useWebGpuKernels()), optimizerEngine: 'webgpu' },
];

interface Result {
  model: string;
  variant: string;
  stepMs: number;
  dispatches: number;
  /** Dispatches by the outermost TF.js kernel that issued them ('(no kernel)': the fused optimizer's own). */
  byKernel: Map<string, number>;
}

/** Runs `step` counting dispatches per outermost kernel (tf.engine().runKernelFunc is every kernel's entry point). */
async function dispatchesByKernel(step: () => Promise<unknown>): Promise<{ total: number; byKernel: Map<string, number> }> {
  const engine = tf.engine() as unknown as { runKernelFunc(p: { kernelName?: string }): unknown };
  const original = engine.runKernelFunc;
  const byKernel = new Map<string, number>();
  const total = countDispatches();
  let depth = 0;
  engine.runKernelFunc = function (this: unknown, params: { kernelName?: string }) {
    const counter = depth++ === 0 ? countDispatches() : undefined;
    try {
      return original.call(this, params);
    } finally {
      depth--;
      if (counter) {
        const k = params.kernelName ?? '?';
        byKernel.set(k, (byKernel.get(k) ?? 0) + counter.stop());
      }
    }
  };
  try {
    await step();
  } finally {
    engine.runKernelFunc = original;
  }
  const n = total.stop();
  const attributed = [...byKernel.values()].reduce((a, b) => a + b, 0);
  if (n > attributed) byKernel.set('(no kernel)', n - attributed);
  return { total: n, byKernel };
}

function topKernels(byKernel: Map<string, number>, n: number): string {
  return [...byKernel.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, d]) => `${k} ${d}`)
    .join(', ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function compare(name: ModelName): Promise<Result[]> {
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % CLASSES), 'int32'), CLASSES);
  const built: { variant: Variant; model: tfl.LayersModel }[] = VARIANTS.map((variant) => {
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
      const { total, byKernel } = await dispatchesByKernel(() => step(b));
      results.push({ model: name, variant: b.variant.name, stepMs: median(times.get(b.variant.name)!), dispatches: total, byKernel });
    }
    return results;
  } finally {
    for (const b of built) b.model.dispose();
    tf.dispose([x, y]);
    useGradientFixes();
    useWebGpuKernels();
  }
}

async function main(): Promise<void> {
  const engine = await initEngine('webgpu');
  console.log(`webgpu on ${engine.device}; ${size}×${size}, batch ${batch}, ${optimizerName}, trainOnBatch, median of ${steps} steps; node ${process.version}`);
  const all: Result[] = [];
  for (const name of models) {
    const rs = await compare(name);
    all.push(...rs);
    const stock = rs.find((r) => r.variant === 'stock')!;
    for (const r of rs) {
      console.log(
        `${name.padEnd(12)} ${r.variant.padEnd(7)} ${((batch * 1000) / r.stepMs).toFixed(2).padStart(7)} img/s  step ${r.stepMs.toFixed(0).padStart(6)} ms  ` +
          `${String(r.dispatches).padStart(5)} dispatches/step   vs stock: ${(stock.stepMs / r.stepMs).toFixed(2)}× faster, ${(r.dispatches / stock.dispatches).toFixed(3)}× the dispatches`,
      );
      console.log(`${''.padEnd(21)}by kernel: ${topKernels(r.byKernel, 8)}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
