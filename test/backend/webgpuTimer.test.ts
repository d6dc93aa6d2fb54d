import assert from 'node:assert/strict';
import path from 'node:path';
import { WEBGPU_LIMIT_MODES, requireSoftwareVulkan, runTsChild } from '../helpers/vulkan';
import type { TimerChildResult } from './webgpuTimer.child';
import { CALLER_BATCH_SIZE, MANY_PASSES } from './webgpuTimer.child';

// gpuTimer.ts (GPU time of a region from timestamp queries, per kernel on request) on Mesa's software Vulkan
// driver (lavapipe), which has 'timestamp-query'. Times are only checked to exist and add up, never compared.
const SUM_TOLERANCE_MS = 1e-6;

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((a, b) => a + b, 0);
}

for (const limits of WEBGPU_LIMIT_MODES) {
  describe(`GPU timer from timestamp queries (lavapipe) — ${limits.name}`, function () {
    this.timeout(180_000);
    let r: TimerChildResult;

    before(async function () {
      const vulkan = requireSoftwareVulkan();
      const child = await runTsChild(path.join(__dirname, 'webgpuTimer.child.ts'), { ...vulkan.env, ...limits.env });
      assert.equal(child.code, 0, child.stderr);
      r = JSON.parse(child.stdout.trim().split('\n').pop()!) as TimerChildResult;
    });

    it('runs on llvmpipe with timestamp queries and no WebGPU validation errors', () => {
      assert.match(r.device ?? '', /llvmpipe/);
      assert.equal(r.timestampQuery, true);
      assert.deepEqual(r.validationErrors, []);
    });

    it('times a real matMul: at least one pass, positive GPU time, and the product is right', () => {
      assert.ok(r.matMul.passes >= 1, `passes ${r.matMul.passes}`);
      assert.ok(r.matMul.gpuMs > 0, `gpuMs ${r.matMul.gpuMs}`);
      assert.ok(Math.abs(r.matMul.value - r.matMul.expected) < 1e-3 * Math.max(1, Math.abs(r.matMul.expected)), `${r.matMul.value} vs ${r.matMul.expected}`);
    });

    it('per kernel: one pass per dispatch (TF.js programs and recordDispatch), kernels named, the parts add up to the total', () => {
      const { conv } = r;
      assert.equal(conv.batchInside, 1);
      assert.equal(conv.passes, conv.dispatches);
      assert.deepEqual(Object.keys(conv.byLabel).sort(), Object.keys(conv.dispatchesByKernel).sort());
      // The fused optimizer: one dispatch for its one variable, outside every kernel.
      assert.equal(conv.dispatchesByKernel['(no kernel)'], 1);
      for (const k of ['Conv2D', 'Relu', '(no kernel)']) assert.ok((conv.byLabel[k] ?? 0) > 0, `${k}: ${conv.byLabel[k]} ms in ${JSON.stringify(conv.byLabel)}`);
      assert.ok(Math.abs(sum(conv.byLabel) - conv.gpuMs) < SUM_TOLERANCE_MS, `${sum(conv.byLabel)} vs ${conv.gpuMs}`);
    });

    it('spans several query sets when a region has more passes than one set holds', () => {
      assert.equal(r.many.passes, MANY_PASSES);
      assert.ok(r.many.gpuMs > 0);
      assert.deepEqual(Object.keys(r.many.byLabel), ['Add']);
      assert.ok(Math.abs(sum(r.many.byLabel) - r.many.gpuMs) < SUM_TOLERANCE_MS);
    });

    it("timestamps are not quantized (webgpuDevice.ts disables Dawn's timestamp_quantization)", () => {
      assert.equal(r.many.quantumNs, null);
    });

    it('labels a tf.customGrad op (runKernelFunc without a kernelName) after the kernel it wraps', () => {
      assert.deepEqual(r.customGradLabels, ['customGrad(Relu)']);
    });

    it("leaves TF.js' own tf.time() working, inside a region (whose passes it keeps) and after", () => {
      assert.ok(r.tfTimeInside.kernelMs > 0, `kernelMs ${r.tfTimeInside.kernelMs}`);
      assert.equal(r.tfTimeInside.passes, 0);
      assert.ok(r.after.tfTimeKernelMs > 0, `kernelMs ${r.after.tfTimeKernelMs}`);
    });

    it('restores the batch flag, runKernelFunc and beginComputePass; a later op works and is not timed', () => {
      assert.equal(r.after.batchSize, CALLER_BATCH_SIZE);
      assert.equal(r.after.runKernelFuncOwn, false);
      assert.equal(r.after.runKernelFuncIsPrototype, true);
      assert.equal(r.after.beginComputePassRestored, true);
      assert.ok(r.after.laterPasses >= 1);
      assert.equal(r.after.laterTimedPasses, 0);
      assert.ok(Math.abs(r.after.laterError) < 1e-6, `later add off by ${r.after.laterError}`);
    });
  });
}
