/**
 * Child program of webgpuBatchNorm.test.ts (the Vulkan variables must be set at process start): runs the
 * batch-norm parity workload (test/helpers/batchNormParity.ts) on the `cpu` engine (stock TF.js ops) and on
 * `webgpu` (the fused batch-norm kernels), and prints one JSON line for the test to compare:
 *   - per shape: the training-mode output, the moving mean/variance after that one update, and the gradients of
 *     a weighted sum of the output w.r.t. x, γ and β; on webgpu also the dispatches of the forward pass, and
 *     the inference-mode output (the stock path) after the update;
 *   - TRAIN_STEPS trainOnBatch losses of a seeded conv + BN model, its moving statistics afterwards, and the
 *     number of live tensors after each step (a leak would grow it); on webgpu also the GPU dispatches of its
 *     last step, and the same run with the batch-norm kernels unregistered (the stock ops on webgpu).
 *   node --require tsx/cjs test/backend/webgpuBatchNorm.child.ts
 */
import type { EngineName } from '../../src/shared/protocol/engines';
import { initEngine } from '../../src/backend/engines/load';
import { activeWebGpuKernels, useWebGpuKernels } from '../../src/backend/engines/webgpu/register';
import type { CaseResult, EngineResult, TrainingResult } from '../helpers/batchNormParity';
import { BATCH_NORM_CASES, caseResult, trainSmallModel } from '../helpers/batchNormParity';
import { exitWhenDone } from '../helpers/vulkan';

export type { BatchNormCase, CaseResult, EngineResult } from '../helpers/batchNormParity';
export { TRAIN_STEPS } from '../helpers/batchNormParity';

async function runOn(engine: EngineName): Promise<EngineResult> {
  const loaded = await initEngine(engine);
  const cases: CaseResult[] = [];
  for (const [i, c] of BATCH_NORM_CASES.entries()) cases.push(await caseResult(c, i, engine));
  const training = await trainSmallModel(engine);
  const kernels = engine === 'webgpu' ? activeWebGpuKernels() : [];
  let stockBatchNorm: TrainingResult | undefined;
  if (engine === 'webgpu') {
    useWebGpuKernels(['Conv2DBackpropFilter']);
    stockBatchNorm = await trainSmallModel(engine);
    useWebGpuKernels();
  }
  return { engine, device: loaded.device, kernels, cases, ...training, stockBatchNorm };
}

async function main(): Promise<void> {
  const cpu = await runOn('cpu');
  const webgpu = await runOn('webgpu');
  // A pipe is written asynchronously: exit only once the line is out.
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify({ cases: BATCH_NORM_CASES, cpu, webgpu }) + '\n', () => resolve()));
}

if (require.main === module) exitWhenDone(main);
