/**
 * The parts of TF.js 4.22's WebGPUBackend that the project's kernels use. Most are private in its typings but
 * stable in the shipped code; `webgpuBackend()` checks that they exist, so a TF.js upgrade that moves them fails
 * at start-up (and the project's kernels stay off) instead of mid-training.
 */
import type { DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { backend as activeBackend, getBackend } from '@tensorflow/tfjs-core';

export interface ProgramUniform {
  type: 'int32' | 'float32' | 'uint32';
  data: number[];
}

/** tfjs-backend-webgpu's WebGPUProgram (its typings export it as a type only). */
export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

interface TensorData {
  values: unknown;
  dtype: DataType;
  shape: number[];
  refCount: number;
  resource?: unknown;
}

export interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: DataId): TensorData | undefined };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  runWebGPUProgram(program: WebGpuProgram, inputs: TensorInfo[], outputDtype: DataType, uniforms?: ProgramUniform[], output?: TensorInfo): TensorInfo;
  makeTensorInfo(shape: number[], dtype: DataType): TensorInfo;
  uploadToGPU(dataId: DataId): void;
  makeUniforms(uniforms: ProgramUniform[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

const REQUIRED_METHODS = ['runWebGPUProgram', 'makeTensorInfo', 'uploadToGPU', 'makeUniforms', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue', 'disposeData'] as const;

/** Whether a WebGPUBackend instance has everything this folder relies on. */
export function hasExpectedInternals(b: unknown): b is WebGpuBackendInternals {
  const o = b as Record<string, unknown> | null;
  return (
    !!o &&
    REQUIRED_METHODS.every((m) => typeof o[m] === 'function') &&
    typeof o.device === 'object' &&
    o.tensorMap instanceof Object &&
    typeof (o.tensorMap as { get?: unknown }).get === 'function' &&
    typeof o.dispatchCountInPass === 'number' &&
    o.commandQueueOwnedIds instanceof WeakSet
  );
}

/** The active webgpu backend, or undefined when another backend is active. */
export function webgpuBackend(): WebGpuBackendInternals | undefined {
  if (getBackend() !== 'webgpu') return undefined;
  const b = activeBackend();
  return hasExpectedInternals(b) ? b : undefined;
}

/**
 * A flat 1-D grid of `size` invocations in workgroups of `workgroup`: WebGPU caps each dimension at 65535
 * workgroups, so the grid spills into y like the backend's own; `rowStride` is the invocations per y row.
 */
export function flatGrid(size: number, workgroup = 64): { groups: [number, number, number]; rowStride: number } {
  const groups = Math.ceil(size / workgroup);
  const y = Math.ceil(groups / 65535);
  const x = Math.ceil(groups / y);
  return { groups: [x, y, 1], rowStride: x * workgroup };
}

/** flatGrid's workgroup counts (for programs that index by workgroup and local id themselves). */
export function flatDispatch(size: number, workgroup = 64): [number, number, number] {
  return flatGrid(size, workgroup).groups;
}
