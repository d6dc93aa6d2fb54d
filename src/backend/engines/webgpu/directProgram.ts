/**
 * One compute dispatch with several outputs, written straight into the backend's command stream. TF.js'
 * WebGPUProgram binds exactly one output; a fused batch-norm pass produces two to four (normalised values,
 * statistics, the new moving averages; or dx, dγ, dβ), so these programs are plain WGSL bound here: the
 * uniform struct at binding 0, then the outputs (read_write, freshly allocated by the backend), then the inputs
 * (read-only), recorded in order with the backend's own programs exactly as its recordAndSubmit does.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { env, util } from '@tensorflow/tfjs-core';
import type { ProgramUniform, WebGpuBackendInternals } from './backendInternals';

export interface DirectProgram {
  /** Cache key (one pipeline per key per device): every compile-time constant in `main` must be in it. */
  key: string;
  outputs: string[];
  inputs: string[];
  /** The uniform struct's fields, in order; all 4-byte scalars. */
  uniforms: { name: string; type: 'u32' | 'f32' }[];
  /** WGSL after the bindings: constants, workgroup variables and `fn main` with its @compute attributes. */
  main: string;
  /**
   * Bindings whose elements are float16 (`array<f16>`, the shader then starts with `enable f16;`). Their tensors
   * are float32 to TF.js and hold two halves per element (allocateHalfStorage); only these programs read them.
   */
  halfBindings?: string[];
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function shaderSource(p: DirectProgram): string {
  const fields = p.uniforms.map((f) => `${f.name} : ${f.type},`).join(' ');
  const half = new Set(p.halfBindings ?? []);
  const element = (n: string) => (half.has(n) ? 'f16' : 'f32');
  const bindings = [
    ...p.outputs.map((n, i) => `@group(0) @binding(${i + 1}) var<storage, read_write> ${n} : array<${element(n)}>;`),
    ...p.inputs.map((n, i) => `@group(0) @binding(${p.outputs.length + i + 1}) var<storage, read> ${n} : array<${element(n)}>;`),
  ].join('\n');
  const enable = half.size > 0 || /\bf16\b/.test(p.main) ? 'enable f16;\n' : '';
  return `${enable}struct Params { ${fields} };\n@group(0) @binding(0) var<uniform> u : Params;\n${bindings}\n${p.main}`;
}

/** A compute pipeline per device and key, compiled once (shader compilation is the slow part). */
export function cachedPipeline(device: GPUDevice, key: string, source: () => string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let pipeline = cache.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ code: source(), label: key });
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    cache.set(key, pipeline);
  }
  return pipeline;
}

const pipelineFor = (device: GPUDevice, p: DirectProgram): GPUComputePipeline => cachedPipeline(device, `direct:${p.key}`, () => shaderSource(p));

/** A new float32 tensor on the GPU (contents undefined until a program writes them). */
export function allocateOutput(backend: WebGpuBackendInternals, shape: number[], dtype: DataType = 'float32'): TensorInfo {
  const t = backend.makeTensorInfo(shape, dtype);
  backend.uploadToGPU(t.dataId);
  return t;
}

/** A GPU buffer for `count` float16 values, typed float32 for TF.js (two halves per element, rounded up). */
export function allocateHalfStorage(backend: WebGpuBackendInternals, count: number): TensorInfo {
  return allocateOutput(backend, [Math.max(1, Math.ceil(count / 2))]);
}

/** Records `program` over `workgroups`, writing `outputs` (from allocateOutput) from `inputs`. */
export function runDirect(backend: WebGpuBackendInternals, program: DirectProgram, outputs: TensorInfo[], inputs: TensorInfo[], uniforms: number[], workgroups: [number, number, number]): void {
  if (outputs.length !== program.outputs.length || inputs.length !== program.inputs.length || uniforms.length !== program.uniforms.length) {
    throw new Error(`runDirect(${program.key}): binding or uniform count mismatch`);
  }
  const limit = backend.device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((n) => n > limit)) throw new Error(`runDirect(${program.key}): ${workgroups.join('×')} workgroups exceed the device limit ${limit}`);
  const tensors = [...outputs, ...inputs];
  for (const t of tensors) {
    if (util.sizeFromShape(t.shape) === 0) throw new Error(`runDirect(${program.key}): empty tensor`);
    backend.uploadToGPU(t.dataId);
  }
  const params = program.uniforms.map((f, i): ProgramUniform => ({ type: f.type === 'u32' ? 'uint32' : 'float32', data: [uniforms[i]!] }));
  recordDispatch(backend, pipelineFor(backend.device, program), params, tensors, workgroups);
}

/**
 * Encodes one compute dispatch into TF.js' own command encoder and compute pass, the way its
 * programs are recorded: binding 0 holds the uniforms, then one storage buffer per tensor, in order.
 * Submits when the backend's deferred batch is full, as TF.js does.
 */
export function recordDispatch(
  backend: WebGpuBackendInternals,
  pipeline: GPUComputePipeline,
  uniforms: ProgramUniform[],
  tensors: TensorInfo[],
  workgroups: [number, number, number],
): void {
  const bindGroup = backend.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: backend.makeUniforms(uniforms) },
      ...tensors.map((t, i) => ({ binding: i + 1, resource: { buffer: backend.tensorMap.get(t.dataId)!.resource as GPUBuffer } })),
    ],
  });
  for (const t of tensors) backend.commandQueueOwnedIds.add(t.dataId as object);
  backend.ensureCommandEncoderReady();
  if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder!.beginComputePass({});
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
  backend.dispatchCountInPass++;
  if ((env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}
