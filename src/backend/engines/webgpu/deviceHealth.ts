/**
 * WebGPU reports failures out of band: running out of memory, a rejected operation (a buffer over the device's
 * size limit at a large batch) or a lost device never throw where they happen; they arrive later as
 * `uncapturederror` events or through `device.lost`, and the program goes on computing garbage. Left unhandled,
 * Dawn also prints them on stdout, which breaks `--json`. This records the first failure so the training loop can
 * stop before the next checkpoint is written (checkGpuHealth), naming the engine and what to try.
 */

let failure: string | undefined;
const watched = new WeakSet<GPUDevice>();

function describe(error: GPUError): string {
  const first = (error.message.split('\n').find((l) => l.trim().length > 0) ?? '').trim().replace(/\.+$/, '');
  if (typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError) return `GPU out of memory (${first})`;
  if (typeof GPUValidationError !== 'undefined' && error instanceof GPUValidationError) return `the GPU rejected an operation: ${first}`;
  return `GPU error: ${first}`;
}

/** Starts recording the device's uncaptured errors and its loss. */
export function watchGpuDevice(device: GPUDevice): void {
  if (watched.has(device)) return;
  watched.add(device);
  device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
    failure ??= describe(event.error);
    event.preventDefault();
  };
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') failure ??= `the GPU device was lost${info.message ? ` (${info.message.split('\n')[0]})` : ''}`;
  });
}

/** Thrown by checkGpuHealth: train.ts turns it into a message that names the engine and suggests a smaller batch. */
export class GpuFailure extends Error {}

/**
 * Waits for the work submitted so far, then throws GpuFailure if the device reported a failure since it was
 * watched (or since the last failure was taken).
 */
export async function checkGpuHealth(device: GPUDevice): Promise<void> {
  await device.queue.onSubmittedWorkDone();
  const found = failure;
  failure = undefined;
  if (found) throw new GpuFailure(found);
}

/**
 * A real failure on demand, for tests of the failure path (LESION_LAB_GPU_FAULT_AT_EPOCH): asks the device for a
 * buffer far over its limit, which Dawn rejects asynchronously as it would a batch that does not fit.
 */
export function provokeGpuFailure(device: GPUDevice): void {
  device.createBuffer({ size: device.limits.maxBufferSize * 4, usage: GPUBufferUsage.STORAGE });
}
