import assert from 'node:assert/strict';
import { initEngine } from '../../../src/backend/engines/load';
import { WASM_REPLACED_KERNELS, projectWasmKernels, registerWasmGradientKernels } from '../../../src/backend/engines/wasmKernels';
import type { EngineResult } from '../../helpers/batchNormParity';
import { BATCH_NORM_CASES, TRAIN_STEPS, caseResult, trainSmallModel } from '../../helpers/batchNormParity';
import { relativeL2 } from '../../helpers/vulkan';

// The fused training-mode batch normalisation on wasm (src/backend/engines/wasmBatchNorm.ts) against the stock
// TF.js layer on the cpu engine: the same workload as the webgpu test, in this process.
const TOLERANCE = 1e-5;
const LOSS_TOLERANCE = 1e-4;
const FIELDS = ['y', 'movingMean', 'movingVariance', 'dx', 'dgamma', 'dbeta', 'inference'] as const;

async function runOn(engine: 'cpu' | 'wasm'): Promise<EngineResult> {
  const loaded = await initEngine(engine);
  const cases = [];
  for (const [i, c] of BATCH_NORM_CASES.entries()) cases.push(await caseResult(c, i, engine));
  return { engine, device: loaded.device, kernels: engine === 'wasm' ? projectWasmKernels() : [], cases, ...(await trainSmallModel(engine)) };
}

describe('engines › fused batch normalisation on wasm vs the stock layer on cpu', function () {
  this.timeout(120_000);
  let cpu: EngineResult;
  let wasm: EngineResult;
  let stockOnWasm: Awaited<ReturnType<typeof trainSmallModel>>;

  before(async () => {
    cpu = await runOn('cpu');
    wasm = await runOn('wasm');
    registerWasmGradientKernels(WASM_REPLACED_KERNELS);
    try {
      stockOnWasm = await trainSmallModel('wasm');
    } finally {
      registerWasmGradientKernels();
      await initEngine('cpu');
    }
  });

  it('registers both batch-norm kernels for wasm', () => {
    assert.ok(wasm.kernels.includes('LesionLabBatchNormTrain') && wasm.kernels.includes('LesionLabBatchNormGrad'), wasm.kernels.join(', '));
  });

  it('output, moving mean/variance and the gradients w.r.t. x, γ and β match the stock layer on every shape', () => {
    for (const [i, c] of BATCH_NORM_CASES.entries()) {
      for (const field of FIELDS) {
        const expected = cpu.cases[i]![field];
        assert.ok(expected.some((v) => Math.abs(v) > 1e-3), `${c.name} ${field}: the cpu values are all ~0`);
        const err = relativeL2(wasm.cases[i]![field], expected);
        assert.ok(err < TOLERANCE, `${c.name} ${field}: relative L2 ${err}`);
      }
    }
  });

  it('a training-mode forward pass is one kernel (plus the custom-gradient op around it)', () => {
    for (const [i, c] of BATCH_NORM_CASES.entries()) assert.ok(wasm.cases[i]!.forwardDispatches! <= 2, `${c.name}: ${wasm.cases[i]!.forwardDispatches} kernel calls`);
  });

  it(`${TRAIN_STEPS} training steps of a seeded conv + BN model give the cpu losses and moving statistics, with fewer kernel calls and no leak`, () => {
    assert.ok(cpu.losses[TRAIN_STEPS - 1]! < cpu.losses[0]!, `the model did not learn: ${cpu.losses.join(', ')}`);
    for (const [what, run] of [['fused', wasm], ['stock ops on wasm', stockOnWasm]] as const) {
      cpu.losses.forEach((loss, i) => {
        const err = Math.abs(run.losses[i]! - loss) / Math.abs(loss);
        assert.ok(err < LOSS_TOLERANCE, `${what}, step ${i + 1}: loss ${run.losses[i]} vs ${loss}`);
      });
      assert.ok(relativeL2(run.movingStatistics, cpu.movingStatistics) < TOLERANCE, `${what}: moving statistics`);
      assert.equal(new Set(run.tensorsAfterStep).size, 1, `${what}: live tensors after each step: ${run.tensorsAfterStep.join(', ')}`);
    }
    // Two BN layers: the stock ops take ~40 kernel calls each per step.
    assert.ok(wasm.stepDispatches! <= stockOnWasm.stepDispatches! - 2 * 20, `kernel calls per step: fused ${wasm.stepDispatches}, stock ${stockOnWasm.stepDispatches}`);
  });
});
