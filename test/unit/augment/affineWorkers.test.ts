import assert from 'node:assert/strict';
import { createAffineRunner } from '../../../src/backend/augment/affineWorkers';
import { applyAffine, sampleAffineParams } from '../../../src/backend/augment/kerasAffine';
import type { FillOptions } from '../../../src/backend/augment/kerasAffine';
import { createRng } from '../../../src/shared/random';

describe('affine runners', () => {
  const w = 50;
  const h = 40;
  const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 29 + (i >> 7)) % 256);
  const fills: FillOptions[] = [{ mode: 'nearest' }, { mode: 'reflect' }, { mode: 'wrap' }, { mode: 'constant', cval: 9 }];

  for (const workers of [0, 2]) {
    it(`${workers === 0 ? 'inline' : `${workers} worker threads`}: the same bytes as applyAffine, for every fill mode`, async () => {
      const runner = createAffineRunner(workers);
      try {
        const source = runner.share({ data, width: w, height: h, channels: 3 });
        const rng = createRng(17);
        const jobs = Array.from({ length: 24 }, (_, i) => ({ params: sampleAffineParams(rng), fill: fills[i % fills.length]! }));
        const results = await Promise.all(jobs.map((j) => runner.transform(source, j.params, j.fill)));
        for (const [i, j] of jobs.entries()) assert.deepEqual(results[i], applyAffine(data, w, h, j.params, j.fill), `job ${i}`);
      } finally {
        await runner.close();
      }
    });
  }

  it('a worker runner refuses a source it did not share', async () => {
    const runner = createAffineRunner(1);
    try {
      await assert.rejects(runner.transform({ packed: new Uint32Array(w * h), width: w, height: h, channels: 3 }, sampleAffineParams(createRng(1)), { mode: 'nearest' }));
    } finally {
      await runner.close();
    }
  });
});
