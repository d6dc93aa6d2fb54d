/**
 * Optimizer updates on the wasm engine as one JavaScript pass per variable over the wasm heap, instead of TF.js'
 * 6–11 elementwise kernels (about 1,900 of a MobileNetV2 RMSprop step's 6,200 kernel calls). The slots are
 * rewritten in place; the variable gets its new values in a new buffer, as the stock optimizer's assign() does:
 * XNNPACK caches a convolution's or matrix product's packed weights by the weights' tensor id, so weights changed
 * under the same id would keep being served stale. Every operation is
 * rounded to float32 as the stock kernels round it (Math.fround after each +, ×, ÷ and √: correctly rounded, since
 * a double holds every exact sum and product of two floats, and double rounding of +, −, ×, ÷, √ to float is
 * innocuous), so the variables and slots come out bit for bit as the stock optimizer leaves them.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { getBackend, engine as tfEngine } from '@tensorflow/tfjs-core';

const f = Math.fround;

interface WasmData {
  refCount: number;
}

/**
 * Runs `update` over the heap when the wasm engine can take it: `update` gets [new value, value, ...slots,
 * gradient], writes the new value and rewrites the slots in place; the variable is then assigned the new value.
 * False (nothing done) unless the engine is wasm and every tensor is float32 of the variable's size, with each
 * slot held by that one tensor only (the gradient tape keeps clones of a layer's inputs until the backward pass ends).
 */
export function updateOnWasmHeap(value: Variable, slots: Variable[], gradient: Tensor, update: (heap: Float32Array[]) => void): boolean {
  if (getBackend() !== 'wasm') return false;
  const backend = tfEngine().backend as BackendWasm & { dataIdMap: { get(id: object): WasmData | undefined } };
  for (const t of [value, ...slots, gradient]) if (t.dtype !== 'float32' || t.size !== value.size) return false;
  for (const t of slots) if (backend.dataIdMap.get(t.dataId)?.refCount !== 1) return false;
  const next = backend.makeOutput(value.shape.slice(), 'float32');
  update([next, value, ...slots, gradient].map((t) => backend.typedArrayFromHeap(t) as Float32Array));
  const tensor = tfEngine().makeTensorFromTensorInfo(next);
  value.assign(tensor);
  tensor.dispose();
  return true;
}

/** tf.train.rmsprop (not centred): ms ← ms·ρ + g²·(1−ρ); mom ← mom·μ + g·lr/√(ms + ε); value ← value − mom. */
export function rmspropInPlace([next, value, ms, mom, g]: Float32Array[], decay: number, momentum: number, lr: number, epsilon: number): void {
  const d = f(decay);
  const omd = f(1 - decay);
  const m = f(momentum);
  const l = f(lr);
  const e = f(epsilon);
  for (let i = 0; i < value!.length; i++) {
    const gi = g![i]!;
    const ms1 = f(f(ms![i]! * d) + f(f(gi * gi) * omd));
    const mom1 = f(f(mom![i]! * m) + f(f(gi * l) / f(Math.sqrt(f(ms1 + e)))));
    ms![i] = ms1;
    mom![i] = mom1;
    next![i] = f(value![i]! - mom1);
  }
}

/** tf.train.adam with the bias corrections 1 − β₁ᵗ, 1 − β₂ᵗ given (float32, as the stock optimizer holds them). */
export function adamInPlace([next, value, m, v, g]: Float32Array[], beta1: number, beta2: number, oneMinusAccBeta1: number, oneMinusAccBeta2: number, epsilon: number, lr: number): void {
  const b1 = f(beta1);
  const omb1 = f(1 - beta1);
  const b2 = f(beta2);
  const omb2 = f(1 - beta2);
  const c1 = f(oneMinusAccBeta1);
  const c2 = f(oneMinusAccBeta2);
  const e = f(epsilon);
  const negLr = f(-lr);
  for (let i = 0; i < value!.length; i++) {
    const gi = g![i]!;
    const m1 = f(f(m![i]! * b1) + f(gi * omb1));
    const v1 = f(f(v![i]! * b2) + f(f(gi * gi) * omb2));
    m![i] = m1;
    v![i] = v1;
    const mHat = f(m1 / c1);
    const vHat = f(v1 / c2);
    next![i] = f(f(f(mHat / f(f(Math.sqrt(vHat)) + e)) * negLr) + value![i]!);
  }
}

/** tf.train.momentum: acc ← μ·acc + g; value ← −lr·(nesterov ? g + μ·acc : acc) + value. */
export function momentumInPlace([next, value, acc, g]: Float32Array[], momentum: number, lr: number, nesterov: boolean): void {
  const m = f(momentum);
  const negLr = f(-lr);
  for (let i = 0; i < value!.length; i++) {
    const gi = g![i]!;
    const acc1 = f(f(m * acc![i]!) + gi);
    acc![i] = acc1;
    next![i] = f(f(negLr * (nesterov ? f(gi + f(acc1 * m)) : acc1)) + value![i]!);
  }
}
