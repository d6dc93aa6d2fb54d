/**
 * Child program of webgpuTimer.test.ts (the Vulkan variables must be set at process start): times real TF.js work
 * on the webgpu engine with gpuTimer.ts and prints one JSON line for the test to check:
 *   - a matMul timed as a whole; a conv2d + relu and a fused optimizer step timed per kernel (with the dispatch
 *     counts beside them);
 *   - a region of more passes than one query set holds; a tf.customGrad op's label; tf.time inside and after a region;
 *   - what is left afterwards: the batch flag, runKernelFunc, beginComputePass, and whether a later op is timed.
 *   node --require tsx/cjs test/backend/webgpuTimer.child.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/backend/engines/load';
import { webgpuBackend } from '../../src/backend/engines/webgpu/backendInternals';
import { timeGpu } from '../../src/backend/engines/webgpu/gpuTimer';
import { createOptimizer } from '../../src/backend/engines/webgpu/fusedOptimizers';
import { dispatchesByKernel } from '../../src/backend/engines/webgpu/kernelAttribution';
import { exitWhenDone } from '../helpers/vulkan';

/** More than one query set's 4096 timestamps (2048 passes). */
export const MANY_PASSES = 2100;
/** A deferred-submit batch size other than TF.js' default, to see it restored. */
export const CALLER_BATCH_SIZE = 7;

export interface TimerChildResult {
  device?: string;
  timestampQuery: boolean;
  matMul: { gpuMs: number; passes: number; quantumNs: number | null; value: number; expected: number };
  conv: {
    gpuMs: number;
    passes: number;
    dispatches: number;
    byLabel: Record<string, number>;
    dispatchesByKernel: Record<string, number>;
    /** The batch flag seen inside the region (1 in per-kernel mode). */
    batchInside: number;
  };
  many: { passes: number; gpuMs: number; byLabel: Record<string, number>; quantumNs: number | null };
  customGradLabels: string[];
  tfTimeInside: { kernelMs: number; passes: number };
  after: {
    batchSize: number;
    runKernelFuncOwn: boolean;
    runKernelFuncIsPrototype: boolean;
    beginComputePassRestored: boolean;
    /** Passes begun by a later op, and how many of them carried timestampWrites. */
    laterPasses: number;
    laterTimedPasses: number;
    /** The later add's first element minus its expected value. */
    laterError: number;
    tfTimeKernelMs: number;
  };
  validationErrors: string[];
}

interface EncoderPrototype {
  beginComputePass(d?: GPUComputePassDescriptor): GPUComputePassEncoder;
}

async function main(): Promise<void> {
  const loaded = await initEngine('webgpu');
  const backend = webgpuBackend();
  if (!backend) throw new Error('the webgpu backend lacks the internals gpuTimer.ts uses');
  const errors: string[] = [];
  backend.device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
  const encoderProto = (globalThis as unknown as { GPUCommandEncoder: { prototype: EncoderPrototype } }).GPUCommandEncoder.prototype;
  const originalBegin = encoderProto.beginComputePass;
  const engine = tf.engine() as unknown as { runKernelFunc: unknown };
  const engineProtoRun = (Object.getPrototypeOf(engine) as { runKernelFunc: unknown }).runKernelFunc;

  // A matMul, as a whole. Warm up first: pipeline compilation is not what is timed.
  const a = tf.randomNormal([256, 256], 0, 1, 'float32', 1);
  const b = tf.randomNormal([256, 256], 0, 1, 'float32', 2);
  tf.dispose(await tf.matMul(a, b).data());
  const mm = await timeGpu(backend, async () => {
    const c = tf.matMul(a, b);
    const v = (await c.data())[0]!;
    c.dispose();
    return v;
  });
  const row = (await tf.slice(a, [0, 0], [1, 256]).data()) as Float32Array;
  const col = (await tf.slice(b, [0, 0], [256, 1]).data()) as Float32Array;
  const expected = row.reduce((s, v, i) => s + v * col[i]!, 0);

  // conv2d + relu per kernel, with dispatches counted per kernel over the same region.
  const x = tf.randomNormal([2, 16, 16, 8], 0, 1, 'float32', 3);
  const f = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 4);
  const convRelu = () => tf.tidy(() => tf.relu(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')));
  await convRelu().data();
  // The fused optimizer records through directProgram.ts' recordDispatch, outside every kernel.
  const weights = tf.variable(tf.randomNormal([64, 64], 0, 1, 'float32', 6), true, 'timer_w');
  const optimizer = createOptimizer('rmsprop', 1e-3, 'webgpu');
  const applyStep = () => tf.tidy(() => optimizer.applyGradients({ timer_w: tf.onesLike(weights) }));
  applyStep();
  await weights.data();
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', CALLER_BATCH_SIZE);
  let batchInside = -1;
  const conv = await dispatchesByKernel(() =>
    timeGpu(
      backend,
      async () => {
        batchInside = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number;
        const y = convRelu();
        applyStep();
        await y.data();
        await weights.data();
        y.dispose();
      },
      { byKernel: true },
    ),
  );
  const batchAfter = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number;
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 15);

  // More passes than one query set holds: small adds that stay on the GPU (above TF.js' CPU hand-off size).
  const v = tf.randomNormal([4096], 0, 1, 'float32', 5);
  const many = await timeGpu(
    backend,
    async () => {
      let acc = tf.add(v, 1);
      for (let i = 1; i < MANY_PASSES; i++) {
        const next = tf.add(acc, v);
        acc.dispose();
        acc = next;
      }
      await acc.data();
      acc.dispose();
    },
    { byKernel: true },
  );

  // tf.customGrad calls runKernelFunc without a kernelName: labelled after the kernel it wraps.
  const reluWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return { value: tf.relu(input), gradFunc: (dy: tf.Tensor) => dy };
  });
  const cg = await dispatchesByKernel(async () => {
    const y = reluWithGrad(v);
    await y.data();
    y.dispose();
  });

  // tf.time inside a region keeps its own timestamps; this region does not count those passes.
  const inside = await timeGpu(backend, async () => {
    const t = await tf.time(() => tf.dispose(tf.matMul(a, b)));
    return t.kernelMs as number;
  });

  // Afterwards: nothing of the timer is left; a later op runs untimed.
  let laterPasses = 0;
  let laterTimedPasses = 0;
  const restored = encoderProto.beginComputePass === originalBegin;
  encoderProto.beginComputePass = function (this: GPUCommandEncoder, d?: GPUComputePassDescriptor) {
    laterPasses++;
    if (d?.timestampWrites) laterTimedPasses++;
    return originalBegin.call(this, d);
  };
  let laterValue: number;
  try {
    const s = tf.add(v, v);
    laterValue = (await s.data())[0]!;
    s.dispose();
  } finally {
    encoderProto.beginComputePass = originalBegin;
  }
  const vFirst = (await v.data())[0]!;
  const tfTime = await tf.time(() => tf.dispose(tf.matMul(a, b)));
  await backend.device.queue.onSubmittedWorkDone();

  const result: TimerChildResult = {
    device: loaded.device,
    timestampQuery: backend.device.features.has('timestamp-query'),
    matMul: { gpuMs: mm.gpuMs, passes: mm.passes, quantumNs: mm.quantumNs ?? null, value: mm.result, expected },
    conv: {
      gpuMs: conv.result.gpuMs,
      passes: conv.result.passes,
      dispatches: conv.total,
      byLabel: Object.fromEntries(conv.result.byLabel ?? []),
      dispatchesByKernel: Object.fromEntries(conv.byKernel),
      batchInside,
    },
    many: { passes: many.passes, gpuMs: many.gpuMs, byLabel: Object.fromEntries(many.byLabel ?? []), quantumNs: many.quantumNs ?? null },
    customGradLabels: [...cg.byKernel.keys()],
    tfTimeInside: { kernelMs: inside.result, passes: inside.passes },
    after: {
      batchSize: batchAfter,
      runKernelFuncOwn: Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc'),
      runKernelFuncIsPrototype: engine.runKernelFunc === engineProtoRun,
      beginComputePassRestored: restored,
      laterPasses,
      laterTimedPasses,
      laterError: laterValue - 2 * vFirst,
      tfTimeKernelMs: tfTime.kernelMs as number,
    },
    validationErrors: errors,
  };
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(result) + '\n', () => resolve()));
}

if (require.main === module) exitWhenDone(main);
