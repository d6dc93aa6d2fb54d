import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendEvent } from '../../../src/shared/protocol/backend';
import type { PrepareOptions } from '../../../src/shared/protocol/jobs';
import { readManifest } from '../../../src/backend/dataset/manifest';
import type { PreparedManifest } from '../../../src/backend/dataset/manifest';
import { prepareDataset } from '../../../src/backend/dataset/prepare';
import { inspectDataset } from '../../../src/backend/dataset/inspect';
import { UserError } from '../../../src/backend/errors';
import { makeTempDir, recordingContext, treeFingerprint, writeJpeg } from './fixtures';

/** Groups (lesions, patients) with images on both sides of the split. */
function straddling(m: PreparedManifest): string[] {
  const sides = new Map<string, Set<string>>();
  for (const img of m.images) sides.set(img.lesionId, (sides.get(img.lesionId) ?? new Set()).add(img.split));
  return [...sides].filter(([, s]) => s.size > 1).map(([g]) => g);
}

const countBy = (m: PreparedManifest, split: string): Record<string, number> =>
  Object.fromEntries(m.summary.classes.map((c) => [c.name, m.images.filter((i) => i.dx === c.name && i.split === split).length]));

describe('dataset layouts beyond HAM10000', function () {
  this.timeout(60000);
  let tmp: string;
  let data: string;
  let out: string;
  const opts = (o: Partial<PrepareOptions> = {}): PrepareOptions => ({ data, out, split: 'lesion', valFraction: 0.2, seed: 101, link: 'hard', ...o });

  beforeEach(async () => {
    tmp = await makeTempDir();
    data = path.join(tmp, 'data');
    out = path.join(tmp, 'prepared');
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  describe('a folder per class', () => {
    const CLASSES = ['benign', 'malignant', 'unsure – review', 'Névus äöü'];

    async function writeTree(root: string, perClass = 6): Promise<void> {
      let seed = 0;
      for (const c of CLASSES) {
        for (let i = 0; i < perClass; i++) {
          // Camera file names repeat across classes; some images sit in subfolders, one as .png-named JPEG.
          const rel = i % 3 === 0 ? path.join('2024', `IMG_${i}.jpg`) : `IMG_${i}.jpeg`;
          await writeJpeg(path.join(root, c, rel), seed++);
        }
      }
    }

    it('reads the folder names as the classes (spaces, dashes, non-ASCII), in code-point order; every image of every folder, the source untouched', async () => {
      await writeTree(data);
      await writeJpeg(path.join(data, 'stray.jpg'), 99);
      const before = await treeFingerprint(data);
      const ctx = recordingContext();
      await prepareDataset(opts(), ctx);
      assert.equal(await treeFingerprint(data), before, 'the dataset folder changed');
      const m = await readManifest(out);
      assert.equal(m.summary.layout, 'folder-per-class');
      assert.deepEqual(m.classes?.map((c) => c.name), ['Névus äöü', 'benign', 'malignant', 'unsure – review']);
      assert.deepEqual(m.classes?.map((c) => c.folder), ['Névus äöü', 'benign', 'malignant', 'unsure – review'], 'safe names stay as they are');
      assert.deepEqual(m.summary.classes.map((c) => c.name), m.classes?.map((c) => c.name));
      assert.equal(m.images.length, 24);
      for (const c of CLASSES) assert.equal(m.images.filter((i) => i.dx === c).length, 6, c);
      // IMG_0 exists in every class: each keeps its own place.
      assert.deepEqual(m.images.filter((i) => i.imageId === 'IMG_0').map((i) => i.file.split('/')[1]).sort(), [...CLASSES].sort());
      for (const img of m.images) {
        assert.match(img.file, /^(train|val)\/[^/]+\/IMG_\d\.jpe?g$/);
        await fs.access(path.join(out, img.file));
      }
      assert.deepEqual(m.excluded, [{ file: 'stray.jpg', reason: 'image not inside a class folder' }]);
      // No group column: said plainly, in the summary and the notes.
      assert.equal(m.summary.grouping, undefined);
      assert.match(m.summary.leakage ?? '', /leakage cannot be ruled out/);
      assert.ok(m.notes.includes(m.summary.leakage!));
      assert.deepEqual(countBy(m, 'val'), Object.fromEntries([...CLASSES].sort().map((c) => [c, 1])), 'a fifth of each class (6 → 1) in val');
      const finish = ctx.events.find((e): e is Extract<BackendEvent, { type: 'prepare/didFinish' }> => e.type === 'prepare/didFinish');
      assert.equal(finish?.summary.leakage, m.summary.leakage);
    });

    it('looks through a wrapper folder, and uses train/ when the folders are splits (saying what it left out)', async () => {
      await writeTree(path.join(data, 'dermnet', 'train'), 3);
      await writeJpeg(path.join(data, 'dermnet', 'test', 'benign', 'IMG_9.jpg'), 50);
      await prepareDataset(opts(), recordingContext());
      const m = await readManifest(out);
      assert.deepEqual(m.classes?.map((c) => c.name), [...CLASSES].sort());
      assert.equal(m.images.length, 12);
      assert.ok(m.images.every((i) => i.source.includes(`${path.sep}train${path.sep}`)));
      assert.ok(m.notes.some((n) => /used dermnet\/train\/ as the class folders; test\/ was left out/.test(n)), m.notes.join('\n'));
    });

    it('groups the split by a table beside the class folders (patient_id), keeping a patient on one side', async () => {
      await writeTree(data, 10);
      const rows = ['file,patient_id'];
      let k = 0;
      for (const c of CLASSES) {
        for (let i = 0; i < 10; i++) {
          const rel = i % 3 === 0 ? `${c}/2024/IMG_${i}.jpg` : `${c}/IMG_${i}.jpeg`;
          // Patients hold several images, some of them of two classes; the last image of each class has no row.
          if (i < 9) rows.push(`"${rel}",P${(k++ % 13) + 1}`);
        }
      }
      await fs.writeFile(path.join(data, 'patients.csv'), rows.join('\n') + '\n');
      await prepareDataset(opts(), recordingContext());
      const m = await readManifest(out);
      assert.deepEqual(m.summary.grouping, { column: 'patient_id', noun: 'patient', ungrouped: 4 });
      assert.deepEqual(straddling(m), [], 'no patient on both sides');
      assert.ok(m.images.some((i) => i.lesionId === 'P1'));
      assert.match(m.summary.leakage ?? '', /^4 of 40 images have no patient_id: each is split on its own/);
      assert.ok(m.notes.some((n) => n.startsWith('grouped the split by patient_id from patients.csv')));
      const val = m.images.filter((i) => i.split === 'val').length;
      assert.ok(val >= 4 && val <= 14, `about a fifth in val: ${val}`);
    });

    it('says that one folder of images is one class, not a dataset', async () => {
      await writeJpeg(path.join(data, 'photos', 'a.jpg'), 1);
      await writeJpeg(path.join(data, 'photos', 'b.jpg'), 2);
      await assert.rejects(prepareDataset(opts(), recordingContext()), (e: unknown) => e instanceof UserError && /^photos\/ is the only folder of images in .*needs at least two class folders/.test(e.message));
    });
  });

  describe('ISIC 2019 Task 1', () => {
    const COLUMNS = ['MEL', 'NV', 'BCC', 'AK', 'BKL', 'DF', 'VASC', 'SCC', 'UNK'];
    const NAMES = ['ak', 'bcc', 'bkl', 'df', 'mel', 'nv', 'scc', 'vasc'];

    it('reads the one-hot ground truth (8 classes; UNK, never 1, is none) and groups by lesion_id, images without one on their own', async () => {
      const gt = ['image,' + COLUMNS.join(',')];
      const meta = ['image,age_approx,anatom_site_general,lesion_id,sex'];
      let n = 0;
      for (const [k, dx] of NAMES.entries()) {
        // Per class: 4 lesions of 2 images each, and 3 images with no lesion_id (as BCN/MSK images often have).
        for (let lesion = 0; lesion < 4; lesion++) {
          for (let j = 0; j < 2; j++) {
            const id = `ISIC_${String(n++).padStart(7, '0')}`;
            gt.push(`${id},${COLUMNS.map((c) => (c.toLowerCase() === dx ? '1.0' : '0.0')).join(',')}`);
            meta.push(`${id},45,anterior torso,BCN_${k}${lesion},female`);
          }
        }
        for (let j = 0; j < 3; j++) {
          const id = `ISIC_${String(n++).padStart(7, '0')}_downsampled`;
          gt.push(`${id},${COLUMNS.map((c) => (c.toLowerCase() === dx ? '1.0' : '0.0')).join(',')}`);
          meta.push(`${id},,,,`);
        }
      }
      await fs.mkdir(path.join(data, 'ISIC_2019_Training_Input'), { recursive: true });
      await fs.writeFile(path.join(data, 'ISIC_2019_Training_GroundTruth.csv'), gt.join('\n') + '\n');
      await fs.writeFile(path.join(data, 'ISIC_2019_Training_Metadata.csv'), meta.join('\n') + '\n');
      await fs.writeFile(path.join(data, 'ISIC_2019_Training_Input', 'LICENSE.txt'), 'CC BY-NC 4.0');
      for (const line of gt.slice(1)) await writeJpeg(path.join(data, 'ISIC_2019_Training_Input', `${line.split(',')[0]}.jpg`), n++);

      await prepareDataset(opts(), recordingContext());
      const m = await readManifest(out);
      assert.equal(m.summary.layout, 'isic2019-task1-training');
      assert.deepEqual(m.classes?.map((c) => c.name), NAMES);
      assert.deepEqual(
        m.classes?.filter((c) => ['ak', 'scc', 'mel'].includes(c.name)).map((c) => c.label),
        ['Actinic keratosis', 'Melanoma', 'Squamous cell carcinoma'],
        'abbreviations keep their long names',
      );
      assert.equal(m.images.length, 8 * 11);
      assert.deepEqual(m.excluded, []);
      assert.deepEqual(straddling(m), [], 'no lesion on both sides');
      assert.deepEqual(m.summary.grouping, { column: 'lesion_id', noun: 'lesion', ungrouped: 24 });
      assert.match(m.summary.leakage ?? '', /^24 of 88 images have no lesion_id/);
      assert.equal(m.images.find((i) => i.imageId === 'ISIC_0000000')?.lesionId, 'BCN_00');
      for (const dx of NAMES) {
        const val = m.images.filter((i) => i.dx === dx && i.split === 'val').length;
        assert.ok(val >= 1 && val <= 4, `${dx}: ${val} of 11 in val`);
      }
    });
  });

  describe('ISIC 2020', () => {
    /** 12 patients; each has benign lesions, every third a melanoma too. */
    async function writeIsic2020(file: string, label: 'benign_malignant' | 'target', imageDir: string): Promise<string[]> {
      const rows = [`image_name,patient_id,sex,age_approx,anatom_site_general_challenge,diagnosis,${label === 'target' ? 'target' : 'benign_malignant,target'}`];
      const ids: string[] = [];
      let n = 0;
      for (let p = 0; p < 12; p++) {
        for (let i = 0; i < 5; i++) {
          const malignant = p % 3 === 0 && i === 0;
          const id = `ISIC_${String(2000000 + n++)}`;
          ids.push(id);
          rows.push(`${id},IP_${1000 + p},male,50,torso,${malignant ? 'melanoma' : 'nevus'},${label === 'target' ? Number(malignant) : `${malignant ? 'malignant' : 'benign'},${Number(malignant)}`}`);
          await writeJpeg(path.join(data, imageDir, `${id}.jpg`), n);
        }
      }
      await fs.mkdir(path.dirname(path.join(data, file)), { recursive: true });
      await fs.writeFile(path.join(data, file), rows.join('\n') + '\n');
      return ids;
    }

    it('reads benign_malignant and splits by patient_id: no patient on both sides, even patients with both classes', async () => {
      await writeIsic2020('ISIC_2020_Training_GroundTruth.csv', 'benign_malignant', 'train');
      for (let i = 0; i < 3; i++) await writeJpeg(path.join(data, 'test', `ISIC_900000${i}.jpg`), i); // the unlabelled test set
      await prepareDataset(opts(), recordingContext());
      const m = await readManifest(out);
      assert.equal(m.summary.layout, 'isic2020-training');
      assert.deepEqual(m.classes?.map((c) => c.name), ['benign', 'malignant']);
      assert.deepEqual(m.summary.grouping, { column: 'patient_id', noun: 'patient', ungrouped: 0 });
      assert.equal(m.summary.leakage, undefined);
      assert.equal(m.images.length, 60, 'every image, including patients with benign and malignant lesions');
      assert.deepEqual(m.excluded, []);
      assert.deepEqual(straddling(m), [], 'no patient on both sides');
      assert.ok(m.images.filter((i) => i.dx === 'malignant' && i.split === 'val').length >= 1, 'a malignant image in val');
      assert.ok(m.notes.some((n) => /ignored 3 image\(s\) in test\/ \(3\): ISIC_2020_Training_GroundTruth\.csv lists none of the images there/.test(n)), m.notes.join('\n'));
    });

    it("reads Kaggle's train.csv with only target (0/1) and images in a nested folder", async () => {
      const ids = await writeIsic2020('train.csv', 'target', path.join('jpeg', 'train'));
      await prepareDataset(opts(), recordingContext());
      const m = await readManifest(out);
      assert.equal(m.summary.layout, 'isic2020-training');
      assert.equal(m.images.length, ids.length);
      assert.equal(m.images.filter((i) => i.dx === 'malignant').length, 4);
      assert.deepEqual(straddling(m), []);
    });
  });

  describe('a CSV of the user’s', () => {
    async function writeClinic(): Promise<void> {
      const rows = ['Photo,Diagnosis,Patient,Notes'];
      let n = 0;
      for (let p = 0; p < 10; p++) {
        for (let i = 0; i < 3; i++) {
          const dx = ['benign', 'Benign', 'malignant'][(p + i) % 3]!;
          // Two patients' cameras both named their first photo IMG_0001.jpg: the paths tell them apart.
          const rel = `patient${p}/IMG_000${i + 1}.jpg`;
          rows.push(`${rel},${dx},PT-${p},"looked, at ${i}"`);
          await writeJpeg(path.join(data, 'images', rel), n++);
        }
      }
      rows.push('patient0/missing.jpg,benign,PT-0,');
      rows.push('patient9/nolabel.jpg,,PT-9,');
      rows.push('patient1/IMG_0001.jpg,benign,PT-1,listed twice');
      await writeJpeg(path.join(data, 'images', 'patient9', 'extra.jpg'), 77);
      await writeJpeg(path.join(data, 'images', 'patient9', 'nolabel.jpg'), 78);
      await fs.writeFile(path.join(data, 'images', 'labels.csv'), rows.join('\r\n') + '\r\n');
    }

    it('without column names, says which table it found and the command that reads it', async () => {
      await writeClinic();
      await assert.rejects(prepareDataset(opts(), recordingContext()), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /^images\/labels\.csv is not a layout Lesion Lab knows by itself \(its columns: Photo, Diagnosis, Patient, Notes\)/);
        assert.match(e.message, /--table "images\/labels\.csv" --image-column "Photo" --label-column "Diagnosis" --group-column "Patient"/);
        return true;
      });
    });

    it('reads the named columns: paths relative to the table, labels differing in case merged, grouped by patient; a missing image and a row without a label excluded', async () => {
      await writeClinic();
      const ctx = recordingContext();
      await prepareDataset(opts({ table: { image: 'Photo', label: 'Diagnosis', group: 'Patient' } }), ctx);
      const m = await readManifest(out);
      assert.equal(m.summary.layout, 'csv');
      assert.deepEqual(m.classes?.map((c) => c.name), ['benign', 'malignant']);
      assert.equal(m.images.filter((i) => i.dx === 'benign').length, 20);
      assert.ok(m.notes.includes("labels 'benign' (12), 'Benign' (10) differ only in letter case: all are 'benign'."), m.notes.join('\n'));
      assert.deepEqual(m.summary.grouping, { column: 'Patient', noun: 'patient', ungrouped: 0 });
      assert.deepEqual(straddling(m), []);
      // patient0/IMG_0001 and patient1/IMG_0001 are different images: both kept, each under a name of its own.
      const firsts = m.images.filter((i) => i.source.endsWith(`${path.sep}IMG_0001.jpg`));
      assert.equal(firsts.length, 10);
      assert.equal(new Set(firsts.map((i) => i.file)).size, 10);
      assert.ok(firsts.some((i) => i.imageId === 'images__patient0__IMG_0001'), firsts.map((i) => i.imageId).join(', '));
      const reasons = m.excluded.map((e) => `${e.file}: ${e.reason}`).sort();
      assert.deepEqual(reasons, [
        'images/labels.csv:34: duplicate image id: also listed at images/labels.csv:5',
        'images/patient9/extra.jpg: image file not listed in metadata',
        'images/patient9/nolabel.jpg: no label: the Diagnosis column is empty',
        'patient0/missing.jpg: listed in metadata but no image file found',
      ].sort(), reasons.join('\n'));
    });

    it('with no group column, splits image by image and says leakage cannot be ruled out', async () => {
      await writeClinic();
      await prepareDataset(opts({ table: { file: 'images/labels.csv', image: 'photo', label: 'diagnosis' } }), recordingContext());
      const m = await readManifest(out);
      assert.equal(m.summary.grouping, undefined);
      assert.match(m.summary.leakage ?? '', /leakage cannot be ruled out/);
    });

    it('refuses columns the table does not have, naming the ones it has', async () => {
      await writeClinic();
      await assert.rejects(
        prepareDataset(opts({ table: { file: 'images/labels.csv', image: 'Photo', label: 'dx' } }), recordingContext()),
        (e: unknown) => e instanceof UserError && /images\/labels\.csv has no "dx" column\. Its columns are: Photo, Diagnosis, Patient, Notes/.test(e.message),
      );
    });
  });

  describe('inspect-dataset', () => {
    const inspect = async (): Promise<Extract<BackendEvent, { type: 'dataset/didInspect' }>> => {
      const ctx = recordingContext();
      await inspectDataset(data, ctx);
      const e = ctx.events.find((x): x is Extract<BackendEvent, { type: 'dataset/didInspect' }> => x.type === 'dataset/didInspect');
      assert.ok(e);
      return e;
    };

    it('names a recognised layout, lists an unrecognised table with its first rows and a guess, and says when there is nothing', async () => {
      await writeJpeg(path.join(data, 'benign', 'a.jpg'), 1);
      await writeJpeg(path.join(data, 'malignant', 'b.jpg'), 2);
      assert.deepEqual(await inspect(), { type: 'dataset/didInspect', data, layout: 'a folder per class: benign, malignant', tables: [] });
      // Beside a table that names the images, the folders might be patients: the table is listed too.
      await fs.writeFile(path.join(data, 'info.csv'), 'image,site\nbenign/a.jpg,back\n');
      const both = await inspect();
      assert.equal(both.layout, 'a folder per class: benign, malignant');
      assert.deepEqual(both.tables.map((t) => [path.basename(t.file), t.guess]), [['info.csv', { image: 'image' }]]);
      await fs.rm(data, { recursive: true });

      await fs.mkdir(data, { recursive: true });
      await fs.writeFile(path.join(data, 'sheet.csv'), 'file_name,label,lesion_id\nx1.jpg,nevus,L1\nx2.jpg,melanoma,L2\n');
      const t = await inspect();
      assert.equal(t.layout, undefined);
      assert.deepEqual(t.tables, [{ file: path.join(data, 'sheet.csv'), columns: ['file_name', 'label', 'lesion_id'], rows: [['x1.jpg', 'nevus', 'L1'], ['x2.jpg', 'melanoma', 'L2']], guess: { image: 'file_name', label: 'label', group: 'lesion_id' } }]);
      await fs.rm(data, { recursive: true });

      await fs.mkdir(data, { recursive: true });
      const none = await inspect();
      assert.deepEqual(none.tables, []);
      assert.match(none.problem ?? '', /^No dataset found/);
    });
  });
});
