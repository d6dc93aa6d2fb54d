import assert from 'node:assert/strict';
import path from 'node:path';
import type { SoftwareVulkan } from '../helpers/vulkan';
import { DEFAULT_STORAGE_BINDING_BYTES, WEBGPU_LIMIT_MODES, relativeL2, requireSoftwareVulkan, runTsChild } from '../helpers/vulkan';
import type { EngineResult } from './webgpuKernels.child';
import { DEPTHWISE_CASES, OPTIMIZER_STEPS } from './webgpuKernels.child';

// The project's webgpu kernels (src/backend/engines/webgpu) against stock TF.js on the cpu engine, on Mesa's
// software Vulkan driver (lavapipe): the same code path as on a real GPU, only slower.
const CONV_TOLERANCE = 1e-4;
const OPTIMIZER_TOLERANCE = 1e-5;
/** depthwiseBackpropFilter.ts: partials, then their sum (or the partials pass alone when it is one row). */
const DEPTHWISE_MAX_DISPATCHES = 2;

for (const limits of WEBGPU_LIMIT_MODES) {
  describe(`webgpu kernels and fused optimizers vs stock TF.js on cpu (lavapipe) — ${limits.name}`, function () {
    this.timeout(180_000);
    let vulkan: SoftwareVulkan;
    let result: { cases: string[]; depthwiseCases: string[]; variables: number; cpu: EngineResult; webgpu: EngineResult };

    before(async function () {
      vulkan = requireSoftwareVulkan();
      const r = await runTsChild(path.join(__dirname, 'webgpuKernels.child.ts'), { ...vulkan.env, ...limits.env });
      assert.equal(r.code, 0, r.stderr);
      result = JSON.parse(r.stdout.trim().split('\n').pop()!) as typeof result;
    });

    it('runs on the llvmpipe adapter with the project kernels registered, at the limits asked for', () => {
      assert.match(result.webgpu.device ?? '', /llvmpipe/);
      const limit = result.webgpu.storageBindingLimit!;
      if (limits.env.LESION_LAB_WEBGPU_LIMITS === 'default') assert.equal(limit, DEFAULT_STORAGE_BINDING_BYTES);
      else assert.ok(limit >= DEFAULT_STORAGE_BINDING_BYTES, `adapter binding limit ${limit}`);
      assert.deepEqual(result.webgpu.kernels, ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'LesionLabBatchNormTrain', 'LesionLabBatchNormGrad']);
    });

    it('Conv2DBackpropFilter (matmul / im2col) matches the cpu kernel on every shape, stride and padding', () => {
      const { cases, cpu, webgpu } = result;
      assert.equal(webgpu.conv.length, cases.length);
      cases.forEach((name, i) => {
        const expected = cpu.conv[i]!;
        assert.ok(expected.some((v) => Math.abs(v) > 1e-3), `${name}: the cpu gradient is all zeros`);
        const err = relativeL2(webgpu.conv[i]!, expected);
        assert.ok(err < CONV_TOLERANCE, `${name}: relative L2 ${err}`);
      });
    });

    it('DepthwiseConv2dNativeBackpropFilter (two-pass) matches the cpu kernel on every shape, stride, padding and channel count', () => {
      const { depthwiseCases, cpu, webgpu } = result;
      assert.equal(webgpu.depthwise.length, depthwiseCases.length);
      depthwiseCases.forEach((name, i) => {
        const expected = cpu.depthwise[i]!;
        assert.ok(expected.some((v) => Math.abs(v) > 1e-3), `${name}: the cpu gradient is all zeros`);
        const err = relativeL2(webgpu.depthwise[i]!, expected);
        assert.ok(err < CONV_TOLERANCE, `${name}: relative L2 ${err}`);
      });
    });

    it(`DepthwiseConv2dNativeBackpropFilter takes at most ${DEPTHWISE_MAX_DISPATCHES} dispatches per call, whatever the shape`, () => {
      const { depthwiseCases, webgpu } = result;
      assert.equal(webgpu.depthwiseDispatches.length, depthwiseCases.length);
      depthwiseCases.forEach((name, i) => {
        const n = webgpu.depthwiseDispatches[i]!;
        // ≥ 1: the kernel ran on the GPU (TF.js forwards some small ops to its CPU kernels, which dispatch nothing).
        assert.ok(n >= 1 && n <= DEPTHWISE_MAX_DISPATCHES, `${name}: ${n} dispatches`);
        if (DEPTHWISE_CASES[i]!.name.includes('one row chunk')) assert.equal(n, 1, `${name}: one partial row needs no summing pass`);
      });
    });

    for (const name of ['rmsprop', 'adam', 'sgd'] as const) {
      it(`fused ${name}: ${OPTIMIZER_STEPS} steps give the stock optimizer's variables and slots, in one dispatch per variable`, () => {
        const cpu = result.cpu.optimizers[name];
        const gpu = result.webgpu.optimizers[name];
        // One program per variable; the stock optimizer issues 6–11.
        assert.equal(gpu.dispatchesPerStep, result.variables);
        assert.deepEqual(gpu.weightNames, cpu.weightNames);
        assert.equal(gpu.weightNames[0], 'iter');
        assert.equal(gpu.weightValues[0]![0], OPTIMIZER_STEPS);
        cpu.finalVariables.forEach((expected, i) => {
          const err = relativeL2(gpu.finalVariables[i]!, expected);
          assert.ok(err < OPTIMIZER_TOLERANCE, `variable ${i}: relative L2 ${err}`);
        });
        cpu.weightValues.forEach((expected, i) => {
          assert.ok(expected.some((v) => v !== 0), `${cpu.weightNames[i]}: the stock slot never moved`);
          const err = relativeL2(gpu.weightValues[i]!, expected);
          assert.ok(err < OPTIMIZER_TOLERANCE, `${cpu.weightNames[i]}: relative L2 ${err}`);
        });
      });

      it(`fused ${name}: resuming through getWeights()/setWeights() continues as the uninterrupted run`, () => {
        const cpu = result.cpu.optimizers[name];
        const gpu = result.webgpu.optimizers[name];
        cpu.finalVariables.forEach((expected, i) => {
          const err = relativeL2(gpu.resumedVariables[i]!, expected);
          assert.ok(err < OPTIMIZER_TOLERANCE, `variable ${i} after resume: relative L2 ${err}`);
        });
      });
    }
  });
}
