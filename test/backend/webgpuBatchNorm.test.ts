import assert from 'node:assert/strict';
import path from 'node:path';
import type { SoftwareVulkan } from '../helpers/vulkan';
import { WEBGPU_LIMIT_MODES, relativeL2, requireSoftwareVulkan, runTsChild } from '../helpers/vulkan';
import type { BatchNormCase, CaseResult, EngineResult } from './webgpuBatchNorm.child';
import { TRAIN_STEPS } from './webgpuBatchNorm.child';

// The fused training-mode batch normalisation (src/backend/engines/webgpu/batchNormKernels.ts) against the stock
// TF.js layer on the cpu engine, on Mesa's software Vulkan driver (lavapipe).
const TOLERANCE = 1e-4;
const LOSS_TOLERANCE = 1e-3;
const FIELDS = ['y', 'movingMean', 'movingVariance', 'dx', 'dgamma', 'dbeta', 'inference'] as const satisfies readonly (keyof CaseResult)[];



function assertLossesMatch(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, TRAIN_STEPS);
  expected.forEach((loss, i) => {
    const err = Math.abs(actual[i]! - loss) / Math.abs(loss);
    assert.ok(err < LOSS_TOLERANCE, `${what}, step ${i + 1}: loss ${actual[i]} vs ${loss} (relative ${err})`);
  });
}

for (const limits of WEBGPU_LIMIT_MODES) {
  describe(`fused batch normalisation on webgpu vs the stock layer on cpu (lavapipe) — ${limits.name}`, function () {
    this.timeout(180_000);
    let vulkan: SoftwareVulkan;
    let result: { cases: BatchNormCase[]; cpu: EngineResult; webgpu: EngineResult };

    before(async function () {
      vulkan = requireSoftwareVulkan();
      const r = await runTsChild(path.join(__dirname, 'webgpuBatchNorm.child.ts'), { ...vulkan.env, ...limits.env });
      assert.equal(r.code, 0, r.stderr);
      result = JSON.parse(r.stdout.trim().split('\n').pop()!) as typeof result;
    });

    it('runs on the llvmpipe adapter with the batch-norm kernels registered', () => {
      assert.match(result.webgpu.device ?? '', /llvmpipe/);
      assert.ok(result.webgpu.kernels.includes('LesionLabBatchNormTrain') && result.webgpu.kernels.includes('LesionLabBatchNormGrad'), result.webgpu.kernels.join(', '));
    });

    it('a training-mode forward pass is 3 GPU dispatches (statistics, moving averages, normalise)', () => {
      for (const [i, c] of result.cases.entries()) assert.equal(result.webgpu.cases[i]!.forwardDispatches, 3, c.name);
    });

    it('output, moving mean/variance and the gradients w.r.t. x, γ and β match the stock layer on every shape', () => {
      for (const [i, c] of result.cases.entries()) {
        const cpu = result.cpu.cases[i]!;
        const gpu = result.webgpu.cases[i]!;
        for (const field of FIELDS) {
          assert.ok(cpu[field].some((v) => Math.abs(v) > 1e-3), `${c.name} ${field}: the cpu values are all ~0`);
          const err = relativeL2(gpu[field], cpu[field]);
          assert.ok(err < TOLERANCE, `${c.name} ${field}: relative L2 ${err}`);
        }
      }
    });

    it(`${TRAIN_STEPS} training steps of a seeded conv + BN model give the cpu losses and moving statistics`, () => {
      const { cpu, webgpu } = result;
      assertLossesMatch(webgpu.losses, cpu.losses, 'fused');
      assert.ok(cpu.losses[TRAIN_STEPS - 1]! < cpu.losses[0]!, `the model did not learn: ${cpu.losses.join(', ')}`);
      const err = relativeL2(webgpu.movingStatistics, cpu.movingStatistics);
      assert.ok(err < TOLERANCE, `moving statistics: relative L2 ${err}`);
    });

    it('training through the fused op leaks no tensors and issues fewer dispatches than the stock ops on webgpu', () => {
      const { webgpu } = result;
      const stock = webgpu.stockBatchNorm!;
      assert.equal(new Set(webgpu.tensorsAfterStep).size, 1, `live tensors after each step: ${webgpu.tensorsAfterStep.join(', ')}`);
      assert.equal(new Set(stock.tensorsAfterStep).size, 1, `live tensors after each step (stock): ${stock.tensorsAfterStep.join(', ')}`);
      assertLossesMatch(stock.losses, result.cpu.losses, 'stock ops on webgpu');
      // Two BN layers: the stock ops take ~40–50 dispatches each per step, the fused op 5.
      assert.ok(webgpu.stepDispatches! <= stock.stepDispatches! - 2 * 12, `dispatches per step: fused ${webgpu.stepDispatches}, stock ${stock.stepDispatches}`);
    });
  });
}
