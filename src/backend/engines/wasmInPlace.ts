/**
 * Optimizer updates on the wasm engine as one JavaScript pass per variable over the wasm heap, instead of TF.js'
 * 6–11 elementwise kernels (about 1,900 of a MobileNetV2 RMSprop step's 6,200 kernel calls). The slots are
 * rewritten in place (heapKernels.ts, split over every thread); the variable gets its new values in a new buffer, as the stock optimizer's assign() does:
 * XNNPACK caches a convolution's or matrix product's packed weights by the weights' tensor id, so weights changed
 * under the same id would keep being served stale. Every operation is
 * rounded to float32 as the stock kernels round it (Math.fround after each +, ×, ÷ and √: correctly rounded, since
 * a double holds every exact sum and product of two floats, and double rounding of +, −, ×, ÷, √ to float is
 * innocuous), so the variables and slots come out bit for bit as the stock optimizer leaves them.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { getBackend, engine as tfEngine } from '@tensorflow/tfjs-core';
import { runHeapKernel } from './heapWorkers';
import { heapBuffer, heapOffset, partsFor } from './wasmHeap';

interface WasmData {
  refCount: number;
}

/**
 * Runs an update kernel (heapKernels.ts) over the heap when the wasm engine can take it: it reads the value, the
 * slots and the gradient, writes the new value to a new buffer and rewrites the slots in place; the variable is then
 * assigned the new value. `params` are the kernel's scalars, after its offsets and size.
 * False (nothing done) unless the engine is wasm and every tensor is float32 of the variable's size, with each
 * slot held by that one tensor only (the gradient tape keeps clones of a layer's inputs until the backward pass ends).
 */
export function updateOnWasmHeap(value: Variable, slots: Variable[], gradient: Tensor, kernel: 'rmspropUpdate' | 'adamUpdate' | 'momentumUpdate', params: number[]): boolean {
  if (getBackend() !== 'wasm') return false;
  const backend = tfEngine().backend as BackendWasm & { dataIdMap: { get(id: object): WasmData | undefined } };
  for (const t of [value, ...slots, gradient]) if (t.dtype !== 'float32' || t.size !== value.size) return false;
  for (const t of slots) if (backend.dataIdMap.get(t.dataId)?.refCount !== 1) return false;
  const next = backend.makeOutput(value.shape.slice(), 'float32');
  const offsets = [next, value, ...slots, gradient].map((t) => heapOffset(backend, t));
  // As float32 scalars, the way the stock optimizer's tf.scalar()s hold them.
  runHeapKernel(heapBuffer(backend), kernel, [...offsets, value.size, ...params.map(Math.fround)], partsFor(value.size));
  const tensor = tfEngine().makeTensorFromTensorInfo(next);
  value.assign(tensor);
  tensor.dispose();
  return true;
}
