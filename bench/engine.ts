/**
 * Training-step throughput of the CPU engines, stock TF.js vs the project's fixes, side by side:
 *   - Mean/Sum gradients without a full-size ones array, then also FusedBatchNorm without its Tile
 *     (src/backend/engines/broadcastGradients.ts), on cpu and wasm;
 *   - wasm gradient kernels (src/backend/engines/wasmKernels.ts), without which wasm cannot train at all.
 * Model: the one `train` builds — MobileNetV2 (alpha 0.35, models/mobilenetV2.ts) + the reference head —
 * with RMSprop. Also counts kernel dispatches and kernel time per step.
 *
 *   npx tsx bench/engine.ts [--engines cpu,wasm] [--batch 8] [--size 96] [--alpha 0.35] [--steps 5] [--cpu-steps 2]
 * Steps are interleaved across variants and the median is reported: this 2-core machine is shared.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EngineName } from '../src/shared/protocol/engines';
import { initEngine } from '../src/backend/engines/load';
import { buildBackbone, buildClassifier } from '../src/backend/models/backbone';
import type { GradientFix } from '../src/backend/engines/broadcastGradients';
import { useGradientFixes } from '../src/backend/engines/broadcastGradients';
import { WASM_GRADIENT_KERNELS, registerWasmGradientKernels } from '../src/backend/engines/wasmKernels';
import type { StepProfile } from './kernelProfile';
import { profileStep, topKernels } from './kernelProfile';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const engines = arg('engines', 'cpu,wasm').split(',') as EngineName[];
const batch = Number(arg('batch', '8'));
const size = Number(arg('size', '96'));
const alpha = Number(arg('alpha', '0.35'));
const steps = Number(arg('steps', '5'));
const cpuSteps = Number(arg('cpu-steps', '2'));

const VARIANTS: Record<string, readonly GradientFix[]> = {
  stock: [],
  'mean/sum': ['Mean', 'Sum'],
  '+batchnorm': ['Mean', 'Sum', 'FusedBatchNorm'],
};

interface Result {
  engine: string;
  variant: string;
  imgPerSec: number;
  stepMs: number;
  profile: StepProfile;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * One model, the gradient variants interleaved step by step (the registry switch takes effect at the next
 * backward pass), so a change in machine load hits every variant alike; the median step time is reported.
 */
async function compare(engine: EngineName, variants: string[], rounds: number): Promise<Result[]> {
  const model = buildClassifier(buildBackbone('mobilenetv2', { inputSize: size, alpha }), 7);
  model.compile({ optimizer: tf.train.rmsprop(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 7), 'int32'), 7);
  const step = () => model.trainOnBatch(x, y);
  const times = new Map<string, number[]>(variants.map((v) => [v, []]));
  try {
    for (const v of variants) {
      useGradientFixes(VARIANTS[v]);
      await step(); // warm-up: kernel setup, optimizer slots
    }
    const before = tf.memory().numTensors;
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        useGradientFixes(VARIANTS[v]);
        const t0 = performance.now();
        await step();
        times.get(v)!.push(performance.now() - t0);
      }
    }
    if (tf.memory().numTensors !== before) console.error(`  warning: ${tf.memory().numTensors - before} tensors leaked`);
    const results: Result[] = [];
    for (const v of variants) {
      useGradientFixes(VARIANTS[v]);
      const profile = await profileStep(step);
      const stepMs = median(times.get(v)!);
      results.push({ engine, variant: v, imgPerSec: (batch * 1000) / stepMs, stepMs, profile });
    }
    return results;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

async function main(): Promise<void> {
  console.log(`MobileNetV2-${alpha} + head @ ${size}×${size}, batch ${batch}, RMSprop, training step (trainOnBatch); node ${process.version}`);
  const results: Result[] = [];
  for (const engine of engines) {
    await initEngine(engine);
    const timedSteps = engine === 'cpu' ? cpuSteps : steps;
    if (engine === 'wasm') {
      // Stock wasm cannot train a conv net at all: show it once, then restore the project's kernels.
      for (const k of WASM_GRADIENT_KERNELS) tf.unregisterKernel(k, 'wasm');
      try {
        await compare(engine, ['stock'], 0);
        console.log('wasm without the project kernels: trained (unexpected)');
      } catch (err) {
        console.log(`wasm without the project kernels: ${(err as Error).message.split('\n')[0]}`);
      }
      registerWasmGradientKernels();
    }
    for (const r of await compare(engine, Object.keys(VARIANTS), timedSteps)) {
      results.push(r);
      console.log(
        `${engine.padEnd(5)} ${r.variant.padEnd(10)} ${r.imgPerSec.toFixed(2).padStart(7)} img/s  step ${r.stepMs.toFixed(0).padStart(6)} ms (median of ${timedSteps})  ` +
          `profiled step: ${r.profile.dispatches} dispatches, kernels ${r.profile.kernelMs.toFixed(0)} ms  [${topKernels(r.profile, 6)}]`,
      );
    }
  }
  console.log(`\nengine  ${Object.keys(VARIANTS).map((v) => `${v} img/s`.padStart(18)).join('')}   ratio to stock`);
  for (const engine of engines) {
    const rs = Object.keys(VARIANTS).map((v) => results.find((r) => r.engine === engine && r.variant === v));
    const base = rs[0]?.imgPerSec ?? NaN;
    console.log(`${engine.padEnd(6)}  ${rs.map((r) => (r ? r.imgPerSec.toFixed(2) : '-').padStart(18)).join('')}   ${rs.map((r) => (r ? `${(r.imgPerSec / base).toFixed(2)}×` : '-')).join(' / ')}`);
  }
  const best = (engine: string) => results.find((r) => r.engine === engine && r.variant === '+batchnorm');
  const cpuBest = best('cpu');
  const wasmBest = best('wasm');
  if (cpuBest && wasmBest) console.log(`wasm vs cpu, both with all fixes: ${(wasmBest.imgPerSec / cpuBest.imgPerSec).toFixed(1)}×`);
  useGradientFixes();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
