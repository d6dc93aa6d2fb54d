/**
 * One compute dispatch that rewrites several tensors' GPU buffers in place. TF.js' WebGPUProgram has exactly
 * one output binding, so an optimizer update (variable + 1–2 slots) would need one program per tensor; here the
 * shader binds every updated tensor read_write and is recorded into the backend's own command encoder, in
 * order with the backend's programs, exactly as its recordAndSubmit does.
 */
import type { DataId, TensorInfo } from '@tensorflow/tfjs-core';
import type { ProgramUniform, WebGpuBackendInternals } from './backendInternals';
import { flatGrid } from './backendInternals';
import { cachedPipeline, recordDispatch } from './directProgram';

const WORKGROUP = 64;

export interface InPlaceProgram {
  /** Cache key (one pipeline per key per device). */
  key: string;
  /** Names of the read_write bindings (the tensors updated in place), then of the read-only ones. */
  writable: string[];
  readable: string[];
  /** Names of the f32 parameters, after `size` and `rowStride` in the uniform struct. */
  params: string[];
  /** WGSL statements for element `i` (a u32); the bindings are f32 arrays named as above, the params fields of `u`. */
  body: string;
}


function shaderSource(p: InPlaceProgram): string {
  const fields = ['size : u32,', 'rowStride : u32,', ...p.params.map((n) => `${n} : f32,`)].join(' ');
  const bindings = [
    ...p.writable.map((n, i) => `@group(0) @binding(${i + 1}) var<storage, read_write> ${n} : array<f32>;`),
    ...p.readable.map((n, i) => `@group(0) @binding(${p.writable.length + i + 1}) var<storage, read> ${n} : array<f32>;`),
  ].join('\n');
  return `
struct Params { ${fields} };
@group(0) @binding(0) var<uniform> u : Params;
${bindings}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let i = gid.y * u.rowStride + gid.x;
  if (gid.x >= u.rowStride || i >= u.size) { return; }
  ${p.body}
}`;
}

const pipelineFor = (device: GPUDevice, p: InPlaceProgram): GPUComputePipeline => cachedPipeline(device, `inplace:${p.key}`, () => shaderSource(p));

/**
 * Whether `t`'s buffer may be rewritten in place: float32, and held by this one tensor only (clones share a
 * buffer, and the gradient tape keeps clones of a layer's inputs until the backward pass ends).
 */
export function canUpdateInPlace(backend: WebGpuBackendInternals, t: TensorInfo): boolean {
  const data = backend.tensorMap.get(t.dataId);
  return !!data && data.refCount === 1 && data.dtype === 'float32' && t.dtype === 'float32';
}

/** Records the update of every element of `writable` (all of `size` elements) as one dispatch. */
export function runInPlace(backend: WebGpuBackendInternals, program: InPlaceProgram, writable: TensorInfo[], readable: TensorInfo[], params: number[], size: number): void {
  if (writable.length !== program.writable.length || readable.length !== program.readable.length || params.length !== program.params.length) {
    throw new Error(`runInPlace(${program.key}): binding or parameter count mismatch`);
  }
  const tensors = [...writable, ...readable];
  for (const t of tensors) backend.uploadToGPU(t.dataId);
  const grid = flatGrid(size, WORKGROUP);
  const uniforms: ProgramUniform[] = [
    { type: 'uint32', data: [size] },
    { type: 'uint32', data: [grid.rowStride] },
    ...params.map((v): ProgramUniform => ({ type: 'float32', data: [v] })),
  ];
  // A value read back earlier is cached on the CPU and would now be stale.
  for (const t of writable) backend.tensorMap.get(t.dataId as DataId)!.values = null;
  recordDispatch(backend, pipelineFor(backend.device, program), uniforms, tensors, grid.groups);
}
