/**
 * The GPU bench's program (bench/gpu.sh packs it into a self-contained kit; it also runs from a checkout):
 *   1. training step and inference img/s on webgpu, TF.js stock and Lesion Lab (and mixed precision where the
 *      adapter has shader-f16), for ResNet50, ResNet152 and MobileNetV2 with the reference head, RMSprop;
 *   2. the same in PyTorch fp32 on the same GPU (bench/pytorchStep.py, when a python3 with torch is there);
 *   3. a short real training run on demo data through the CLI (demo-data → prepare → train → evaluate) that must
 *      learn: balanced validation accuracy at least twice chance;
 * then a table of img/s and ratios. It keeps to a time budget (--budget, seconds): a part that would not fit is
 * skipped and says so.
 *   node gpu.js [--models resnet50,resnet152,mobilenetv2] [--size 224] [--batch 32] [--steps 3] [--budget 480]
 *               [--python python3] [--cli PATH] [--demo-size 96] [--demo-per-class 50] [--demo-epochs 6]
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelName } from '../src/shared/protocol/jobs';
import { initEngine } from '../src/backend/engines/load';
import { webgpuBackend } from '../src/backend/engines/webgpu/backendInternals';
import { deviceHasHalf } from '../src/backend/engines/webgpu/mixedPrecision';
import { createOptimizer } from '../src/backend/engines/webgpu/fusedOptimizers';
import { buildBackbone, buildClassifier } from '../src/backend/models/backbone';
import { foldBatchNorm } from '../src/backend/models/foldedInference';
import type { WebGpuVariant } from './webgpuVariants';
import { WEBGPU_VARIANTS, restoreLesionLab } from './webgpuVariants';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const models = arg('models', 'resnet50,resnet152,mobilenetv2').split(',') as ModelName[];
const size = Number(arg('size', '224'));
const batch = Number(arg('batch', '32'));
const steps = Number(arg('steps', '3'));
const budgetSeconds = Number(arg('budget', '480'));
const CLASSES = 7;
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (line: string) => console.log(line);

interface Rate {
  model: ModelName;
  work: 'train' | 'infer';
  variant: string;
  imgPerSec: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Times `work` per variant: one warm-up each (shader compilation), then `steps` rounds with the variants interleaved. */
async function timeVariants(variants: readonly WebGpuVariant[], work: (v: WebGpuVariant) => Promise<void>): Promise<Map<string, number>> {
  for (const v of variants) {
    v.activate();
    const t = performance.now();
    await work(v);
    log(`    ${v.name}: warm-up ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < steps; r++) {
    for (const v of variants) {
      v.activate();
      const t = performance.now();
      await work(v);
      times.get(v.name)!.push(performance.now() - t);
    }
  }
  return new Map(variants.map((v) => [v.name, (batch * 1000) / median(times.get(v.name)!)]));
}

async function benchModel(name: ModelName, variants: readonly WebGpuVariant[]): Promise<Rate[]> {
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % CLASSES), 'int32'), CLASSES);
  const rates: Rate[] = [];
  try {
    log(`  ${name}: training step`);
    const trainModels = new Map<string, tfl.LayersModel>();
    for (const v of variants) {
      const model = buildClassifier(buildBackbone(name, { inputSize: size }), CLASSES);
      model.compile({ optimizer: createOptimizer('rmsprop', 1e-3, v.optimizerEngine), loss: 'categoricalCrossentropy' });
      trainModels.set(v.name, model);
    }
    const train = await timeVariants(variants, async (v) => {
      await trainModels.get(v.name)!.trainOnBatch(x, y);
    });
    for (const m of trainModels.values()) m.dispose();
    for (const [variant, imgPerSec] of train) rates.push({ model: name, work: 'train', variant, imgPerSec });

    log(`  ${name}: inference (the frozen-backbone forward of the feature cache, evaluate and predict)`);
    const backbone = buildBackbone(name, { inputSize: size });
    // Stock: model.predict; Lesion Lab: batch norm folded into the convolutions (models/foldedInference.ts).
    const folded = foldBatchNorm(backbone);
    const infer = await timeVariants(variants, async (v) => {
      const out = v.name === 'stock' ? (backbone.predict(x) as tf.Tensor) : folded.run(x);
      await out.data();
      out.dispose();
    });
    folded.dispose();
    backbone.dispose();
    for (const [variant, imgPerSec] of infer) rates.push({ model: name, work: 'infer', variant, imgPerSec });
  } finally {
    tf.dispose([x, y]);
    restoreLesionLab();
  }
  return rates;
}

interface TorchRate {
  model: string;
  mode: 'train' | 'infer';
  imgPerSec: number;
  device: string;
}

/** bench/pytorchStep.py (beside this program in the kit) on CUDA; undefined, with the reason printed, when it cannot run. */
function runPyTorch(python: string, mode: 'train' | 'infer', names: string[]): Promise<TorchRate[] | undefined> {
  const script = [path.join(__dirname, 'pytorchStep.py'), path.join(__dirname, '..', '..', 'bench', 'pytorchStep.py')].find((f) => existsSync(f));
  if (!script) {
    log('PyTorch reference skipped: pytorchStep.py not found beside the bench');
    return Promise.resolve(undefined);
  }
  const args = [script, '--models', names.join(','), '--size', String(size), '--batch', String(batch), '--steps', String(Math.max(steps, 3)), '--mode', mode];
  return new Promise((resolve) => {
    execFile(python, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} not found` : stderr.trim().split('\n').pop() || err.message;
        log(`PyTorch reference skipped: ${why}`);
        resolve(undefined);
        return;
      }
      resolve(
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => ({ ...(JSON.parse(l) as TorchRate), mode })),
      );
    });
  });
}

/** Runs the CLI with `args` (the kit's own node), returning its JSON events. */
function cli(cliPath: string, args: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`lesion-lab ${args[0]} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>));
    });
  });
}

/**
 * demo-data → prepare → train MobileNetV2-0.35 from scratch on webgpu (head then every layer, as scripts/demo.sh) →
 * evaluate; learned = balanced validation accuracy ≥ 2 × chance (the demo run reaches ~50%).
 */
async function realTrainingRun(cliPath: string): Promise<{ seconds: number; balancedAccuracy: number; losses: number[]; learned: boolean }> {
  const t0 = performance.now();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-gpu-bench-'));
  try {
    const demoSize = arg('demo-size', '96');
    await cli(cliPath, ['demo-data', '--out', path.join(dir, 'data'), '--per-class', arg('demo-per-class', '50'), '--size', String(Math.max(4 * Number(demoSize), 200))]);
    await cli(cliPath, ['prepare', '--data', path.join(dir, 'data'), '--out', path.join(dir, 'prepared')]);
    const run = path.join(dir, 'run');
    const events = await cli(cliPath, [
      'train', '--prepared', path.join(dir, 'prepared'), '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none',
      '--size', demoSize, '--batch', '16', '--phase', 'both', '--epochs', '3', '--finetune-epochs', arg('demo-epochs', '6'), '--engine', 'webgpu', '--seed', '1',
    ]);
    const losses = events.filter((e) => e.type === 'train/didEpoch').map((e) => (e.metrics as { loss: number }).loss);
    await cli(cliPath, ['evaluate', '--run', run, '--engine', 'webgpu']);
    const evaluation = JSON.parse(await fs.readFile(path.join(run, 'evaluation.json'), 'utf8')) as { balancedAccuracy: number };
    return { seconds: (performance.now() - t0) / 1000, balancedAccuracy: evaluation.balancedAccuracy, losses, learned: evaluation.balancedAccuracy >= 2 / CLASSES };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '—' : n.toFixed(digits));

async function main(): Promise<void> {
  const engine = await initEngine('webgpu');
  const backend = webgpuBackend()!;
  const limits = backend.device.limits;
  log(`Lesion Lab GPU bench: webgpu on ${engine.device}; storage binding ≤ ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, buffer ≤ ${(limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB`);
  log(`${models.join(', ')} at ${size}×${size}, batch ${batch}, RMSprop; median of ${steps} steps; node ${process.version}; budget ${budgetSeconds} s`);
  const variants = WEBGPU_VARIANTS.filter((v) => v.name === 'stock' || v.name === 'lesion' || (v.name === 'mixed' && deviceHasHalf(backend)));
  const rates: Rate[] = [];
  const skipped: string[] = [];
  // Each model's share of the budget, the PyTorch runs and the real training run keeping the last third.
  for (const name of models) {
    if (elapsed() > (budgetSeconds * 2) / 3) {
      skipped.push(`${name} (time budget)`);
      continue;
    }
    rates.push(...(await benchModel(name, variants)));
  }
  const measured = [...new Set(rates.map((r) => r.model))];
  const python = arg('python', 'python3');
  const torch: TorchRate[] = [];
  if (measured.length > 0 && elapsed() < (budgetSeconds * 3) / 4) {
    for (const mode of ['train', 'infer'] as const) torch.push(...((await runPyTorch(python, mode, measured)) ?? []));
  } else if (measured.length > 0) {
    skipped.push('PyTorch reference (time budget)');
  }
  const cliPath = arg('cli', path.join(__dirname, '..', 'backend', 'cli.js'));
  let training: Awaited<ReturnType<typeof realTrainingRun>> | undefined;
  if (!existsSync(cliPath)) skipped.push(`real training run (no CLI at ${cliPath})`);
  else if (elapsed() > budgetSeconds * 0.85) skipped.push('real training run (time budget)');
  else training = await realTrainingRun(cliPath);

  log('');
  log(`| model | work | stock img/s | Lesion Lab img/s | ${variants.some((v) => v.name === 'mixed') ? 'mixed img/s | ' : ''}PyTorch fp32 img/s | Lesion Lab / stock | Lesion Lab / PyTorch |`);
  log(`| --- | --- | --- | --- | ${variants.some((v) => v.name === 'mixed') ? '--- | ' : ''}--- | --- | --- |`);
  for (const name of measured) {
    for (const work of ['train', 'infer'] as const) {
      const get = (variant: string) => rates.find((r) => r.model === name && r.work === work && r.variant === variant)?.imgPerSec;
      const pt = torch.find((t) => t.model === name && t.mode === work)?.imgPerSec;
      const [stock, ours, mixed] = [get('stock'), get('lesion'), get('mixed')];
      log(
        `| ${name} | ${work} | ${fmt(stock)} | ${fmt(ours)} | ${variants.some((v) => v.name === 'mixed') ? `${fmt(mixed)} | ` : ''}${fmt(pt)} | ` +
          `${ours && stock ? `${(ours / stock).toFixed(2)}×` : '—'} | ${ours && pt ? `${((100 * ours) / pt).toFixed(1)}%` : '—'} |`,
      );
    }
  }
  if (torch[0]) log(`PyTorch ${torch[0].device}`);
  if (training) {
    log(
      `real training run (demo data, MobileNetV2-0.35 from scratch on webgpu): ${training.seconds.toFixed(0)} s, epoch losses ${training.losses.map((l) => l.toFixed(3)).join(' ')}, ` +
        `balanced validation accuracy ${(100 * training.balancedAccuracy).toFixed(1)}% (chance ${(100 / CLASSES).toFixed(1)}%): ${training.learned ? 'it learned' : 'IT DID NOT LEARN'}`,
    );
  }
  for (const s of skipped) log(`skipped: ${s}`);
  log(`total ${elapsed().toFixed(0)} s of a ${budgetSeconds} s budget`);
  if (training && !training.learned) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
