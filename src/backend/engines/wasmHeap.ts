/**
 * Where a wasm-engine tensor lives, for the project's kernels that read and write the heap directly: the heap's
 * current buffer and each tensor's byte offset in it. Growing the heap replaces the buffer, so both are asked
 * for after every allocation.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { heapThreads } from './heapWorkers';

interface BackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

export function heapBuffer(backend: BackendWasm): ArrayBufferLike {
  return (backend as unknown as BackendInternals).wasm.HEAPU8.buffer;
}

export function heapOffset(backend: BackendWasm, t: TensorInfo): number {
  const data = (backend as unknown as BackendInternals).dataIdMap.get(t.dataId);
  if (!data) throw new Error('a tensor the wasm kernel was given is not in the wasm backend');
  return data.memoryOffset;
}

/** Below this many elements per thread, waking the kernel threads costs more than it saves. */
const ELEMENTS_PER_PART = 16_384;

/** How many parts to split work over `elements` elements into. */
export function partsFor(elements: number): number {
  return Math.max(1, Math.min(heapThreads(), Math.floor(elements / ELEMENTS_PER_PART)));
}
