import assert from 'node:assert/strict';
import type { ImageFile, MetadataRow } from '../../../src/backend/dataset/datasetIndex';
import { REASON } from '../../../src/backend/dataset/exclusionReasons';
import { explainNoMatch, matchMetadataToFiles, metadataImageKey } from '../../../src/backend/dataset/validate';

const row = (imageId: string, line: number, dx = 'nv'): MetadataRow => ({ imageId, lesionId: `HAM_${line}`, diagnosis: { ok: true, dx: dx as 'nv' }, where: `HAM10000_metadata.csv:${line}` });
const file = (id: string): ImageFile => ({ imageId: id, path: `/data/HAM10000_images_part_1/${id}.jpg`, display: `HAM10000_images_part_1/${id}.jpg` });

describe('metadata rows ↔ image files: the variants found in the wild', () => {
  it('an image id written with its extension matches the file (ISIC_0024306.jpg, .JPG, .jpeg, .png)', () => {
    assert.equal(metadataImageKey('ISIC_0024306.jpg'), 'isic_0024306');
    assert.equal(metadataImageKey(' ISIC_0024306.JPG '), 'isic_0024306');
    assert.equal(metadataImageKey('ISIC_0024306.jpeg'), 'isic_0024306');
    assert.equal(metadataImageKey('ISIC_0024306'), 'isic_0024306');
    assert.equal(metadataImageKey('.jpg'), '.jpg', 'nothing but an extension stays as it is');
  });

  it('a suffixed copy with rows for augmented images that are absent: the real ones match, the others are excluded with a reason and a note', () => {
    const files = ['ISIC_0024306', 'ISIC_0024307', 'ISIC_0024308'].map(file);
    const rows = [...files.map((f, i) => row(`${f.imageId}.jpg`, i + 2)), ...Array.from({ length: 500 }, (_, i) => row(`ISIC_0024306_aug_${i}.jpg`, i + 5))];
    const m = matchMetadataToFiles({ rows, files });
    assert.deepEqual(m.candidates.map((c) => c.imageId), ['ISIC_0024306', 'ISIC_0024307', 'ISIC_0024308']);
    assert.equal(m.excluded.length, 500);
    assert.ok(m.excluded.every((e) => e.reason === REASON.missingImage));
    assert.match(m.notes.join('\n'), /image ids carry a file extension \(e\.g\. ISIC_0024306\.jpg\): matched to the image files without it/);
    assert.match(m.notes.join('\n'), /500 metadata row\(s\) name images that are not in the dataset folder \(e\.g\. ISIC_0024306_aug_0\.jpg, .*excluded, the 3 image\(s\) that are there are used/);
  });

  it('when nothing matches, names the likely cause: text around the ids on either side, or examples of both', () => {
    const files = ['ISIC_0024306', 'ISIC_0024307'].map(file);
    assert.match(explainNoMatch([row('ISIC_0024306.tif', 2)], files) ?? '', /the metadata's image ids have '\.tif' after the image file names \(e\.g\. 'ISIC_0024306\.tif' in the metadata, a file named 'HAM10000_images_part_1\/ISIC_0024306\.jpg'\)/);
    assert.match(explainNoMatch([row('images/ISIC_0024307', 2)], files) ?? '', /have 'images\/' before the image file names/);
    assert.match(explainNoMatch([row('0024306', 2)], files) ?? '', /the image file names have 'ISIC_' before the metadata's image ids/);
    assert.match(explainNoMatch([row('IMG_1', 2), row('IMG_2', 3)], files) ?? '', /image ids \(e\.g\. 'IMG_1', 'IMG_2'\) match none of the image file names \(e\.g\. 'HAM10000_images_part_1\/ISIC_0024306\.jpg'/);
    assert.equal(explainNoMatch([], files), undefined);
  });
});
