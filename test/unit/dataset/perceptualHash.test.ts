import assert from 'node:assert/strict';
import sharp from 'sharp';
import { PHASH_INPUT, hammingDistance, pairsWithin, perceptualHash } from '../../../src/backend/dataset/perceptualHash';
import { lesionRgb as lesion } from './fixtures';

/** The hash as prepare's validation decode computes it: grey, 32×32, from an encoded file. */
async function hashOf(encoded: Buffer): Promise<string> {
  const grey = await sharp(encoded).greyscale().resize(PHASH_INPUT, PHASH_INPUT, { fit: 'fill' }).raw().toBuffer();
  return perceptualHash(grey);
}

const jpeg = (rgb: Buffer, width: number, height: number, quality = 90): Promise<Buffer> => sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();

describe('dataset/perceptualHash: a 64-bit DCT hash for near-duplicates', () => {
  it('refuses an input that is not the 32×32 grey image', () => {
    assert.throws(() => perceptualHash(new Uint8Array(10)), /expected 32×32 pixels/);
  });

  it('a resized, re-encoded copy of a lesion hashes within a few bits; another lesion about half the bits away', async () => {
    const original = await jpeg(lesion(600, 450, 7), 600, 450);
    // The same photo as another copy of a dataset might hold it: 60% the size, saved again at quality 70.
    const copy = await sharp(original).resize(360, 270).jpeg({ quality: 70 }).toBuffer();
    const other = await jpeg(lesion(600, 450, 8), 600, 450);
    const [h0, h1, h2] = await Promise.all([hashOf(original), hashOf(copy), hashOf(other)]);
    assert.match(h0, /^[0-9a-f]{16}$/);
    assert.ok(hammingDistance(h0, h1) <= 4, `the copy: ${hammingDistance(h0, h1)} bits (${h0} vs ${h1})`);
    assert.ok(hammingDistance(h0, h2) >= 16, `another lesion: ${hammingDistance(h0, h2)} bits (${h0} vs ${h2})`);
  });

  it('hammingDistance counts differing bits; pairsWithin finds the pairs within a threshold and skips missing hashes', () => {
    assert.equal(hammingDistance('0000000000000000', 'ffffffffffffffff'), 64);
    assert.equal(hammingDistance('8000000000000001', '0000000000000000'), 2);
    const hashes = ['0000000000000000', 'ffffffffffffffff', undefined, '0000000000000003', 'fffffffffffffff0'];
    assert.deepEqual(pairsWithin(hashes, 4), [{ a: 0, b: 3, distance: 2 }, { a: 1, b: 4, distance: 4 }]);
    assert.deepEqual(pairsWithin(hashes, 1), []);
  });
});
