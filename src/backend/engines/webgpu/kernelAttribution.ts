/**
 * Which TF.js kernel is the GPU working for? Every kernel enters through tf.engine().runKernelFunc (runKernel,
 * op wrappers, and tf.customGrad, which calls it without a kernelName), so wrapping that one method tells what
 * the outermost kernel is at any moment; the bench's dispatch counts and gpuTimer.ts' per-kernel GPU times both
 * attribute work to it. Backward kernels are outermost too: the tape calls gradient functions directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { countDispatches } from './dispatchCounter';

/** Work outside every kernel: the fused optimizers record their dispatches themselves. */
export const NO_KERNEL = '(no kernel)';

interface KernelParams {
  kernelName?: string;
}

interface EngineWithKernelFunc {
  runKernelFunc(params: KernelParams): unknown;
}

export interface KernelListener {
  /** An outermost kernel starts (its label may still change while it runs: see `label`). */
  enter?(): void;
  /** An outermost kernel ended; `label` is what its work is attributed to. */
  exit?(label: string): void;
}

export interface OutermostKernelWatch {
  /** The label of the outermost kernel running now, or undefined between kernels. */
  readonly current: string | undefined;
  /** Stops this watch; the last one restores runKernelFunc. Idempotent. */
  stop(): void;
}

interface Frame {
  kernelName?: string;
  /** For a customGrad frame: the first named kernel run inside it. */
  firstInner?: string;
}

const listeners = new Set<KernelListener>();
let stack: Frame[] = [];
let installed: { engine: EngineWithKernelFunc; hadOwn: boolean; own: EngineWithKernelFunc['runKernelFunc'] | undefined } | undefined;

/**
 * tf.customGrad's runKernelFunc has no kernelName; name it after what it wraps
 * (e.g. `customGrad(LesionLabBatchNormTrain)`, the project's fused training-mode batch norm).
 */
function labelOf(frame: Frame): string {
  if (frame.kernelName) return frame.kernelName;
  return frame.firstInner ? `customGrad(${frame.firstInner})` : 'customGrad';
}

function install(): void {
  const engine = tf.engine() as unknown as EngineWithKernelFunc;
  const hadOwn = Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc');
  const original = engine.runKernelFunc;
  installed = { engine, hadOwn, own: hadOwn ? original : undefined };
  stack = [];
  engine.runKernelFunc = function (this: unknown, params: KernelParams) {
    const outer = stack[0];
    if (outer && !outer.kernelName && !outer.firstInner && params.kernelName) outer.firstInner = params.kernelName;
    stack.push({ kernelName: params.kernelName });
    if (stack.length === 1) for (const l of listeners) l.enter?.();
    try {
      return original.call(this, params);
    } finally {
      const frame = stack.pop();
      // (no frame: the watch was stopped and restarted from inside a kernel)
      if (frame && stack.length === 0) {
        const label = labelOf(frame);
        for (const l of listeners) l.exit?.(label);
      }
    }
  };
}

function uninstall(): void {
  if (!installed) return;
  const { engine, hadOwn, own } = installed;
  if (hadOwn) engine.runKernelFunc = own!;
  else delete (engine as Partial<EngineWithKernelFunc>).runKernelFunc;
  installed = undefined;
  stack = [];
}

/** Starts watching which outermost kernel runs; several watches may overlap. */
export function watchOutermostKernel(listener: KernelListener = {}): OutermostKernelWatch {
  if (listeners.has(listener)) throw new Error('watchOutermostKernel: this listener is already watching');
  if (!installed) install();
  listeners.add(listener);
  let stopped = false;
  return {
    get current() {
      return stack[0] ? labelOf(stack[0]) : undefined;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      listeners.delete(listener);
      if (listeners.size === 0) uninstall();
    },
  };
}

/** Runs `step` counting GPU dispatches per outermost kernel ({@link NO_KERNEL}: dispatches outside every kernel). */
export async function dispatchesByKernel<T>(step: () => Promise<T> | T): Promise<{ result: T; total: number; byKernel: Map<string, number> }> {
  const byKernel = new Map<string, number>();
  const total = countDispatches();
  let inKernel: ReturnType<typeof countDispatches> | undefined;
  const watch = watchOutermostKernel({
    enter: () => (inKernel = countDispatches()),
    exit: (label) => {
      const n = inKernel?.stop() ?? 0;
      inKernel = undefined;
      byKernel.set(label, (byKernel.get(label) ?? 0) + n);
    },
  });
  let result: T;
  let n: number;
  try {
    result = await step();
  } finally {
    watch.stop();
    inKernel?.stop();
    n = total.stop();
  }
  const attributed = [...byKernel.values()].reduce((a, b) => a + b, 0);
  if (n > attributed) byKernel.set(NO_KERNEL, n - attributed);
  return { result, total: n, byKernel };
}
