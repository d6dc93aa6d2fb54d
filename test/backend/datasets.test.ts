import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { assertBuilt, runCli } from '../helpers/cli';

// The classes of a person's own folder tree: spaces, an en dash, and the order Keras would give them.
const CLASSES = ['benign', 'malignant', 'unsure – review'];
const TRAIN = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--engine', 'wasm'];

/** A real JPEG whose colour says its class (so a tiny model can learn something), varied per image. */
async function writeLesion(file: string, cls: number, i: number): Promise<void> {
  const base = [
    [200, 150, 120],
    [70, 40, 30],
    [150, 90, 140],
  ][cls]!;
  const jitter = (k: number): number => Math.max(0, Math.min(255, base[k]! + ((i * (17 + 13 * k)) % 41) - 20));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 48, height: 36, channels: 3, background: { r: jitter(0), g: jitter(1), b: jitter(2) } } })
    .jpeg({ quality: 85 })
    .toFile(file);
}

const finished = <T extends BackendEvent['type']>(events: BackendEvent[], type: T): Extract<BackendEvent, { type: T }> => {
  const e = events.find((x) => x.type === type);
  assert.ok(e, `no ${type} event in ${events.map((x) => x.type).join(', ')}`);
  return e as Extract<BackendEvent, { type: T }>;
};

describe('backend process: datasets beyond HAM10000', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-datasets-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('a folder per class (benign, malignant, unsure – review) → prepare → augment → train 1 epoch → evaluate → predict, the names in order throughout', async () => {
    const data = path.join(dir, 'clinic');
    for (const [k, c] of CLASSES.entries()) {
      for (let i = 0; i < 10; i++) await writeLesion(path.join(data, c, i < 3 ? `visit ${i}` : '', `IMG_${String(i).padStart(4, '0')}.jpg`), k, i);
    }
    const prepared = path.join(dir, 'prepared');
    const p = await runCli(['prepare', '--data', data, '--out', prepared, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const summary = finished(p.events, 'prepare/didFinish').summary;
    assert.equal(summary.layout, 'folder-per-class');
    assert.deepEqual(summary.classes.map((c) => c.name), CLASSES);
    assert.deepEqual(summary.classes.map((c) => c.all.images), [10, 10, 10]);
    assert.match(summary.leakage ?? '', /leakage cannot be ruled out/);
    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8')) as { classes: { name: string; folder: string }[] };
    assert.deepEqual(manifest.classes.map((c) => c.name), CLASSES);
    for (const c of CLASSES) assert.equal((await fs.readdir(path.join(prepared, 'train', c))).length, 8, `train/${c}/`);

    const a = await runCli(['augment', '--prepared', prepared, '--target', '12', '--skip', 'malignant', '--size', '32', '--json']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(finished(a.events, 'augment/didFinish').perClass, { benign: { before: 8, after: 12 }, malignant: { before: 8, after: 8 }, 'unsure – review': { before: 8, after: 12 } });
    assert.equal((await fs.readdir(path.join(prepared, 'aug', 'unsure – review'))).length, 4);
    const wrong = await runCli(['augment', '--prepared', prepared, '--skip', 'nv', '--json']);
    assert.equal(wrong.code, 1);
    assert.match(finished(wrong.events, 'error').message, /"nv", which is not a class of this dataset\. Its classes are benign, malignant, unsure – review/);

    const run = path.join(dir, 'run');
    const t = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'finetune', '--epochs', '1', '--augment', 'disk', '--class-weights', ...TRAIN, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as { classes: string[]; classLabels: object; dataset: { train: number; augmented: number; layout: string } };
    assert.deepEqual(config.classes, CLASSES, 'the run copies the classes, in order');
    assert.deepEqual(config.classLabels, {});
    assert.deepEqual([config.dataset.train, config.dataset.augmented, config.dataset.layout], [24 + 8, 8, 'folder-per-class']);
    const model = JSON.parse(await fs.readFile(path.join(run, 'checkpoints', 'best', 'model.json'), 'utf8')) as { modelTopology: unknown };
    assert.match(JSON.stringify(model.modelTopology), /"units":3,"activation":"softmax"/, 'a head of three outputs');

    const e = await runCli(['evaluate', '--run', run, '--engine', 'wasm', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const evaluation = JSON.parse(await fs.readFile(path.join(run, 'evaluation.json'), 'utf8')) as { classes: string[]; perClass: { name: string; support: number }[]; confusion: number[][] };
    assert.deepEqual(evaluation.classes, CLASSES);
    assert.deepEqual(evaluation.perClass.map((c) => [c.name, c.support]), CLASSES.map((c) => [c, 2]));
    assert.equal(evaluation.confusion.length, 3);
    const card = await fs.readFile(path.join(run, 'model-card.md'), 'utf8');
    assert.match(card, /Dense\(3, softmax\)/);
    assert.match(card, /class weights: balanced/);
    assert.match(card, /Classes, in the model's output order: benign, malignant, unsure – review/);
    const rows = card.split('\n').filter((l) => /^\| (benign|malignant|unsure – review) \|/.test(l)).map((l) => l.split('|')[1]!.trim());
    assert.deepEqual(rows, CLASSES, 'the per-class table in class order');
    assert.match(card, /leakage cannot be ruled out/);
    assert.doesNotMatch(card, /HAM10000 comes from two sites/);

    const image = path.join(data, 'unsure – review', 'IMG_0005.jpg');
    const pr = await runCli(['predict', '--run', run, '--engine', 'wasm', image, '--json']);
    assert.equal(pr.code, 0, pr.stderr);
    const predicted = finished(pr.events, 'predict/didFinish');
    assert.deepEqual(predicted.classes, CLASSES);
    assert.deepEqual(Object.keys(predicted.predictions[0]!.probabilities), CLASSES);
    assert.ok(CLASSES.includes(predicted.predictions[0]!.predicted));
    const sum = Object.values(predicted.predictions[0]!.probabilities).reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
    const human = await runCli(['predict', '--run', run, '--engine', 'wasm', image]);
    assert.match(human.stdout, /IMG_0005\.jpg: (benign|malignant|unsure – review) \d/);
  });

  it('prepares an ISIC 2019 layout (8 classes, a UNK column, rows without lesion_id) by lesion, and an ISIC 2020 CSV by patient', async () => {
    const columns = ['MEL', 'NV', 'BCC', 'AK', 'BKL', 'DF', 'VASC', 'SCC', 'UNK'];
    const data2019 = path.join(dir, 'isic2019');
    const gt = [`image,${columns.join(',')}`];
    const meta = ['image,age_approx,anatom_site_general,lesion_id,sex'];
    let n = 0;
    for (const [k, c] of columns.slice(0, 8).entries()) {
      for (let i = 0; i < 6; i++) {
        const id = `ISIC_${String(n++).padStart(7, '0')}`;
        gt.push(`${id},${columns.map((x) => (x === c ? '1.0' : '0.0')).join(',')}`);
        meta.push(`${id},40,head/neck,${i < 4 ? `BCN_${k}_${i >> 1}` : ''},male`);
        await writeLesion(path.join(data2019, 'ISIC_2019_Training_Input', `${id}.jpg`), k % 3, n);
      }
    }
    await fs.writeFile(path.join(data2019, 'ISIC_2019_Training_GroundTruth.csv'), gt.join('\n') + '\n');
    await fs.writeFile(path.join(data2019, 'ISIC_2019_Training_Metadata.csv'), meta.join('\n') + '\n');
    const out2019 = path.join(dir, 'prepared-2019');
    const p = await runCli(['prepare', '--data', data2019, '--out', out2019, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const s = finished(p.events, 'prepare/didFinish').summary;
    assert.equal(s.layout, 'isic2019-task1-training');
    assert.deepEqual(s.classes.map((c) => c.name), ['ak', 'bcc', 'bkl', 'df', 'mel', 'nv', 'scc', 'vasc']);
    assert.equal(s.classes.find((c) => c.name === 'scc')?.label, 'Squamous cell carcinoma');
    assert.deepEqual(s.grouping, { column: 'lesion_id', noun: 'lesion', ungrouped: 16 });
    const m = JSON.parse(await fs.readFile(path.join(out2019, 'manifest.json'), 'utf8')) as { images: { lesionId: string; split: string }[] };
    const sides = new Map<string, Set<string>>();
    for (const img of m.images) sides.set(img.lesionId, (sides.get(img.lesionId) ?? new Set()).add(img.split));
    assert.deepEqual([...sides].filter(([, v]) => v.size > 1), [], 'no lesion on both sides');

    const data2020 = path.join(dir, 'isic2020');
    const rows = ['image_name,patient_id,sex,age_approx,anatom_site_general_challenge,diagnosis,benign_malignant,target'];
    for (let i = 0; i < 40; i++) {
      const malignant = i % 10 === 0;
      rows.push(`ISIC_${7000000 + i},IP_${i % 8},female,55,torso,${malignant ? 'melanoma' : 'nevus'},${malignant ? 'malignant' : 'benign'},${Number(malignant)}`);
      await writeLesion(path.join(data2020, 'train', `ISIC_${7000000 + i}.jpg`), Number(malignant), i);
    }
    await fs.writeFile(path.join(data2020, 'train.csv'), rows.join('\n') + '\n');
    const out2020 = path.join(dir, 'prepared-2020');
    const q = await runCli(['prepare', '--data', data2020, '--out', out2020]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /prepared .* \(isic2020-training, split by patient_id, val fraction 0\.2, seed 101\)/);
    assert.match(q.stdout, /^ {2}malignant +4 images +\d+ patients +train/m);
    const m2 = JSON.parse(await fs.readFile(path.join(out2020, 'manifest.json'), 'utf8')) as { images: { lesionId: string; split: string }[]; summary: { grouping: unknown } };
    assert.deepEqual(m2.summary.grouping, { column: 'patient_id', noun: 'patient', ungrouped: 0 });
    const bySide = new Map<string, Set<string>>();
    for (const img of m2.images) bySide.set(img.lesionId, (bySide.get(img.lesionId) ?? new Set()).add(img.split));
    assert.deepEqual([...bySide].filter(([, v]) => v.size > 1), [], 'no patient on both sides');
    assert.ok([...bySide.values()].some((v) => v.has('val')));
  });

  it('reads a CSV of the user’s with the column flags; says how when they are missing', async () => {
    const data = path.join(dir, 'sheet');
    const rows = ['Photo;Finding;Case'];
    for (let i = 0; i < 12; i++) {
      rows.push(`scans/${i}.png;${i % 2 ? 'melanoma' : 'naevus'};C${i % 6}`);
      await fs.mkdir(path.join(data, 'scans'), { recursive: true });
      await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 10 * i, g: 80, b: 90 } } }).png().toFile(path.join(data, 'scans', `${i}.png`));
    }
    await fs.writeFile(path.join(data, 'findings.csv'), rows.join('\n') + '\n');
    const out = path.join(dir, 'prepared-sheet');
    const bare = await runCli(['prepare', '--data', data, '--out', out, '--json']);
    assert.equal(bare.code, 1);
    assert.match(finished(bare.events, 'error').message, /findings\.csv is not a layout Lesion Lab knows by itself \(its columns: Photo, Finding, Case\)/);
    const usage = await runCli(['prepare', '--data', data, '--out', out, '--image-column', 'Photo']);
    assert.equal(usage.code, 2, 'an image column without a label column is bad usage');
    const r = await runCli(['prepare', '--data', data, '--out', out, '--image-column', 'Photo', '--label-column', 'Finding', '--group-column', 'Case', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = finished(r.events, 'prepare/didFinish').summary;
    assert.deepEqual([s.layout, s.classes.map((c) => c.name), s.grouping], ['csv', ['melanoma', 'naevus'], { column: 'Case', noun: 'group', ungrouped: 0 }]);
    const inspect = await runCli(['inspect-dataset', '--data', data, '--json']);
    assert.equal(inspect.code, 0, inspect.stderr);
    const found = finished(inspect.events, 'dataset/didInspect');
    assert.deepEqual(found.tables.map((t) => [path.basename(t.file), t.columns, t.rows.length]), [['findings.csv', ['Photo', 'Finding', 'Case'], 5]]);
  });
});
