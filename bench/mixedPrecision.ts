/**
 * Accuracy parity of `--precision mixed` on demo data: the same seeded run (demo recipe: MobileNetV2-0.35 from
 * scratch, head then all layers) trained on the webgpu engine in float32 and in mixed precision, each evaluated;
 * prints per-epoch losses, balanced validation accuracy and training speed side by side. Runs the real CLI
 * (build first: npm run build).
 *
 *   source ~/.cache/lesion-lab/e2e/vulkan/env.sh   # only without a GPU
 *   npx tsx bench/mixedPrecision.ts [--per-class 50] [--size 64] [--epochs 3] [--finetune-epochs 6] [--batch 16] [--seeds 1,2,3] [--keep DIR]
 * Each seed gives a paired comparison (train --seed fixes the initial weights, dropout and batch order, so the runs
 * of a seed differ only in arithmetic). Training from scratch on 350 images is chaotic: a difference of 1e-7 grows
 * into a different model. So each seed also trains float32 on wasm, whose only difference from webgpu float32 is the
 * order of rounding — the noise floor that mixed precision's difference is measured against.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const CLI = process.env.LESION_LAB_CLI ?? path.join(__dirname, '..', 'dist', 'backend', 'cli.js');
const perClass = arg('per-class', '50');
const size = arg('size', '64');
const epochs = arg('epochs', '3');
const finetuneEpochs = arg('finetune-epochs', '6');
const batch = arg('batch', '16');
const keep = process.argv.includes('--keep') ? arg('keep', '') : '';
const seeds = arg('seeds', '1').split(',').map(Number);

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`lesion-lab ${args[0]} exited ${code}:\n${err.slice(-2000)}`))));
  });
}

/** The two precisions on webgpu, and float32 on wasm: the control, which differs from webgpu float32 only in rounding order (~1e-7). */
type Variant = 'float32' | 'mixed' | 'wasm-float32';

interface Outcome {
  precision: Variant;
  seed: number;
  seconds: number;
  losses: number[];
  valLosses: number[];
  balancedAccuracy: number;
  accuracy: number;
  patches: string[];
}

async function trainAndEvaluate(dir: string, variant: Variant, seed: number): Promise<Outcome> {
  const run = path.join(dir, `run-${variant}-seed${seed}`);
  const engine = variant === 'wasm-float32' ? 'wasm' : 'webgpu';
  const precision = variant === 'mixed' ? 'mixed' : 'float32';
  const t0 = performance.now();
  await cli(['train', '--prepared', path.join(dir, 'prepared'), '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', size, '--phase', 'both', '--epochs', epochs, '--finetune-epochs', finetuneEpochs, '--batch', batch, '--engine', engine, '--precision', precision, '--seed', String(seed)]);
  const seconds = (performance.now() - t0) / 1000;
  await cli(['evaluate', '--run', run]);
  const metrics = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { loss: number; valLoss: number });
  const evaluation = JSON.parse(await fs.readFile(path.join(run, 'evaluation.json'), 'utf8')) as { balancedAccuracy: number; accuracy: number };
  const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as { engine: { precision: string; patches: string[]; device?: string } };
  if (config.engine.precision !== precision) throw new Error(`asked for ${precision}, the run used ${config.engine.precision}`);
  return { precision: variant, seed, seconds, losses: metrics.map((m) => m.loss), valLosses: metrics.map((m) => m.valLoss), balancedAccuracy: evaluation.balancedAccuracy, accuracy: evaluation.accuracy, patches: config.engine.patches };
}

async function main(): Promise<void> {
  const dir = keep || (await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-mixed-')));
  try {
    await cli(['demo-data', '--out', path.join(dir, 'data'), '--per-class', perClass]);
    await cli(['prepare', '--data', path.join(dir, 'data'), '--out', path.join(dir, 'prepared')]);
    console.log(`demo data: ${perClass} images per class; MobileNetV2-0.35 from scratch at ${size} px, batch ${batch}, ${epochs} head + ${finetuneEpochs} fine-tune epochs, webgpu`);
    const results: Outcome[] = [];
    for (const seed of seeds) {
      for (const precision of ['float32', 'mixed', 'wasm-float32'] as const) {
        const r = await trainAndEvaluate(dir, precision, seed);
        results.push(r);
        console.log(`seed ${seed} ${r.precision.padEnd(8)} balanced val acc ${(100 * r.balancedAccuracy).toFixed(1)}%  val acc ${(100 * r.accuracy).toFixed(1)}%  train+val ${r.seconds.toFixed(0)} s`);
        console.log(`${''.padEnd(16)}loss     ${r.losses.map((l) => l.toFixed(3)).join(' ')}`);
        console.log(`${''.padEnd(16)}val_loss ${r.valLosses.map((l) => l.toFixed(3)).join(' ')}`);
      }
    }
    const stats = (p: string) => {
      const xs = results.filter((r) => r.precision === p).map((r) => 100 * r.balancedAccuracy);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
      const seconds = results.filter((r) => r.precision === p).reduce((a, r) => a + r.seconds, 0);
      return { mean, sd, min: Math.min(...xs), max: Math.max(...xs), seconds };
    };
    const f32 = stats('float32');
    const mixed = stats('mixed');
    const control = stats('wasm-float32');
    for (const [name, st] of [['float32', f32], ['mixed', mixed], ['wasm-float32', control]] as const) {
      console.log(`${name.padEnd(12)} balanced val acc over ${seeds.length} seed(s): mean ${st.mean.toFixed(1)}%, sd ${st.sd.toFixed(1)}, range ${st.min.toFixed(1)}–${st.max.toFixed(1)}%`);
    }
    // Per seed: how far mixed lands from float32, against how far float32 on another engine (rounding order only) lands.
    const gap = (v: Variant) =>
      seeds.map((seed) => {
        const a = results.find((r) => r.seed === seed && r.precision === 'float32')!;
        const b = results.find((r) => r.seed === seed && r.precision === v)!;
        return 100 * Math.abs(b.balancedAccuracy - a.balancedAccuracy);
      });
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`|mixed − float32| per seed: ${gap('mixed').map((g) => g.toFixed(1)).join(', ')} points (mean ${meanOf(gap('mixed')).toFixed(1)})`);
    console.log(`|wasm float32 − webgpu float32| per seed (rounding-order noise floor): ${gap('wasm-float32').map((g) => g.toFixed(1)).join(', ')} points (mean ${meanOf(gap('wasm-float32')).toFixed(1)})`);
    console.log(`mixed − float32: ${(mixed.mean - f32.mean).toFixed(1)} points on the mean; time ×${(mixed.seconds / f32.seconds).toFixed(2)} (webgpu)`);
    console.log(`mixed kernels: ${results.find((r) => r.precision === 'mixed')?.patches.find((p) => p.startsWith('float16')) ?? '(none!)'}`);
  } finally {
    if (!keep) await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
