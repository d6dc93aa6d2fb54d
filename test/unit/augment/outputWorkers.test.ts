import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOutputRunner, encodeJpeg } from '../../../src/backend/augment/outputWorkers';
import type { FillOptions } from '../../../src/backend/augment/kerasAffine';
import { applyAffine, kerasContrastStretch, sampleAffineParams } from '../../../src/backend/augment/kerasAffine';
import { createRng } from '../../../src/shared/random';

describe('augment output runners', () => {
  const w = 50;
  const h = 40;
  const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 29 + (i >> 7)) % 256);
  const fills: FillOptions[] = [{ mode: 'nearest' }, { mode: 'reflect' }, { mode: 'wrap' }, { mode: 'constant', cval: 9 }];
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-outputs-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  for (const workers of [0, 2]) {
    it(`${workers === 0 ? 'inline' : `${workers} worker threads`}: writes the JPEG of applyAffine's pixels, for every fill mode and the contrast stretch, and no temporary files`, async () => {
      const runner = createOutputRunner(workers);
      try {
        const source = runner.share({ data, width: w, height: h, channels: 3 });
        const rng = createRng(17);
        const jobs = Array.from({ length: 24 }, (_, i) => ({ params: sampleAffineParams(rng), fill: fills[i % fills.length]!, contrastStretch: i % 5 === 0, quality: 75, target: path.join(dir, `out${i}.jpg`) }));
        await Promise.all(jobs.map((j) => runner.write(source, j)));
        for (const [i, j] of jobs.entries()) {
          const pixels = applyAffine(data, w, h, j.params, j.fill);
          if (j.contrastStretch) kerasContrastStretch(pixels);
          const expected = await encodeJpeg(pixels, w, h, 3, 75);
          assert.ok((await fs.readFile(j.target)).equals(expected), `job ${i}`);
        }
        assert.deepEqual((await fs.readdir(dir)).filter((f) => f.startsWith('.')), []);
      } finally {
        await runner.close();
      }
    });
  }

  it('a worker runner refuses a source it did not share, and reports a write it could not do', async () => {
    const runner = createOutputRunner(1);
    try {
      const job = { params: sampleAffineParams(createRng(1)), fill: { mode: 'nearest' as const }, contrastStretch: false, quality: 75, target: path.join(dir, 'a.jpg') };
      await assert.rejects(runner.write({ packed: new Uint32Array(w * h), width: w, height: h, channels: 3 }, job));
      const source = runner.share({ data, width: w, height: h, channels: 3 });
      await assert.rejects(runner.write(source, { ...job, target: path.join(dir, 'missing-folder', 'a.jpg') }), /ENOENT/);
    } finally {
      await runner.close();
    }
  });
});
