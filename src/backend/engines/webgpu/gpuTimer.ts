/**
 * GPU time of a region of work on the webgpu backend, from timestamp queries. TF.js' own tf.time() writes
 * timestamps only around single programs (and submits after each); this times everything a region records into
 * the backend's command stream — TF.js programs and the project's direct dispatches alike, since every compute
 * pass is begun with backend.commandEncoder.beginComputePass — by giving each such pass timestampWrites while
 * the region runs. The sum of (end − begin) over passes is GPU busy time; gaps between passes are not in it.
 *
 * Per-kernel mode forces WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE to 1: TF.js' recordAndSubmit and recordDispatch then
 * end the pass (and submit) after every dispatch, so each pass is one kernel's work, attributed to the outermost
 * TF.js kernel running when it began (kernelAttribution.ts). One submit per dispatch makes that region slower:
 * time a step in the default mode for the total.
 */
import { env } from '@tensorflow/tfjs-core';
import type { WebGpuBackendInternals } from './backendInternals';
import { NO_KERNEL, watchOutermostKernel } from './kernelAttribution';

/** WebGPU's (and Dawn's) largest query set. */
const QUERIES_PER_SET = 4096;
const BATCH_FLAG = 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE';
/** Dawn's timestamp_quantization masks the low 16 bits (65.5 µs steps); unquantized stamps share ~1 zero bit. */
const MIN_QUANTUM_BITS = 10;

export interface GpuTimeOptions {
  /** Attribute GPU time to the outermost TF.js kernel (one dispatch per pass while the region runs). */
  byKernel?: boolean;
}

export interface GpuTiming<T> {
  result: T;
  /** Σ (end − begin) over the region's compute passes, in milliseconds. */
  gpuMs: number;
  /** Compute passes timed (with byKernel: one per dispatch). */
  passes: number;
  /** GPU ms per outermost kernel (customGrad(X) for a tf.customGrad op, '(no kernel)' outside kernels); byKernel only. */
  byLabel?: Map<string, number>;
  /** The timestamps' step in ns when the implementation quantizes them (Dawn's timestamp_quantization), else undefined. */
  quantumNs?: number;
}

interface CommandEncoderPrototype {
  beginComputePass(descriptor?: GPUComputePassDescriptor): GPUComputePassEncoder;
}

interface TimedPass {
  /** Global query slot of its beginning timestamp (the end is slot + 1). */
  slot: number;
  label: string;
}

let timing = false;

/** Whether the backend's device was created with 'timestamp-query' (TF.js requests it when the adapter has it). */
export function supportsGpuTimestamps(backend: WebGpuBackendInternals): boolean {
  return backend.device.features.has('timestamp-query');
}

function commandEncoderPrototype(): CommandEncoderPrototype {
  const ctor = (globalThis as { GPUCommandEncoder?: { prototype: CommandEncoderPrototype } }).GPUCommandEncoder;
  if (!ctor) throw new Error('timeGpu: no GPUCommandEncoder global; initialise the webgpu engine first');
  return ctor.prototype;
}

/** Ends the backend's open pass and submits its encoder, as TF.js does before a read. */
function flush(backend: WebGpuBackendInternals): void {
  backend.endComputePassEncoder();
  if (backend.commandEncoder) backend.submitQueue();
}

/**
 * Runs `fn` and returns its result with the GPU time of every compute pass it recorded on `backend`. Regions do not
 * nest. A pass TF.js times itself (tf.time / tf.profile inside the region) keeps its own timestamps and is not
 * counted here. Everything is restored afterwards, also when `fn` throws.
 */
export async function timeGpu<T>(backend: WebGpuBackendInternals, fn: () => T | Promise<T>, options: GpuTimeOptions = {}): Promise<GpuTiming<T>> {
  if (!supportsGpuTimestamps(backend)) throw new Error("timeGpu: this GPU device has no 'timestamp-query' feature");
  if (timing) throw new Error('timeGpu: a region is already being timed; regions do not nest');
  timing = true;
  const device = backend.device;
  const sets: GPUQuerySet[] = [];
  const passes: TimedPass[] = [];
  try {
    let result: T;
    const proto = commandEncoderPrototype();
    const original = proto.beginComputePass;
    const watch = options.byKernel ? watchOutermostKernel() : undefined;
    const previousBatch = env().get(BATCH_FLAG);
    try {
      // Dispatches recorded before the region stay in their (untimed) pass; the region's start a new one.
      backend.endComputePassEncoder();
      if (options.byKernel) env().set(BATCH_FLAG, 1);
      proto.beginComputePass = function (this: GPUCommandEncoder, descriptor?: GPUComputePassDescriptor): GPUComputePassEncoder {
        if (this !== backend.commandEncoder || descriptor?.timestampWrites) return original.call(this, descriptor);
        const slot = passes.length * 2;
        const set = Math.floor(slot / QUERIES_PER_SET);
        if (set === sets.length) sets.push(device.createQuerySet({ type: 'timestamp', count: QUERIES_PER_SET, label: `timeGpu ${set}` }));
        passes.push({ slot, label: watch?.current ?? NO_KERNEL });
        const index = slot % QUERIES_PER_SET;
        return original.call(this, { ...descriptor, timestampWrites: { querySet: sets[set]!, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 } });
      };
      result = await fn();
    } finally {
      proto.beginComputePass = original;
      watch?.stop();
      if (options.byKernel) env().set(BATCH_FLAG, previousBatch);
      // The queries are resolved in a later submission: the region's passes must be submitted first.
      flush(backend);
    }
    await device.queue.onSubmittedWorkDone();
    const stamps = await readTimestamps(device, sets, passes.length * 2);
    let totalNs = 0;
    const byLabel = options.byKernel ? new Map<string, number>() : undefined;
    for (const p of passes) {
      // Some drivers' clocks are not monotonic across passes; a negative span counts as zero.
      const ns = Math.max(0, Number(stamps[p.slot + 1]! - stamps[p.slot]!));
      totalNs += ns;
      byLabel?.set(p.label, (byLabel.get(p.label) ?? 0) + ns / 1e6);
    }
    return { result, gpuMs: totalNs / 1e6, passes: passes.length, byLabel, quantumNs: quantum(stamps) };
  } finally {
    for (const s of sets) s.destroy();
    timing = false;
  }
}

/** Resolves the first `count` queries of `sets` (4096 per set, in order) with a command encoder of our own. */
async function readTimestamps(device: GPUDevice, sets: GPUQuerySet[], count: number): Promise<BigUint64Array> {
  if (count === 0) return new BigUint64Array(0);
  const bytes = sets.length * QUERIES_PER_SET * 8;
  const resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'timeGpu resolve' });
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'timeGpu read' });
  try {
    const encoder = device.createCommandEncoder({ label: 'timeGpu' });
    sets.forEach((set, i) => encoder.resolveQuerySet(set, 0, Math.min(QUERIES_PER_SET, count - i * QUERIES_PER_SET), resolved, i * QUERIES_PER_SET * 8));
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const stamps = new BigUint64Array(staging.getMappedRange().slice(0, count * 8));
    staging.unmap();
    return stamps;
  } finally {
    resolved.destroy();
    staging.destroy();
  }
}

/** 2^(trailing zero bits shared by every stamp) when that is large enough to be deliberate. */
function quantum(stamps: BigUint64Array): number | undefined {
  if (stamps.length < 4) return undefined;
  let bits = 0n;
  for (const s of stamps) bits |= s;
  if (bits === 0n) return undefined;
  let zeros = 0;
  while (!((bits >> BigInt(zeros)) & 1n)) zeros++;
  return zeros >= MIN_QUANTUM_BITS ? 2 ** zeros : undefined;
}
