import assert from 'node:assert/strict';
import path from 'node:path';
import { gradcamFileNames } from '../../../src/backend/evaluation/predict';

describe('predict --gradcam: one overlay file per input image', () => {
  it('keeps a name used once; gives every input of a shared name its own, stable suffix', () => {
    const a = path.resolve('/data/copy-a/ISIC_0024310.jpg');
    const b = path.resolve('/data/copy-b/ISIC_0024310.jpg');
    const c = path.resolve('/data/copy-b/isic_0024310.png'); // the same name on a case-insensitive disk
    const d = path.resolve('/data/ISIC_0024311.jpg');
    const names = gradcamFileNames([a, b, c, d, a]);
    assert.equal(names.size, 4, 'the same path twice is one image');
    assert.equal(names.get(d), 'ISIC_0024311.gradcam.png');
    const shared = [names.get(a)!, names.get(b)!, names.get(c)!];
    assert.equal(new Set(shared.map((n) => n.toLowerCase())).size, 3, shared.join(', '));
    for (const n of shared) assert.match(n, /^(ISIC|isic)_0024310-[0-9a-f]{8}\.gradcam\.png$/);
    assert.deepEqual(gradcamFileNames([b, a]).get(a), names.get(a), 'stable: follows the path, not the order');
  });
});
