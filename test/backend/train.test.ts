import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { warmupLr } from '../../src/shared/lrSchedule';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { BackendClient } from '../../src/extension/backendClient';
import { PredictionController, imagesToClassify } from '../../src/extension/panels/predictionController';
import { CLI, assertBuilt, runCli, startCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';
import { writeKnownEvidenceRun, writeSquareImage } from '../helpers/knownEvidenceModel';

// A tiny but real pipeline: synthetic HAM10000-layout data → prepare → train MobileNetV2-0.35 at 32 px on wasm.
const TRAIN = ['--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--engine', 'wasm', '--json'];

describe('backend process: training, evaluation and prediction', function () {
  this.timeout(600_000);
  let dir: string;
  let prepared: string;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-train-'));
    ({ prepared } = await preparedDemoDataset(dir, 8));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const epochsOf = (events: BackendEvent[]) => events.filter((e): e is Extract<BackendEvent, { type: 'train/didEpoch' }> => e.type === 'train/didEpoch');

  it('trains both phases, writes the run folder, and keeps the tensor count flat from epoch to epoch', async () => {
    const run = path.join(dir, 'run-a');
    const r = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'both', '--epochs', '3', '--finetune-epochs', '3', ...TRAIN]);
    assert.equal(r.code, 0, r.stderr);
    const epochs = epochsOf(r.events);
    assert.ok(epochs.length >= 2, 'at least two epochs');
    assert.equal(epochs[0]!.metrics.phase, 'head');
    assert.ok(epochs.some((e) => e.metrics.phase === 'finetune'));
    // Within a phase the live tensors must not grow: each epoch disposes what it made.
    for (const phase of ['head', 'finetune'] as const) {
      const counts = epochs.filter((e) => e.metrics.phase === phase).map((e) => e.tensors!);
      assert.ok(counts.every((c) => c === counts[0]), `${phase} tensors per epoch: ${counts.join(', ')}`);
    }
    const lines = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, epochs.length);
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8'));
    assert.equal(config.engine.engine, 'wasm');
    assert.equal(config.options.model, 'mobilenetv2');
    assert.ok(config.engine.versions['@tensorflow/tfjs-core']);
    for (const f of ['checkpoints/best/model.json', 'checkpoints/last/model.json', 'checkpoints/last/optimizer.bin', 'checkpoints/last/state.json', 'events.jsonl']) {
      await fs.access(path.join(run, f));
    }
    assert.equal(JSON.parse(await fs.readFile(path.join(run, 'status.json'), 'utf8')).status, 'finished');
    const finish = r.events.find((e) => e.type === 'train/didFinish');
    assert.ok(finish && finish.type === 'train/didFinish' && finish.epochs === epochs.length);
    assert.ok(r.events.some((e) => e.type === 'log' && /feature cache: computed/.test(e.message)), 'head phase used the feature cache');

    // Every training batch is in batches.jsonl, numbered on one step axis, and the live events carried each of them.
    const perEpoch = Math.ceil(config.dataset.train / 8);
    const batches = (await fs.readFile(path.join(run, 'batches.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; epoch: number; batch: number; loss: number | null; lr: number; phase: string });
    assert.deepEqual(batches.map((b) => b.step), Array.from({ length: epochs.length * perEpoch }, (_, i) => i + 1));
    assert.ok(batches.every((b) => b.step === (b.epoch - 1) * perEpoch + b.batch && typeof b.loss === 'number' && b.lr > 0));
    assert.deepEqual(epochs.map((e) => e.metrics.step), epochs.map((e) => e.metrics.epoch * perEpoch), 'each epoch records the step it ended at');
    const live = r.events.flatMap((e) => (e.type === 'train/didBatch' ? e.points.map((p) => p.step) : []));
    assert.deepEqual(live, batches.map((b) => b.step), 'the train/didBatch events carried every batch, in order');
    // The rate each batch trained at is the run's schedule (from scratch: a linear warm-up at the start of each phase),
    // and an epoch's recorded rate is that of its last batch.
    for (const phase of ['head', 'finetune'] as const) {
      const inPhase = batches.filter((b) => b.phase === phase);
      const base = phase === 'head' ? config.options.lr : config.options.finetuneLr;
      assert.deepEqual(inPhase.map((b) => b.lr), inPhase.map((_, i) => warmupLr(base, i + 1, config.options.warmupEpochs * perEpoch)), `${phase} learning rates`);
    }
    for (const e of epochs) assert.equal(e.metrics.lr, batches.filter((b) => b.epoch === e.metrics.epoch).at(-1)!.lr, `epoch ${e.metrics.epoch}'s rate`);

    const again = await runCli(['train', '--prepared', prepared, '--run', run, ...TRAIN]);
    assert.equal(again.code, 1);
    assert.match(again.stderr + JSON.stringify(again.events), /already holds a run\. Use --resume/);
  });

  it('resumes after SIGKILL mid-epoch and ends with the same number of epochs and a valid best checkpoint', async () => {
    const run = path.join(dir, 'run-b');
    const args = ['train', '--prepared', prepared, '--run', run, '--phase', 'finetune', '--epochs', '3', ...TRAIN];
    const first = startCli(args);
    // Wait until one epoch is checkpointed and the next is under way, then kill without warning.
    await first.waitForEvent((e) => e.type === 'train/didCheckpoint' && e.kind === 'last');
    await first.waitForEvent((e) => e.type === 'train/didBatch' && e.epoch === 2);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    const resumed = await runCli([...args, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(resumed.events.some((e) => e.type === 'log' && /resuming after epoch 1/.test(e.message)));
    assert.deepEqual(epochsOf(resumed.events).map((e) => e.metrics.epoch), [2, 3]);
    const metrics = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(metrics.map((m: { epoch: number }) => m.epoch), [1, 2, 3], 'no epoch listed twice');
    // The batches of the epoch cut short were dropped with it: each step once, in order, across the kill.
    const steps = (await fs.readFile(path.join(run, 'batches.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(steps, Array.from({ length: metrics.at(-1).step }, (_, i) => i + 1), 'no batch listed twice');

    const ev = await runCli(['evaluate', '--run', run, '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    const done = ev.events.find((e) => e.type === 'evaluate/didFinish');
    assert.ok(done && done.type === 'evaluate/didFinish');
    const cells = done.evaluation.confusion.flat().reduce((a, b) => a + b, 0);
    assert.equal(done.evaluation.confusion.length, 7);
    assert.equal(cells, done.evaluation.count);
    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8'));
    assert.equal(done.evaluation.count, manifest.images.filter((i: { split: string }) => i.split === 'val').length);
    const card = await fs.readFile(path.join(run, 'model-card.md'), 'utf8');
    assert.match(card, /not a medical device/);
    assert.match(card, /Balanced accuracy/);
  });

  it('--seed makes a run repeatable: the same seed gives the same losses and weights (at 2 threads, and at 1), another seed others', async () => {
    const trainWith = async (name: string, seed: string, threads: string) => {
      const run = path.join(dir, name);
      // Both phases: initialisers, the head's dropout masks and the batch order all draw random numbers.
      const r = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'both', '--epochs', '1', '--finetune-epochs', '1', '--seed', seed, '--threads', threads, ...TRAIN]);
      assert.equal(r.code, 0, r.stderr);
      const losses = epochsOf(r.events).map((e) => [e.metrics.loss, e.metrics.valLoss]);
      const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8'));
      return { run, losses, config, weights: await fs.readFile(path.join(run, 'checkpoints', 'last', 'weights.bin')) };
    };
    const a = await trainWith('seed-7a', '7', '2');
    const b = await trainWith('seed-7b', '7', '2');
    const c = await trainWith('seed-8', '8', '2');
    const single = await trainWith('seed-7-1thread', '7', '1');
    assert.equal(a.losses.length, 2);
    assert.deepEqual(b.losses, a.losses);
    assert.ok(b.weights.equals(a.weights), 'the same seed, the same final weights, byte for byte');
    assert.notDeepEqual(c.losses, a.losses);
    assert.ok(!c.weights.equals(a.weights));
    // The thread count is part of the record, and the threaded kernels split work, never a sum: 1 thread agrees.
    assert.equal(a.config.engine.threads, 2);
    assert.match(a.config.engine.device, /2 threads/);
    assert.equal(single.config.engine.threads, 1);
    assert.deepEqual(single.losses, a.losses);
    assert.ok(single.weights.equals(a.weights), '1 thread gives the 2-thread weights, byte for byte');
    const ev = await runCli(['evaluate', '--run', a.run, '--threads', '2', '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(await fs.readFile(path.join(a.run, 'model-card.md'), 'utf8'), /CPU threads: 2 \(a seeded run repeats exactly at the same thread count\)/);
  });

  it('--seed on the cpu engine too: two runs with the same seed end with the same losses and the same weights, byte for byte', async () => {
    // The README promises this for cpu and wasm; wasm is covered above. One epoch of the whole network from
    // scratch draws initial weights, dropout masks and the batch order, and back-propagates through every layer.
    const trainOnCpu = async (name: string) => {
      const run = path.join(dir, name);
      const r = await runCli(['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--engine', 'cpu', '--phase', 'finetune', '--epochs', '1', '--seed', '7', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as { engine: { engine: string } };
      assert.equal(config.engine.engine, 'cpu');
      return { losses: epochsOf(r.events).map((e) => [e.metrics.loss, e.metrics.valLoss]), weights: await fs.readFile(path.join(run, 'checkpoints', 'last', 'weights.bin')) };
    };
    const a = await trainOnCpu('cpu-seed-7a');
    const b = await trainOnCpu('cpu-seed-7b');
    assert.equal(a.losses.length, 1);
    assert.deepEqual(b.losses, a.losses);
    assert.ok(a.weights.length > 100_000 && b.weights.equals(a.weights), 'the same seed, the same final weights, byte for byte');
  });

  it('fine-tunes a head-only run: --resume --phase finetune continues it into the second phase', async () => {
    const run = path.join(dir, 'run-c');
    const head = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'head', '--epochs', '1', ...TRAIN]);
    assert.equal(head.code, 0, head.stderr);
    const fine = await runCli(['train', '--prepared', prepared, '--run', run, '--resume', '--phase', 'finetune', '--epochs', '1', ...TRAIN]);
    assert.equal(fine.code, 0, fine.stderr);
    assert.deepEqual(epochsOf(fine.events).map((e) => [e.metrics.epoch, e.metrics.phase]), [[2, 'finetune']]);
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8'));
    assert.equal(config.options.phase, 'both');
  });

  it('trains with online augmentation: class-balanced epochs, the feature cache off', async () => {
    const run = path.join(dir, 'run-online');
    const r = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'head', '--epochs', '1', '--augment', 'online', ...TRAIN]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.events.some((e) => e.type === 'log' && /feature cache off: online augmentation/.test(e.message)));
    assert.equal(epochsOf(r.events).length, 1);
    assert.equal(JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')).options.augment, 'online');
  });

  it('predicts class probabilities with test-time augmentation; at 32 px Grad-CAM says it cannot localise instead of drawing', async () => {
    const run = path.join(dir, 'run-a');
    const image = path.join(prepared, 'val', (await fs.readdir(path.join(prepared, 'val')))[0]!);
    const file = path.join(image, (await fs.readdir(image))[0]!);
    const out = path.join(dir, 'cam');
    const r = await runCli(['predict', '--run', run, '--tta', '--gradcam', out, file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const done = r.events.find((e) => e.type === 'predict/didFinish');
    assert.ok(done && done.type === 'predict/didFinish');
    const p = done.predictions[0]!;
    const total = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
    assert.equal(Object.keys(p.probabilities).length, 7);
    // MobileNetV2's last feature map is 1×1 at 32 px: one cell cannot say where anything is.
    assert.equal(p.gradcam, undefined);
    assert.match(p.gradcamNote ?? '', /^no evidence map: the last feature map is 1×1 at this input size/);
    assert.deepEqual(await fs.readdir(out), [], 'no overlay drawn');

    const missing = await runCli(['predict', '--run', run, path.join(dir, 'nope.jpg'), '--json']);
    assert.equal(missing.code, 1);
    assert.match(JSON.stringify(missing.events), /does not exist/);
  });

  /**
   * A run whose Grad-CAM is known to draw (run-a's 32 px MobileNetV2 has a 1×1 last feature map, so it reports a
   * flat map instead), and white squares on black that its "bright" class finds.
   */
  async function squareRunAndImages(): Promise<{ run: string; squares: string[] }> {
    const run = path.join(dir, 'square-run');
    await writeKnownEvidenceRun(run, prepared);
    const squares = [path.join(dir, 'squares', 'square-1.png'), path.join(dir, 'squares', 'square-2.png')];
    await writeSquareImage(squares[0]!, 40, 40, 0, 0, 32);
    await writeSquareImage(squares[1]!, 40, 40, 8, 8, 24);
    return { run, squares };
  }

  it('predicts many images: a bad one in the middle gets its own error and the rest are written; same-named inputs get distinct Grad-CAM files', async () => {
    const { run, squares } = await squareRunAndImages();
    const [first, second] = squares;
    // The same file name in two folders (as ISIC_0024310.png from two copies of a dataset).
    const a = path.join(dir, 'many', 'a', 'ISIC_0024310.png');
    const b = path.join(dir, 'many', 'b', 'ISIC_0024310.png');
    const broken = path.join(dir, 'many', 'broken.jpg');
    await fs.mkdir(path.dirname(a), { recursive: true });
    await fs.mkdir(path.dirname(b), { recursive: true });
    await fs.copyFile(first!, a);
    await fs.copyFile(second!, b);
    await fs.writeFile(broken, 'not a jpeg');
    const missing = path.join(dir, 'many', 'missing.jpg');
    const images = [a, broken, b, missing, first!];
    const out = path.join(dir, 'many-cam');
    const r = await runCli(['predict', '--run', run, '--gradcam', out, '--json', ...images]);
    assert.equal(r.code, 1, 'exit 1 when any image failed');
    const failures = r.events.filter((e): e is Extract<BackendEvent, { type: 'predict/didFailImage' }> => e.type === 'predict/didFailImage');
    assert.deepEqual(failures.map((f) => f.image), [broken, missing], 'one error of its own per bad image, in order');
    assert.match(failures[0]!.error, /Could not read the image .*broken\.jpg/);
    assert.match(failures[1]!.error, /missing\.jpg does not exist/);
    const done = r.events.find((e) => e.type === 'predict/didFinish');
    assert.ok(done && done.type === 'predict/didFinish');
    assert.deepEqual(done.predictions.map((p) => p.image), [a, b, first], 'the others were classified');
    assert.deepEqual(done.failed?.map((f) => f.image), [broken, missing]);
    const error = r.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error');
    assert.match(error.message, /^2 of 5 image\(s\) could not be classified \(.*broken\.jpg, .*missing\.jpg\); the other 3 were\./);
    assert.match(failures[0]!.error, /Check that it is a JPEG or PNG image/, 'advice for a loose image, not for a prepared dataset');
    const cams = done.predictions.map((p) => p.gradcam!);
    assert.equal(new Set(cams).size, 3, `three distinct overlays: ${cams.join(', ')}`);
    assert.match(path.basename(cams[0]!), /^ISIC_0024310-[0-9a-f]{8}\.gradcam\.png$/);
    assert.match(path.basename(cams[1]!), /^ISIC_0024310-[0-9a-f]{8}\.gradcam\.png$/);
    assert.equal(path.basename(cams[2]!), `${path.parse(first!).name}.gradcam.png`, 'a name used once stays as it was');
    const heats = done.predictions.map((p) => p.gradcamHeat!);
    assert.deepEqual(heats.map((h) => path.basename(h)), cams.map((c) => path.basename(c).replace(/\.gradcam\.png$/, '.gradcam-heat.png')), 'each heat map beside its overlay');
    assert.deepEqual((await fs.readdir(out)).sort(), [...cams, ...heats].map((c) => path.basename(c)).sort(), 'an overlay and a heat map per classified image, none overwritten');
    for (const cam of [...cams, ...heats]) assert.equal((await sharp(cam).metadata()).format, 'png');

    // For a person: each failure on a line of its own on stderr, the predictions on stdout.
    const human = await runCli(['predict', '--run', run, a, broken, b]);
    assert.equal(human.code, 1);
    assert.match(human.stderr, /^error: Could not read the image .*broken\.jpg/m);
    // The model's provenance first, then one line per classified image.
    assert.equal(human.stdout.trim().split('\n').filter((l) => l.includes('ISIC_0024310.png: ')).length, 2, human.stdout);
  });

  it('the extension’s Classify Lesion on a multi-selection: one result per image, the unreadable one with its reason', async () => {
    const { run, squares: files } = await squareRunAndImages();
    const broken = path.join(dir, 'many', 'broken.jpg');
    const client = new BackendClient({ modulePath: CLI });
    let changes = 0;
    try {
      const controller = new PredictionController({ run: (request, opts) => client.run(request, { onEvent: opts.onEvent }) }, path.join(dir, 'panel-cam'), () => changes++, () => 'wasm');
      const selection = imagesToClassify({ fsPath: files[0] }, [...files, broken, { fsPath: path.join(dir, 'notes.txt') }].map((fsPath) => (typeof fsPath === 'string' ? { fsPath } : fsPath)));
      assert.deepEqual(selection, [...files, broken], 'the images of the selection, not the text file');
      await controller.classify(selection, run);
      const s = controller.state;
      assert.equal(s.loading, false);
      assert.equal(s.error, undefined, 'the job as a whole did not fail');
      assert.deepEqual(s.items.map((i) => i.image), selection);
      assert.ok(s.items[0]!.prediction && s.items[1]!.prediction, 'both good images classified');
      assert.ok(s.items.slice(0, 2).every((i) => i.gradcamHeatUri?.startsWith('data:image/png;base64,')), 'the heat map of each, laid over the image in the panel');
      assert.equal(s.model?.trainedOn.synthetic, true, "the model's provenance: trained on synthetic data");
      assert.equal(s.items[2]!.prediction, undefined);
      assert.match(s.items[2]!.error ?? '', /Could not read the image .*broken\.jpg/);
      assert.ok(changes >= 2, 'the panel was told when classification started and when it ended');
    } finally {
      await client.dispose();
    }
  });

  it('train and evaluate refuse a prepared folder whose manifest points outside it, as augment does', async () => {
    // A run to evaluate with, trained here so this test stands on its own.
    const run = path.join(dir, 'traversal-run');
    const t = await runCli(['train', '--prepared', prepared, '--run', run, '--phase', 'head', '--epochs', '1', ...TRAIN]);
    assert.equal(t.code, 0, t.stderr);
    const tampered = path.join(dir, 'tampered');
    await fs.cp(prepared, tampered, { recursive: true });
    const manifestFile = path.join(tampered, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as { images: { file: string; split: string }[] };
    const victim = manifest.images.find((i) => i.split === 'val')!;
    victim.file = `val/${victim.file.split('/')[1]}/../../../outside.jpg`;
    await fs.writeFile(manifestFile, JSON.stringify(manifest));
    const expected = /lists .*outside\.jpg.*, which is outside the prepared folder/;
    const tr = await runCli(['train', '--prepared', tampered, '--run', path.join(dir, 'traversal-run-2'), '--epochs', '1', ...TRAIN]);
    assert.equal(tr.code, 1);
    assert.match(JSON.stringify(tr.events), expected);
    const ev = await runCli(['evaluate', '--run', run, '--data', tampered, '--json']);
    assert.equal(ev.code, 1);
    assert.match(JSON.stringify(ev.events), expected);
    const au = await runCli(['augment', '--prepared', tampered, '--target', '10', '--json']);
    assert.equal(au.code, 1);
    assert.match(JSON.stringify(au.events), expected);
  });
});
