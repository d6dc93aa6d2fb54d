import assert from 'node:assert/strict';
import path from 'node:path';
import type { SoftwareVulkan } from '../helpers/vulkan';
import { WEBGPU_LIMIT_MODES, relativeL2, requireSoftwareVulkan, runTsChild } from '../helpers/vulkan';
import type { MixedResult } from './webgpuMixed.child';
import { MIXED_CASES } from './webgpuMixed.child';

// `--precision mixed`'s float16 convolution kernels against stock TF.js on cpu (float32), on lavapipe.
// float16 keeps 11 significant bits, so a result rounded from float16 operands lands ~3e-4 (relative L2) from
// the float32 one: well inside MIXED_TOLERANCE, and far above FLOAT32_TOLERANCE, which shows the float16 path ran.
const MIXED_TOLERANCE = 2e-3;
const FLOAT32_TOLERANCE = 1e-5;

/** Dispatches each call may record: 1 matmul, or im2col + matmul per batch chunk; filter gradients add one summing pass. */
function dispatchBound(c: (typeof MIXED_CASES)[number]): number {
  const pointwise = c.filter[0] === 1 && c.filter[1] === 1 && c.strides === 1;
  const chunks = c.chunkLimit ? c.x[0] : 1; // at most one image per chunk
  const perChunk = pointwise ? 1 : 2;
  return c.op === 'filter' ? perChunk * chunks + 1 : perChunk * chunks;
}

for (const limits of WEBGPU_LIMIT_MODES) {
  describe(`mixed precision (float16) convolution kernels vs float32 (lavapipe) — ${limits.name}`, function () {
    this.timeout(180_000);
    let vulkan: SoftwareVulkan;
    let result: MixedResult;

    before(async function () {
      vulkan = requireSoftwareVulkan();
      const r = await runTsChild(path.join(__dirname, 'webgpuMixed.child.ts'), { ...vulkan.env, ...limits.env });
      assert.equal(r.code, 0, r.stderr);
      result = JSON.parse(r.stdout.trim().split('\n').pop()!) as MixedResult;
    });

    it('runs on a device with shader-f16 (lavapipe offers it)', () => {
      assert.match(result.device, /llvmpipe/);
      assert.equal(result.hasHalf, true);
      assert.equal(result.cases.length, MIXED_CASES.length);
    });

    MIXED_CASES.forEach((c, i) => {
      const float32Only = /stays float32/.test(c.name);
      it(`${c.name}: ${float32Only ? 'the float32 kernel runs' : 'float16 operands, float32 sums, within float16 rounding of cpu'}`, () => {
        const cpu = result.cpu[i]!;
        assert.ok(cpu.some((v) => Math.abs(v) > (c.dyScale ?? 1) * 1e-3), 'the cpu result is all zeros');
        assert.equal(result.mixed[i]!.length, cpu.length);
        assert.ok(relativeL2(result.float32[i]!, cpu) < FLOAT32_TOLERANCE, 'webgpu float32 differs from cpu');
        const err = relativeL2(result.mixed[i]!, cpu);
        if (float32Only) {
          assert.deepEqual(result.mixed[i], result.float32[i], 'the same float32 kernel, the same numbers');
          return;
        }
        // Tiny gradients (1e-7) would flush to float16 zeros or subnormals without the loss scale.
        assert.ok(err < MIXED_TOLERANCE, `relative L2 ${err}`);
        assert.ok(err > FLOAT32_TOLERANCE, `relative L2 ${err}: no float16 rounding, so the float16 kernel did not run`);
        assert.ok(result.dispatches[i]! >= 1 && result.dispatches[i]! <= dispatchBound(c), `${result.dispatches[i]} dispatches, 1 to ${dispatchBound(c)} expected`);
      });
    });
  });
}
