import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import sharp from 'sharp';
import type { Evaluation } from '../../src/shared/protocol/results';
import { writeKnownEvidenceRun, writeSquareImage } from '../helpers/knownEvidenceModel';
import { assertBuilt, runCli } from '../helpers/cli';

const TRAIN = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--engine', 'wasm', '--json'];
const COLUMNS = ['MEL', 'NV', 'BCC', 'AKIEC', 'BKL', 'DF', 'VASC'];
const oneHot = (dx: string): string => COLUMNS.map((c) => (c.toLowerCase() === dx ? '1.0' : '0.0')).join(',');

/**
 * The ISIC 2018 Task 3 layout, training set and test set, made from synthetic demo images: the training
 * ground truth, its lesion groupings and images, and a test ground truth with its images (the last lesion
 * of each class, so no lesion is on both sides).
 */
async function writeIsic2018WithTestSet(dir: string): Promise<{ data: string; testImages: number }> {
  const demo = path.join(dir, 'demo');
  const d = await runCli(['demo-data', '--out', demo, '--per-class', '8', '--size', '64', '--json']);
  assert.equal(d.code, 0, d.stderr);
  const rows = (await fs.readFile(path.join(demo, 'HAM10000_metadata.csv'), 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [lesion, image, dx] = l.split(',');
      return { lesion: lesion!, image: image!, dx: dx! };
    });
  const lastLesion = new Map<string, string>();
  for (const r of [...rows].sort((a, b) => (a.lesion < b.lesion ? -1 : 1))) lastLesion.set(r.dx, r.lesion);
  const isTest = (r: (typeof rows)[number]): boolean => lastLesion.get(r.dx) === r.lesion;
  const data = path.join(dir, 'isic2018');
  const trainInput = path.join(data, 'ISIC2018_Task3_Training_Input');
  const testInput = path.join(data, 'ISIC2018_Task3_Test_Input');
  await fs.mkdir(trainInput, { recursive: true });
  await fs.mkdir(testInput, { recursive: true });
  const source = async (image: string): Promise<string> => {
    for (const part of ['HAM10000_images_part_1', 'HAM10000_images_part_2']) {
      const file = path.join(demo, part, `${image}.jpg`);
      if (await fs.stat(file).then(() => true, () => false)) return file;
    }
    throw new Error(`no demo image ${image}`);
  };
  for (const r of rows) await fs.copyFile(await source(r.image), path.join(isTest(r) ? testInput : trainInput, `${r.image}.jpg`));
  const train = rows.filter((r) => !isTest(r));
  const test = rows.filter(isTest);
  await fs.writeFile(path.join(data, 'ISIC2018_Task3_Training_GroundTruth.csv'), ['image,' + COLUMNS.join(','), ...train.map((r) => `${r.image},${oneHot(r.dx)}`)].join('\n') + '\n');
  await fs.writeFile(path.join(data, 'ISIC2018_Task3_Training_LesionGroupings.csv'), ['image,lesion_id,diagnosis_confirm_type', ...train.map((r) => `${r.image},${r.lesion},histopathology`)].join('\n') + '\n');
  await fs.writeFile(path.join(data, 'ISIC2018_Task3_Test_GroundTruth.csv'), ['image,' + COLUMNS.join(','), ...test.map((r) => `${r.image},${oneHot(r.dx)}`)].join('\n') + '\n');
  return { data, testImages: test.length };
}

const finished = (events: BackendEvent[]): Extract<BackendEvent, { type: 'evaluate/didFinish' }> => {
  const e = events.find((x) => x.type === 'evaluate/didFinish');
  assert.ok(e && e.type === 'evaluate/didFinish', 'an evaluate/didFinish event');
  return e;
};

function assertIntervalsAround(ev: Evaluation, what: string): void {
  for (const [name, value, ci] of [['balanced accuracy', ev.balancedAccuracy, ev.balancedAccuracyCi], ['accuracy', ev.accuracy, ev.accuracyCi]] as const) {
    assert.ok(ci, `${what}: a ${name} interval`);
    assert.ok(ci.low <= value + 1e-12 && value <= ci.high + 1e-12 && ci.low >= 0 && ci.high <= 1, `${what}: ${name} ${value} within ${JSON.stringify(ci)}`);
  }
  for (const c of ev.perClass) {
    if (c.support === 0) continue;
    assert.ok(c.recallCi && c.recallCi.low <= c.recall + 1e-12 && c.recall <= c.recallCi.high + 1e-12, `${what}: ${c.name} recall interval`);
  }
  assert.equal(ev.bootstrap?.resamples, 1000);
  assert.equal(ev.bootstrap?.stratified, true);
}

describe('backend process: evaluation people can trust', function () {
  this.timeout(600_000);
  let dir: string;
  let data: string;
  let testImages: number;
  let prepared: string;
  let run: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-eval-'));
    ({ data, testImages } = await writeIsic2018WithTestSet(dir));
    prepared = path.join(dir, 'prepared');
    run = path.join(dir, 'run');
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('ISIC 2018 with its test set → prepare → train → evaluate --split test: a test report with intervals, the validation report untouched', async () => {
    const p = await runCli(['prepare', '--data', data, '--out', prepared, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8')) as { images: { split: string; file: string }[] };
    const test = manifest.images.filter((i) => i.split === 'test');
    assert.equal(test.length, testImages, 'every test image is in test/');
    for (const i of test) await fs.access(path.join(prepared, i.file));

    const t = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'finetune', '--epochs', '2', ...TRAIN]);
    assert.equal(t.code, 0, t.stderr);
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8'));
    assert.equal(config.options.monitor, 'val_bal_acc', 'balanced accuracy picks the checkpoint by default');
    const metrics = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(metrics.every((m) => m.valBalancedAccuracyCi && m.valBalancedAccuracyCi.low <= m.valBalancedAccuracy && m.valBalancedAccuracy <= m.valBalancedAccuracyCi.high), 'each epoch has its interval');

    const v = await runCli(['evaluate', '--run', run, '--engine', 'wasm', '--json']);
    assert.equal(v.code, 0, v.stderr);
    const validation = finished(v.events).evaluation;
    assert.equal(validation.set?.id, 'val');
    assert.equal(validation.set?.usedForSelection, true);
    assertIntervalsAround(validation, 'validation');
    assert.ok(validation.calibration?.temperature && validation.calibration.temperature.value > 0, 'a temperature fitted on validation');
    const reportFile = path.join(run, 'evaluation.json');
    const before = await fs.readFile(reportFile, 'utf8');
    const beforeStat = await fs.stat(reportFile);

    const e = await runCli(['evaluate', '--run', run, '--split', 'test', '--engine', 'wasm', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const done = finished(e.events);
    assert.equal(done.path, path.join(run, 'evaluation-test.json'));
    const onDisk = JSON.parse(await fs.readFile(done.path, 'utf8')) as Evaluation;
    assert.equal(onDisk.count, testImages);
    assert.deepEqual(onDisk.set && { id: onDisk.set.id, kind: onDisk.set.kind, usedForSelection: onDisk.set.usedForSelection, isic2018Test: onDisk.set.isic2018Test }, { id: 'test', kind: 'test', usedForSelection: false, isic2018Test: true });
    assertIntervalsAround(onDisk, 'test');
    assert.equal(onDisk.images?.length, testImages, 'every test image with its probabilities');
    assert.equal(onDisk.calibration?.temperature?.fittedOn, 'validation', 'the validation temperature, applied to the held-out set');
    assert.equal(onDisk.calibration?.temperature?.value, validation.calibration?.temperature?.value);
    assert.ok(onDisk.ranking && onDisk.ranking.perClass.length === 7);

    assert.equal(await fs.readFile(reportFile, 'utf8'), before, 'evaluation.json is byte for byte as it was');
    assert.equal((await fs.stat(reportFile)).mtimeMs, beforeStat.mtimeMs, 'and not rewritten');

    const card = await fs.readFile(path.join(run, 'model-card.md'), 'utf8');
    assert.match(card, /## Results on validation \(\d+ images\) — optimistic: used for model selection/);
    assert.match(card, new RegExp(`## Results on test set \\(${testImages} images\\)`));
    assert.match(card, /Balanced accuracy \(mean per-class recall, the ISIC 2018 metric\): \d+\.\d% \(95% CI [\d.]+–[\d.]+%\)/);
    assert.match(card, /ISIC 2018 Task 3 leaderboard .*88\.5% .*87\.1%.*official protocol/);
    assert.match(card, /Checkpoint: best validation balanced accuracy \(val_bal_acc\)/);
  });

  it('evaluate --data another prepared folder writes evaluation-<name>.json; a folder without a test split is refused with the way out', async () => {
    // The test set prepared on its own: the layout Lesion Lab recognises as isic2018-task3-test.
    const alone = path.join(dir, 'test-only');
    await fs.mkdir(alone, { recursive: true });
    await fs.copyFile(path.join(data, 'ISIC2018_Task3_Test_GroundTruth.csv'), path.join(alone, 'ISIC2018_Task3_Test_GroundTruth.csv'));
    await fs.cp(path.join(data, 'ISIC2018_Task3_Test_Input'), path.join(alone, 'ISIC2018_Task3_Test_Input'), { recursive: true });
    const other = path.join(dir, 'isic-test');
    const p = await runCli(['prepare', '--data', alone, '--out', other, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const before = await fs.readFile(path.join(run, 'evaluation.json'), 'utf8');
    const e = await runCli(['evaluate', '--run', run, '--data', other, '--engine', 'wasm', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const done = finished(e.events);
    assert.equal(done.path, path.join(run, 'evaluation-isic-test.json'));
    assert.equal(done.evaluation.set?.overlapWithTraining, 0, 'none of its images were trained on');
    assert.equal(done.evaluation.count, testImages);
    assert.equal(await fs.readFile(path.join(run, 'evaluation.json'), 'utf8'), before);
    assert.match(await fs.readFile(path.join(run, 'model-card.md'), 'utf8'), /## Results on test set `isic-test` \(\d+ images\)/);

    // A split the folder does not hold is refused, with what to do instead.
    const noTest = await runCli(['evaluate', '--run', run, '--data', other, '--split', 'val', '--engine', 'wasm', '--json']);
    assert.equal(noTest.code, 1);
    assert.match(JSON.stringify(noTest.events), /has no validation images to evaluate on/);
  });

  it('predict names the model’s provenance, and --calibrated applies the temperature fitted on validation', async () => {
    const image = path.join(prepared, (JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8')) as { images: { split: string; file: string }[] }).images.find((i) => i.split === 'test')!.file);
    const raw = await runCli(['predict', '--run', run, image, '--engine', 'wasm', '--json']);
    assert.equal(raw.code, 0, raw.stderr);
    const a = raw.events.find((x) => x.type === 'predict/didFinish');
    assert.ok(a && a.type === 'predict/didFinish' && a.model);
    const validation = JSON.parse(await fs.readFile(path.join(run, 'evaluation.json'), 'utf8')) as Evaluation;
    assert.equal(a.model.checkpointEpoch, validation.checkpointEpoch);
    assert.equal(a.model.trainedOn.synthetic, false, 'an ISIC-layout folder is not marked as demo data');
    assert.deepEqual(a.model.validation && { ba: a.model.validation.balancedAccuracy, ci: a.model.validation.ci, from: a.model.validation.from }, { ba: validation.balancedAccuracy, ci: validation.balancedAccuracyCi, from: 'evaluation' });
    assert.equal(a.model.calibration.applied, false);

    const cal = await runCli(['predict', '--run', run, image, '--calibrated', '--engine', 'wasm', '--json']);
    assert.equal(cal.code, 0, cal.stderr);
    const b = cal.events.find((x) => x.type === 'predict/didFinish');
    assert.ok(b && b.type === 'predict/didFinish' && b.model);
    assert.equal(b.model.calibration.applied, true);
    assert.equal(b.model.calibration.temperature, validation.calibration!.temperature!.value);
    const p = b.predictions[0]!;
    assert.deepEqual(p.uncalibrated, a.predictions[0]!.probabilities, 'the raw softmax is kept beside the scaled one');
    assert.equal(p.predicted, a.predictions[0]!.predicted, 'temperature scaling never changes the predicted class');
    const t = validation.calibration!.temperature!.value;
    const logits = Object.values(a.predictions[0]!.probabilities).map((q) => Math.log(Math.max(1e-12, q)) / t);
    const max = Math.max(...logits);
    const sum = logits.reduce((s, l) => s + Math.exp(l - max), 0);
    Object.values(p.probabilities).forEach((q, k) => assert.ok(Math.abs(q - Math.exp(logits[k]! - max) / sum) < 1e-5, `class ${k}: ${q}`));
  });

  it('predict draws Grad-CAM where a model’s evidence is: the overlay, and the heat map alone, hot on the evidence', async () => {
    // A run folder holding a model whose evidence is known by construction (class "bright" reads bright tiles).
    const squareRun = path.join(dir, 'square-run');
    await writeKnownEvidenceRun(squareRun, prepared);
    const image = path.join(dir, 'square.png');
    // A white square over most of a black 40×40 image, its far corner black: "bright" wins, and its evidence is the square.
    await writeSquareImage(image, 40, 40, 0, 0, 32);
    const out = path.join(dir, 'square-cams');
    const r = await runCli(['predict', '--run', squareRun, image, '--gradcam', out, '--engine', 'cpu', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const done = r.events.find((x) => x.type === 'predict/didFinish');
    assert.ok(done && done.type === 'predict/didFinish');
    const p = done.predictions[0]!;
    assert.equal(p.predicted, 'bright');
    assert.equal(p.gradcamNote, undefined);
    const overlay = await sharp(p.gradcam!).metadata();
    assert.deepEqual([overlay.format, overlay.width, overlay.height], ['png', 40, 40]);
    const { data, info } = await sharp(p.gradcamHeat!).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [40, 40, 4]);
    const alpha = (x: number, y: number): number => data[(y * 40 + x) * 4 + 3]!;
    assert.ok(alpha(10, 10) > 200, `opaque on the square (alpha ${alpha(10, 10)})`);
    assert.equal(alpha(39, 39), 0, 'transparent in the black corner');
  });
});
