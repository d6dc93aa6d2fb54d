/** Kernel calls and kernel time of one step on a synchronous engine (cpu, wasm), by kernel name: for the CPU benches. */
import * as tf from '@tensorflow/tfjs-core';

export interface StepProfile {
  dispatches: number;
  kernelMs: number;
  byKernel: Map<string, { n: number; ms: number }>;
}

/**
 * Wraps the engine's kernel entry point for one step: counts dispatches and times them (cpu/wasm are synchronous).
 * `clock: 'cpu'` times them in process CPU time instead of wall time: on a shared machine, what one thread spent.
 */
export async function profileStep(step: () => Promise<unknown>, clock: 'wall' | 'cpu' = 'wall'): Promise<StepProfile> {
  const now = clock === 'wall' ? () => performance.now() : () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const engine = tf.engine() as unknown as { runKernelFunc(p: { kernelName?: string }): unknown };
  const original = engine.runKernelFunc;
  const byKernel = new Map<string, { n: number; ms: number }>();
  let depth = 0;
  engine.runKernelFunc = function (this: unknown, params: { kernelName?: string }) {
    const t0 = now();
    depth++;
    try {
      return original.call(this, params);
    } finally {
      depth--;
      if (depth === 0) {
        const e = byKernel.get(params.kernelName ?? '?') ?? { n: 0, ms: 0 };
        e.n++;
        e.ms += now() - t0;
        byKernel.set(params.kernelName ?? '?', e);
      }
    }
  };
  try {
    await step();
  } finally {
    engine.runKernelFunc = original;
  }
  let dispatches = 0;
  let kernelMs = 0;
  for (const e of byKernel.values()) {
    dispatches += e.n;
    kernelMs += e.ms;
  }
  return { dispatches, kernelMs, byKernel };
}

/** The `n` kernels that took longest, as "name ms/calls". */
export function topKernels(p: StepProfile, n: number): string {
  return [...p.byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, n)
    .map(([k, e]) => `${k} ${e.ms.toFixed(0)}ms/${e.n}`)
    .join(', ');
}

