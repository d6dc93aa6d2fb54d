/**
 * Lesion Lab on the CPU beside PyTorch on the same CPU, at 1 thread and at every core, in one run:
 *   - training: MobileNetV2 α0.35 @ 96², batch 32, RMSprop, every layer trainable — the model and optimizer `train`
 *     builds (models/backbone.ts, engines/fusedOptimizers.ts) on the wasm engine;
 *   - inference: ResNet50 @ 224², batch 8, the frozen-backbone forward of the feature cache (and of evaluate/predict).
 * PyTorch runs bench/pytorchStep.py (torchvision's models, the same head, the same optimizer settings) with
 * torch.set_num_threads at the same counts. Each measurement is its own process (TF.js fixes its thread count per
 * process); the sides alternate within a round and the order flips every round, the median of the rounds is
 * reported, and the load average is printed beside every figure: this machine is shared.
 *
 *   npx tsx bench/cpuSpeed.ts [--rounds 3] [--threads 1,2] [--train-steps 4] [--infer-batches 3] [--python PATH]
 *                             [--only train|infer]
   npx tsx bench/cpuSpeed.ts --child train|infer --threads N [--steps 3] [--profile]   (one Lesion Lab measurement;
                             --profile prints one step's kernel calls and times by kernel)
 * PyTorch: Debian's python3-torch + python3-torchvision (/usr/bin/python3), or any python3 with torch; without
 * one the bench says so and prints Lesion Lab's figures alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/backend/engines/load';
import { physicalCores } from '../src/backend/engines/wasmThreads';
import { createOptimizer } from '../src/backend/engines/webgpu/fusedOptimizers';
import { buildBackbone, buildClassifier } from '../src/backend/models/backbone';
import { foldBatchNorm } from '../src/backend/models/foldedInference';
import { profileStep, topKernels } from './kernelProfile';

type Workload = 'train' | 'infer';

const WORKLOADS: Record<Workload, { label: string; model: string; size: number; batch: number; target: number; py: string[] }> = {
  train: {
    label: 'train MobileNetV2 α0.35 @96, batch 32 (RMSprop step)',
    model: 'mobilenetv2',
    size: 96,
    batch: 32,
    target: 0.25,
    py: ['--models', 'mobilenetv2', '--width', '0.35', '--size', '96', '--batch', '32', '--mode', 'train'],
  },
  infer: {
    label: 'infer ResNet50 @224, batch 8 (frozen-backbone forward)',
    model: 'resnet50',
    size: 224,
    batch: 8,
    target: 0.5,
    py: ['--models', 'resnet50', '--size', '224', '--batch', '8', '--mode', 'infer'],
  },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

interface Measurement {
  imgPerSec: number;
  device?: string;
  /** 1-minute load average when the measurement started. */
  load: number;
}

// ───────────────────────── child: one Lesion Lab measurement ─────────────────────────

async function childMain(workload: Workload, threads: number, steps: number): Promise<void> {
  const w = WORKLOADS[workload];
  const loaded = await initEngine('wasm', { threads });
  tf.randomUniform([1]).dispose(); // the engine is up before the clock starts
  const x = tf.randomNormal([w.batch, w.size, w.size, 3], 0, 1, 'float32', 7);
  let step: () => Promise<void>;
  let model: tfl.LayersModel;
  if (workload === 'train') {
    model = buildClassifier(buildBackbone('mobilenetv2', { inputSize: w.size, alpha: 0.35 }), 7);
    model.compile({ optimizer: createOptimizer('rmsprop', 1e-3, 'wasm'), loss: 'categoricalCrossentropy' });
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: w.batch }, (_, i) => i % 7), 'int32'), 7);
    step = async () => {
      await model.trainOnBatch(x, y);
    };
  } else {
    // The forward pass the feature cache, evaluate and predict run: batch norm folded into the convolutions.
    model = buildBackbone('resnet50', { inputSize: w.size });
    const forward = foldBatchNorm(model);
    step = async () => {
      const out = forward.run(x);
      await out.data();
      out.dispose();
    };
  }
  await step(); // warm-up: kernel setup, optimizer slots
  if (process.argv.includes('--profile')) {
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    const p = await profileStep(step, 'cpu');
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    process.stderr.write(
      `${workload}, ${loaded.device}: step ${ms.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU (all threads); ` +
        `${p.dispatches} kernel calls taking ${p.kernelMs.toFixed(0)} ms CPU:\n  ${topKernels(p, 14).split(', ').join('\n  ')}\n`,
    );
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerImage = (cpu.user + cpu.system) / 1000 / (w.batch * steps);
  process.stdout.write(`${JSON.stringify({ imgPerSec: (w.batch * steps) / seconds, cpuMsPerImage, device: loaded.device })}\n`);
}

// ───────────────────────── parent: alternate the sides, print ratios ─────────────────────────

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function lastJson(stdout: string): { imgPerSec: number; device?: string } {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`no result line in:\n${stdout.slice(-2000)}`);
  return JSON.parse(line) as { imgPerSec: number; device?: string };
}

/** A python3 that imports torch and torchvision: --python, then python3 on PATH, then Debian's. */
function findPython(): { python?: string; why: string } {
  const candidates = [arg('python', ''), 'python3', '/usr/bin/python3'].filter((p) => p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, why: `PyTorch ${r.stdout.trim()} (${python})` };
  }
  return { why: `no python3 with torch and torchvision (tried ${candidates.join(', ')}; Debian: apt-get install python3-torch python3-torchvision)` };
}

async function measureLesionLab(workload: Workload, threads: number, steps: number): Promise<Measurement> {
  const load = os.loadavg()[0]!;
  const r = await run(process.execPath, ['--require', require.resolve('tsx/cjs'), __filename, '--child', workload, '--threads', String(threads), '--steps', String(steps)]);
  if (r.code !== 0) throw new Error(`Lesion Lab ${workload} at ${threads} threads failed:\n${r.stderr.slice(-3000)}`);
  return { ...lastJson(r.stdout), load };
}

async function measurePyTorch(python: string, workload: Workload, threads: number, steps: number): Promise<Measurement> {
  const load = os.loadavg()[0]!;
  const script = path.join(__dirname, 'pytorchStep.py');
  const r = await run(python, [script, '--device', 'cpu', '--threads', String(threads), '--steps', String(steps), '--warmup', '1', ...WORKLOADS[workload].py]);
  if (r.code !== 0) throw new Error(`PyTorch ${workload} at ${threads} threads failed:\n${r.stderr.slice(-3000)}`);
  return { ...lastJson(r.stdout), load };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const cores = physicalCores();
  const threadCounts = [...new Set(arg('threads', `1,${cores}`).split(',').map(Number))];
  const rounds = Number(arg('rounds', '3'));
  const steps: Record<Workload, number> = { train: Number(arg('train-steps', '4')), infer: Number(arg('infer-batches', '3')) };
  const workloads = (arg('only', '') ? [arg('only', '')] : ['train', 'infer']) as Workload[];
  const py = findPython();
  console.log(`CPU speed: Lesion Lab (wasm) beside ${py.python ? py.why : 'no PyTorch'}; ${os.cpus()[0]?.model ?? 'CPU'}, ${cores} physical cores; threads ${threadCounts.join(', ')}; ${rounds} rounds, sides alternating`);
  if (!py.python) console.log(`  PyTorch reference skipped: ${py.why}`);
  type Key = `${Workload}/${number}`;
  const ll = new Map<Key, Measurement[]>();
  const pt = new Map<Key, Measurement[]>();
  const push = (m: Map<Key, Measurement[]>, k: Key, v: Measurement) => m.set(k, [...(m.get(k) ?? []), v]);
  for (let round = 1; round <= rounds; round++) {
    for (const workload of workloads) {
      for (const threads of threadCounts) {
        const key: Key = `${workload}/${threads}`;
        const sides = [
          async () => push(ll, key, await measureLesionLab(workload, threads, steps[workload])),
          ...(py.python ? [async () => push(pt, key, await measurePyTorch(py.python!, workload, threads, steps[workload]))] : []),
        ];
        if (round % 2 === 0) sides.reverse();
        for (const side of sides) await side();
        const a = ll.get(key)!.at(-1)!;
        const b = pt.get(key)?.at(-1);
        console.log(
          `  round ${round} ${workload} ${threads} thread${threads === 1 ? '' : 's'}: Lesion Lab ${a.imgPerSec.toFixed(1)} img/s (load ${a.load.toFixed(1)})` +
            (b ? `, PyTorch ${b.imgPerSec.toFixed(1)} img/s (load ${b.load.toFixed(1)}), ratio ${(a.imgPerSec / b.imgPerSec).toFixed(2)}` : ''),
        );
      }
    }
  }
  console.log(`\n| work | threads | Lesion Lab img/s | PyTorch img/s | ratio | target | load (1 min) |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
  for (const workload of workloads) {
    for (const threads of threadCounts) {
      const key: Key = `${workload}/${threads}`;
      const a = median(ll.get(key)!.map((m) => m.imgPerSec));
      const b = pt.get(key) ? median(pt.get(key)!.map((m) => m.imgPerSec)) : undefined;
      const loads = [...ll.get(key)!, ...(pt.get(key) ?? [])].map((m) => m.load);
      const ratio = b ? a / b : undefined;
      console.log(
        `| ${WORKLOADS[workload].label} | ${threads} | ${a.toFixed(1)} | ${b?.toFixed(1) ?? '—'} | ${ratio?.toFixed(2) ?? '—'} | ≥ ${WORKLOADS[workload].target} ${ratio === undefined ? '' : ratio >= WORKLOADS[workload].target ? '(met)' : '(missed)'} | ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
      );
    }
    if (threadCounts.length > 1) {
      const lo = threadCounts[0]!;
      const hi = threadCounts.at(-1)!;
      const scale = (m: Map<Key, Measurement[]>) => (m.get(`${workload}/${hi}`) ? median(m.get(`${workload}/${hi}`)!.map((x) => x.imgPerSec)) / median(m.get(`${workload}/${lo}`)!.map((x) => x.imgPerSec)) : undefined);
      const s1 = scale(ll);
      const s2 = scale(pt);
      console.log(`  ${workload}: ${lo} → ${hi} threads scales Lesion Lab ${s1!.toFixed(2)}×${s2 ? `, PyTorch ${s2.toFixed(2)}×` : ''}`);
    }
  }
  console.log(`device: ${ll.get(`${workloads[0]!}/${threadCounts.at(-1)!}`)?.[0]?.device ?? ''}; load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

if (process.argv.includes('--child')) {
  childMain(arg('child', 'train') as Workload, Number(arg('threads', '1')), Number(arg('steps', '3'))).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
