/**
 * The gradient of ReLU6 (MobileNetV2's activation, models/kerasReLU.ts) on the wasm engine as one kernel over the
 * heap (heapKernels.ts, on every thread) — dx = dy where 0 < x ≤ 6, else 0 — instead of the stock gradient's four (LessEqual, Step, Multiply, Cast,
 * Multiply). Other engines keep TF.js' gradient, which computes the same mask.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { GradConfig, KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { engine, getBackend, getGradient, getKernel, registerGradient, util } from '@tensorflow/tfjs-core';
import { runHeapKernel } from './heapWorkers';
import { heapBuffer, heapOffset, partsFor } from './wasmHeap';

export const RELU6_GRAD = 'LesionLabRelu6Grad';

function relu6Grad({ inputs, backend }: { inputs: Record<string, TensorInfo>; backend: BackendWasm }): TensorInfo {
  const { dy, x } = inputs as Record<'dy' | 'x', TensorInfo>;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32' || dy.shape.join() !== x.shape.join()) throw new Error(`${RELU6_GRAD}: dy and x must be float32 of one shape`);
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const n = util.sizeFromShape(x.shape);
  runHeapKernel(heapBuffer(backend), 'relu6Grad', [heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, out), n], partsFor(n));
  return out;
}

export const wasmRelu6GradConfig: KernelConfig = { kernelName: RELU6_GRAD, backendName: 'wasm', kernelFunc: relu6Grad as unknown as KernelFunc };

let stock: GradConfig | undefined;
let ours: GradConfig | undefined;

/** Registers the Relu6 gradient that takes the one-kernel path on wasm (idempotent; the stock one stays the fallback). */
export function useRelu6Gradient(): void {
  if (!stock) {
    const found = getGradient('Relu6');
    if (!found) throw new Error('TF.js registered no gradient for Relu6; @tensorflow/tfjs-layers did not load fully.');
    stock = found;
    const fallback = found;
    ours = {
      kernelName: 'Relu6',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        if (getBackend() !== 'wasm' || !getKernel(RELU6_GRAD, 'wasm')) return fallback.gradFunc(dy, saved, attrs);
        return { x: () => engine().runKernel(RELU6_GRAD, { dy: dy as Tensor, x: saved[0]! }) as Tensor };
      },
    };
  }
  if (getGradient('Relu6') !== ours) registerGradient(ours!);
}
