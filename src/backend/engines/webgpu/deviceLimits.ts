/**
 * What the GPU device allows, for sizing the project's temporary buffers. TF.js asks for its device with the
 * adapter's own maxima (a real GPU binds gigabytes), but a device may have WebGPU's defaults — 128 MiB per storage
 * binding, 256 MiB per buffer — and a temporary bigger than its device allows is a validation error that surfaces
 * only as a failed run. Every temporary that can grow with the batch (im2col chunks, partial sums) is sized here.
 * Grids and workgroups need no lookup: the project's kernels stay within WebGPU's guaranteed minimums (65,535
 * workgroups per dimension, 256 invocations and 16 KiB of workgroup memory per workgroup, 8 storage buffers per
 * shader stage), which every device's limits meet or exceed.
 */
import type { WebGpuBackendInternals } from './backendInternals';

/** Elements of `bytesPerElement` bytes that fit one buffer bound as storage on this device. */
export function storageElements(backend: WebGpuBackendInternals, bytesPerElement: number): number {
  const { maxStorageBufferBindingSize, maxBufferSize } = backend.device.limits;
  return Math.floor(Math.min(maxStorageBufferBindingSize, maxBufferSize) / bytesPerElement);
}
