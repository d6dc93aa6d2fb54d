/**
 * Training speed, measured side by side in one run on the same engine and data:
 *
 * (a) Head phase (frozen backbone) without vs with the feature cache. Without: every epoch runs the
 *     frozen backbone over every train and val image, as the reference Keras workflow does
 *     (images → frozen backbone predict → head trainOnBatch; validation through the backbone too),
 *     written here with the product's modules (splitModelAt, imageBatches, trainOnBatch). With: the
 *     real train() (`--phase head`), which computes the backbone features once and trains the head
 *     from them. Epoch time = train + validate; train() also saves checkpoints after each epoch,
 *     reported separately because the uncached loop has no equivalent.
 * (b) Fine-tune training throughput (whole MobileNetV2-0.35 @ 96 px, batch 16, Adam) per engine that
 *     runs here: steady-state img/s after warm-up steps, on a fixed in-memory batch (no decoding).
 *
 *   npx tsx bench/train.ts [--engines wasm,cpu] [--epochs 5] [--cpu-epochs 2] [--model mobilenetv2] [--alpha 1.0]
 *                          [--size 96] [--batch 32] [--steps 5] [--warmup 2] [--cpu-steps 1] [--cpu-warmup 1]
 * With fewer than 5 epochs, the 5-epoch totals are projected as epoch 1 + 4 × the median later epoch.
 * Defaults took 292 s at load average 4–7 and 737 s at 8–15 on 2 cores, most of it the cpu engine
 * (~1 img/s backbone forward, ~100–170 s per fine-tune step); `--engines wasm` alone takes 1–2 minutes.
 * Needs `npm run build` (demo-data and prepare run through the CLI). Data cached under bench/out/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendEvent } from '../src/shared/protocol/backend';
import type { EngineName } from '../src/shared/protocol/engines';
import type { ModelName, TrainOptions } from '../src/shared/protocol/jobs';
import { LESION_CLASSES } from '../src/shared/classes';
import { createRng, deriveSeed, shuffle } from '../src/shared/random';
import type { JobContext } from '../src/backend/job';
import { detectEngines } from '../src/backend/engines/detect';
import { initEngine } from '../src/backend/engines/load';
import { readManifest } from '../src/backend/dataset/manifest';
import { HEAD_LAYERS, buildBackbone, buildClassifier } from '../src/backend/models/backbone';
import { preprocessFor } from '../src/backend/models/preprocess';
import { splitImages } from '../src/backend/training/datasetImages';
import type { LabeledImage, PipelineOptions } from '../src/backend/training/imagePipeline';
import { imageBatches } from '../src/backend/training/imagePipeline';
import { splitModelAt } from '../src/backend/training/modelSplit';
import { train } from '../src/backend/training/train';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const engines = arg('engines', 'wasm,cpu').split(',') as EngineName[];
const epochs = Number(arg('epochs', '5'));
const cpuEpochs = Number(arg('cpu-epochs', '2'));
const model = arg('model', 'mobilenetv2') as ModelName;
const alpha = Number(arg('alpha', '1.0'));
const size = Number(arg('size', '96'));
const batch = Number(arg('batch', '32'));
const steps = Number(arg('steps', '5'));
const warmup = Number(arg('warmup', '2'));
// The cpu engine needs ~100 s per fine-tune step and ~1 s per image of backbone forward on this machine.
const cpuSteps = Number(arg('cpu-steps', '1'));
const cpuWarmup = Number(arg('cpu-warmup', '1'));
const PROJECTED_EPOCHS = 5;

const ROOT = path.resolve(__dirname, 'out');
const DATA = path.join(ROOT, 'train-demo');
const PREPARED = path.join(ROOT, 'train-demo-prepared');
const RUNS = path.join(ROOT, 'train-runs');
const CLI = path.resolve(__dirname, '../dist/backend/cli.js');

const load = (): string => os.loadavg().map((v) => v.toFixed(1)).join(' ');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sec = (ms: number): string => (ms / 1000).toFixed(2);

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`lesion-lab ${args[0]} failed (exit ${r.status}); run \`npm run build\` first`);
}

async function ensureDataset(): Promise<string> {
  if (existsSync(path.join(PREPARED, 'manifest.json'))) return 'cached';
  await fs.rm(DATA, { recursive: true, force: true });
  await fs.rm(PREPARED, { recursive: true, force: true });
  cli(['demo-data', '--out', DATA, '--per-class', '20', '--size', '300']);
  cli(['prepare', '--data', DATA, '--out', PREPARED]);
  return 'made with demo-data + prepare';
}

async function images(): Promise<{ train: LabeledImage[]; val: LabeledImage[] }> {
  return splitImages(await readManifest(PREPARED), PREPARED, [...LESION_CLASSES]);
}

interface HeadTiming {
  /** Epoch 1, including computing the feature cache where there is one. */
  firstMs: number;
  /** Later epochs (train + validate). */
  laterMs: number[];
  /** Of firstMs: computing the cache. */
  cacheMs?: number;
  /** Checkpoint saving after each epoch (train() only). */
  checkpointMs?: number[];
}

/** One untimed forward pass of the same backbone, so neither case pays the engine's first-use costs alone. */
async function warmUp(engine: EngineName): Promise<void> {
  const t0 = performance.now();
  const backbone = buildBackbone(model, { inputSize: size, alpha });
  const y = tf.tidy(() => backbone.predict(tf.zeros([4, size, size, 3])) as tf.Tensor);
  await y.data();
  y.dispose();
  backbone.dispose();
  console.log(`  ${engine}: warm-up forward pass ${sec(performance.now() - t0)} s`);
}

/** The reference workflow's head phase: the frozen backbone runs over every image in every epoch. */
async function headWithoutCache(engine: EngineName, train: LabeledImage[], val: LabeledImage[], n: number): Promise<HeadTiming> {
  const classifier = buildClassifier(buildBackbone(model, { inputSize: size, alpha }), LESION_CLASSES.length);
  const split = splitModelAt(classifier, classifier.layers.findIndex((l) => l.name === HEAD_LAYERS.dense));
  const frozen = split.frozen!;
  // Same optimizer as train()'s head phase: Keras' RMSprop defaults.
  split.trainable.compile({ optimizer: tf.train.rmsprop(1e-3, 0.9, 0, 1e-7), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const pipeline: PipelineOptions = { size, preprocess: preprocessFor(model), batchSize: batch };
  const signal = new AbortController().signal;
  const times: number[] = [];
  try {
    for (let epoch = 1; epoch <= n; epoch++) {
      const t0 = performance.now();
      const order = shuffle(createRng(deriveSeed(1, 'head', epoch)), train.map((_, i) => i));
      for await (const b of imageBatches(train, order, pipeline, signal)) {
        const x = tf.tidy(() => frozen.predict(tf.tensor4d(b.x, [b.count, size, size, 3])) as tf.Tensor);
        const y = tf.tidy(() => tf.oneHot(tf.tensor1d(b.labels, 'int32'), LESION_CLASSES.length));
        await split.trainable.trainOnBatch(x, y);
        tf.dispose([x, y]);
      }
      for await (const b of imageBatches(val, val.map((_, i) => i), pipeline, signal)) {
        const p = tf.tidy(() => split.trainable.predict(frozen.predict(tf.tensor4d(b.x, [b.count, size, size, 3])) as tf.Tensor) as tf.Tensor);
        await p.data();
        p.dispose();
      }
      times.push(performance.now() - t0);
      console.log(`  ${engine} without cache: epoch ${epoch}/${n} ${sec(times.at(-1)!)} s  (load ${load()})`);
    }
  } finally {
    split.trainable.optimizer?.dispose();
    classifier.dispose();
  }
  return { firstMs: times[0]!, laterMs: times.slice(1) };
}

/** The product: train() with --phase head, the cache computed afresh (the cache folder is emptied first). */
async function headWithCache(engine: EngineName, n: number): Promise<HeadTiming> {
  await fs.rm(path.join(PREPARED, '.cache', 'features'), { recursive: true, force: true });
  const run = path.join(RUNS, `${engine}-head-cached`);
  await fs.rm(run, { recursive: true, force: true });
  const options: TrainOptions = {
    prepared: PREPARED,
    run,
    model,
    alpha,
    weights: 'none',
    phase: 'head',
    epochs: n,
    batch,
    size,
    augment: 'none',
    engine,
    resume: false,
    classWeights: false,
    seed: 1,
  };
  let phaseStart = 0;
  let cacheMs: number | undefined;
  const epochAt: number[] = [];
  const epochSeconds: number[] = [];
  const checkpointAt: number[] = [];
  const ctx: JobContext = {
    signal: new AbortController().signal,
    emit: (e: BackendEvent) => {
      const now = performance.now();
      if (e.type === 'log' && /^head phase:/.test(e.message)) phaseStart = now;
      if (e.type === 'log' && /^feature cache:/.test(e.message)) {
        cacheMs = now - phaseStart;
        if (!/computed/.test(e.message)) throw new Error(`the feature cache was not computed afresh: ${e.message}`);
      }
      if (e.type === 'train/didEpoch') {
        epochAt.push(now);
        epochSeconds.push(e.metrics.seconds);
        console.log(`  ${engine} with cache (train()): epoch ${e.metrics.epoch}/${n} ${e.metrics.seconds.toFixed(2)} s  (load ${load()})`);
      }
      if (e.type === 'train/didCheckpoint' && e.kind === 'last') checkpointAt.push(now);
      if (e.type === 'error') console.error(`  error: ${e.message}`);
    },
  };
  await train(options, ctx);
  if (cacheMs === undefined || epochAt.length !== n) throw new Error(`train() reported ${epochAt.length} epochs and ${cacheMs === undefined ? 'no' : 'a'} feature cache`);
  console.log(`  ${engine} with cache: features computed in ${sec(cacheMs)} s`);
  return {
    firstMs: epochAt[0]! - phaseStart,
    laterMs: epochSeconds.slice(1).map((s) => s * 1000),
    cacheMs,
    checkpointMs: checkpointAt.map((t, i) => t - epochAt[i]!),
  };
}

/** Epoch 1 plus (N − 1) later epochs at their median: measured where N epochs ran, projected otherwise. */
function overEpochs(t: HeadTiming, n: number): number {
  return t.firstMs + (n - 1) * median(t.laterMs);
}

interface StepResult {
  engine: EngineName;
  imgPerSec: number;
  stepMs: number[];
  warm: number;
}

/** Whole MobileNetV2-0.35 @ 96 px + the reference head, everything trainable, Adam, batch 16. */
async function finetuneThroughput(engine: EngineName, warm: number, timed: number): Promise<StepResult> {
  const B = 16;
  const S = 96;
  const classifier = buildClassifier(buildBackbone('mobilenetv2', { inputSize: S, alpha: 0.35 }), LESION_CLASSES.length);
  const split = splitModelAt(classifier, 1); // everything trains, as train() does with --unfreeze-from 1
  split.trainable.compile({ optimizer: tf.train.adam(1e-4, 0.9, 0.999, 1e-7), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.randomUniform([B, S, S, 3], -1, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % LESION_CLASSES.length), 'int32'), LESION_CLASSES.length);
  const times: number[] = [];
  try {
    // Warm-up: kernel compilation/setup and the optimizer's slot variables.
    for (let i = 0; i < warm; i++) await split.trainable.trainOnBatch(x, y);
    const before = tf.memory().numTensors;
    for (let i = 0; i < timed; i++) {
      const t0 = performance.now();
      await split.trainable.trainOnBatch(x, y);
      times.push(performance.now() - t0);
      console.log(`  ${engine} fine-tune step ${i + 1}/${timed}: ${times.at(-1)!.toFixed(0)} ms  (load ${load()})`);
    }
    if (tf.memory().numTensors !== before) console.log(`  warning: ${tf.memory().numTensors - before} tensors leaked over ${timed} steps`);
  } finally {
    tf.dispose([x, y]);
    split.trainable.optimizer?.dispose();
    classifier.dispose();
  }
  return { engine, imgPerSec: (B * 1000) / median(times), stepMs: times, warm };
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`bench/train: ${os.cpus().length} cores, load average ${load()} at start; node ${process.version}`);
  console.log(`dataset: ${await ensureDataset()} (${PREPARED})`);
  const { train: trainImages, val: valImages } = await images();
  console.log(`${trainImages.length} train + ${valImages.length} val images; ${model}${model === 'mobilenetv2' ? ` alpha ${alpha}` : ''} @ ${size} px, --weights none, batch ${batch}`);

  const detected = await detectEngines();
  for (const e of detected) {
    if (!e.available) console.log(`engine ${e.name}: not available here — ${e.reason}`);
  }
  const runnable = engines.filter((e) => detected.find((d) => d.name === e)?.available);

  const head: { engine: EngineName; n: number; without: HeadTiming; with: HeadTiming }[] = [];
  console.log('\n(a) head phase, frozen backbone: without vs with the feature cache');
  for (const engine of runnable) {
    await initEngine(engine);
    await warmUp(engine);
    const n = engine === 'cpu' ? cpuEpochs : epochs;
    const withCache = await headWithCache(engine, n);
    const without = await headWithoutCache(engine, trainImages, valImages, n);
    head.push({ engine, n, without, with: withCache });
  }

  console.log('\n(b) fine-tune training step: whole MobileNetV2-0.35 @ 96 px, batch 16, Adam');
  const steps_: StepResult[] = [];
  for (const engine of runnable) {
    await initEngine(engine);
    steps_.push(await finetuneThroughput(engine, engine === 'cpu' ? cpuWarmup : warmup, engine === 'cpu' ? cpuSteps : steps));
  }

  console.log(`\n=== head phase (${model}${model === 'mobilenetv2' ? `-${alpha}` : ''} @ ${size}, ${trainImages.length}+${valImages.length} images, batch ${batch}) — seconds ===`);
  console.log('engine  case            epoch 1 (incl. cache)  cache   later epochs (median, n)   checkpoints/epoch   over 5 epochs');
  for (const h of head) {
    const rows: [string, HeadTiming][] = [
      ['without cache', h.without],
      ['with cache', h.with],
    ];
    for (const [label, t] of rows) {
      const over = overEpochs(t, PROJECTED_EPOCHS);
      const projected = h.n < PROJECTED_EPOCHS ? ' (projected)' : '';
      console.log(
        `${h.engine.padEnd(6)}  ${label.padEnd(14)}  ${sec(t.firstMs).padStart(21)}  ${(t.cacheMs !== undefined ? sec(t.cacheMs) : '-').padStart(5)}   ${`${sec(median(t.laterMs))} (${t.laterMs.map(sec).join(', ')})`.padEnd(26)} ${(t.checkpointMs ? sec(median(t.checkpointMs)) : '-').padStart(17)}   ${sec(over)}${projected}`,
      );
    }
    const perEpoch = median(h.without.laterMs) / median(h.with.laterMs);
    const first = h.without.firstMs / h.with.firstMs;
    const over5 = overEpochs(h.without, PROJECTED_EPOCHS) / overEpochs(h.with, PROJECTED_EPOCHS);
    console.log(`${h.engine.padEnd(6)}  ratio without/with: epoch 1 ${first.toFixed(2)}×, later epochs ${perEpoch.toFixed(1)}×, over ${PROJECTED_EPOCHS} epochs ${over5.toFixed(2)}×`);
  }

  console.log('\n=== fine-tune training throughput (MobileNetV2-0.35 @ 96, batch 16, Adam, whole model) ===');
  for (const s of steps_) console.log(`${s.engine.padEnd(6)}  ${s.imgPerSec.toFixed(2).padStart(7)} img/s   step median ${median(s.stepMs).toFixed(0)} ms over ${s.stepMs.length} steps after ${s.warm} warm-up step(s)`);
  const byName = (e: EngineName) => steps_.find((s) => s.engine === e);
  const w = byName('wasm');
  const c = byName('cpu');
  if (w && c) console.log(`wasm / cpu: ${(w.imgPerSec / c.imgPerSec).toFixed(1)}×`);
  console.log(`\ntotal ${sec(performance.now() - started)} s; load average ${load()} at the end`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
