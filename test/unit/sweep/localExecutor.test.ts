import assert from 'node:assert/strict';
import { localGpuCount, localSlotCount, slotGpuEnv } from '../../../src/backend/sweep/localExecutor';

describe('local executor: one run per GPU (LESION_LAB_LOCAL_GPUS)', () => {
  it('reads the GPU count; anything but a whole number ≥ 1 is none', () => {
    assert.equal(localGpuCount({ LESION_LAB_LOCAL_GPUS: '4' }), 4);
    for (const v of [undefined, '', '0', '-2', '1.5', 'two']) assert.equal(localGpuCount(v === undefined ? {} : { LESION_LAB_LOCAL_GPUS: v }), 0, String(v));
  });

  it('runs one task per GPU at a time by default; --parallel overrides', () => {
    assert.equal(localSlotCount(undefined, 0), 1);
    assert.equal(localSlotCount(undefined, 1), 1);
    assert.equal(localSlotCount(undefined, 4), 4);
    assert.equal(localSlotCount(2, 4), 2);
    assert.equal(localSlotCount(6, 0), 6);
  });

  it('gives slot k GPU k mod G, so G slots use every GPU once and more slots share them round-robin; one GPU or none sets nothing', () => {
    assert.deepEqual([0, 1, 2, 3].map((slot) => slotGpuEnv(slot, 4).CUDA_VISIBLE_DEVICES), ['0', '1', '2', '3']);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((slot) => slotGpuEnv(slot, 2).CUDA_VISIBLE_DEVICES), ['0', '1', '0', '1', '0', '1']);
    assert.deepEqual(slotGpuEnv(0, 1), {});
    assert.deepEqual(slotGpuEnv(3, 0), {});
  });
});
