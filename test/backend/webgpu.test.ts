import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { assertBuilt, runCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';
import type { SoftwareVulkan } from '../helpers/vulkan';
import { relativeL2, requireSoftwareVulkan, runTsChild } from '../helpers/vulkan';
import type { EngineTrace } from './webgpuParity.child';

// The webgpu engine on Mesa's software Vulkan driver (lavapipe), which test/e2e/setup.sh extracts: the same
// code path as on a real GPU (TF.js webgpu backend → Dawn → Vulkan), only slower.
const LOSS_TOLERANCE = 1e-4;
const WEIGHT_TOLERANCE = 1e-4;
// Mixed precision rounds convolution operands to float16 (11 significant bits): measured 2e-4 per loss and 3.5e-3
// per weight tensor after 5 steps.
const MIXED_LOSS_TOLERANCE = 2e-3;
const MIXED_WEIGHT_TOLERANCE = 2e-2;



describe('backend process: the webgpu engine on software Vulkan (lavapipe)', function () {
  // On a fresh machine lavapipe compiles every shader with LLVM once (its shader cache starts empty): the
  // mixed-precision train/evaluate/predict test took 227 s cold against 23 s warm (2 cores at load 14), and ran
  // past 300 s at load 20 in a fresh clone's first npm test.
  this.timeout(900_000);
  let vulkan: SoftwareVulkan;
  let dir: string;
  // One child process trains the seeded model on cpu, webgpu and webgpu-mixed; each test that needs its traces
  // asks for them, so either test runs (and fails) on its own, whatever happened to the other.
  let parityRun: Promise<{ steps: number; cpu: EngineTrace; webgpu: EngineTrace; mixed: EngineTrace }> | undefined;
  const parityTraces = (): NonNullable<typeof parityRun> =>
    (parityRun ??= runTsChild(path.join(__dirname, 'webgpuParity.child.ts'), vulkan.env).then((r) => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { steps: number; cpu: EngineTrace; webgpu: EngineTrace; mixed: EngineTrace };
    }));

  before(async function () {
    vulkan = requireSoftwareVulkan();
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-webgpu-'));
  });
  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('engines: webgpu is available on the llvmpipe adapter, and auto does not pick a software adapter', async () => {
    const r = await runCli(['engines', '--json'], { env: vulkan.env });
    assert.equal(r.code, 0, r.stderr);
    const detected = r.events.find((e): e is Extract<BackendEvent, { type: 'engines/didDetect' }> => e.type === 'engines/didDetect');
    assert.ok(detected, 'an engines/didDetect event');
    const webgpu = detected.engines.find((e) => e.name === 'webgpu');
    assert.ok(webgpu?.available, `webgpu unavailable: ${webgpu?.reason}`);
    assert.match(webgpu.device ?? '', /llvmpipe/);
    assert.match(webgpu.reason, /software fallback adapter over Vulkan/);
    assert.notEqual(detected.selected.engine, 'webgpu');
    assert.match(detected.selected.reason, /webgpu: only a software adapter \(llvmpipe/);
  });

  it('trains the same seeded model to the same losses and weights on cpu and on webgpu', async () => {
    const { steps, cpu, webgpu } = await parityTraces();
    assert.match(webgpu.device ?? '', /llvmpipe/);
    // TF.js webgpu hands tiny tensors to its CPU kernels; the convolutions and reductions must run as shaders.
    assert.ok(webgpu.gpuPrograms >= 10, `only ${webgpu.gpuPrograms} shaders compiled on webgpu`);
    assert.deepEqual(webgpu.weightNames, cpu.weightNames);
    // Both models start from the very same numbers (seeded initialisers), so any difference comes from the engines.
    assert.deepEqual(webgpu.initialWeights, cpu.initialWeights);
    assert.ok(steps >= 3);
    assert.equal(cpu.losses.length, steps);
    assert.equal(webgpu.losses.length, steps);
    const lossErrors = cpu.losses.map((l, i) => Math.abs(webgpu.losses[i]! - l) / Math.abs(l));
    console.log(`      losses cpu    ${cpu.losses.join(' ')}\n      losses webgpu ${webgpu.losses.join(' ')}\n      worst relative loss difference ${Math.max(...lossErrors).toExponential(2)}`);
    assert.ok(Math.max(...lossErrors) < LOSS_TOLERANCE, `per-step relative loss differences ${lossErrors.join(', ')}`);
    // Training must actually move the weights, or comparing the final ones would prove nothing.
    let worst = 0;
    cpu.weightNames.forEach((name, i) => {
      const moved = relativeL2(cpu.finalWeights[i]!, cpu.initialWeights[i]!);
      assert.ok(moved > 1e-3, `${name} moved only ${moved} on cpu`);
      const err = relativeL2(webgpu.finalWeights[i]!, cpu.finalWeights[i]!);
      worst = Math.max(worst, err);
      assert.ok(err < WEIGHT_TOLERANCE, `${name}: relative L2 between webgpu and cpu ${err}`);
    });
    console.log(`      worst per-tensor relative L2 of the final weights: ${worst.toExponential(2)}; cpu ${cpu.seconds} s, webgpu ${webgpu.seconds} s (${webgpu.gpuPrograms} shaders)`);
  });

  it('mixed precision trains the same seeded model within float16 rounding of float32', async () => {
    const { cpu, mixed } = await parityTraces();
    assert.deepEqual(mixed.initialWeights, cpu.initialWeights);
    const lossErrors = cpu.losses.map((l, i) => Math.abs(mixed.losses[i]! - l) / Math.abs(l));
    console.log(`      losses mixed  ${mixed.losses.join(' ')}\n      worst relative loss difference ${Math.max(...lossErrors).toExponential(2)}`);
    assert.ok(Math.max(...lossErrors) < MIXED_LOSS_TOLERANCE, `per-step relative loss differences ${lossErrors.join(', ')}`);
    const weightErrors = cpu.finalWeights.map((w, i) => relativeL2(mixed.finalWeights[i]!, w));
    assert.ok(Math.max(...weightErrors) < MIXED_WEIGHT_TOLERANCE, `final weights: relative L2 up to ${Math.max(...weightErrors)}`);
    // float16 rounding must show, or the float32 kernels ran.
    assert.ok(Math.max(...weightErrors) > 1e-5, `final weights match float32 to ${Math.max(...weightErrors)}: the float16 kernels did not run`);
  });

  it('train (head from the feature cache, then fine-tune), evaluate and predict with Grad-CAM on webgpu --precision mixed: demo images, the adapter and precision recorded', async () => {
    const { prepared } = await preparedDemoDataset(dir, 6);
    const run = path.join(dir, 'run');
    const args = ['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--phase', 'both', '--epochs', '1', '--finetune-epochs', '1', '--engine', 'webgpu', '--precision', 'mixed', '--json'];
    const t = await runCli(args, { env: vulkan.env });
    assert.equal(t.code, 0, t.stderr);
    const start = t.events.find((e) => e.type === 'train/didStart');
    assert.ok(start && start.type === 'train/didStart' && start.engine.engine === 'webgpu');
    const metrics = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; loss: number });
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2]);
    assert.ok(metrics.every((m) => Number.isFinite(m.loss)), `losses ${metrics.map((m) => m.loss).join(', ')}`);
    assert.ok(t.events.some((e) => e.type === 'log' && /^mixed precision: convolutions in float16/.test(e.message)), 'the run says it trains in mixed precision');
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as { engine: { engine: string; backend: string; device?: string; precision: string; patches: string[] } };
    assert.equal(config.engine.precision, 'mixed');
    assert.ok(config.engine.patches.includes('float16 (mixed precision) kernels: Conv2D, FusedConv2D, Conv2DBackpropFilter, Conv2DBackpropInput'), config.engine.patches.join('; '));
    assert.equal(config.engine.engine, 'webgpu');
    assert.equal(config.engine.backend, 'webgpu');
    assert.match(config.engine.device ?? '', /llvmpipe/);

    // Reading results back must not use synchronous GPU reads (webgpu in Node has none).
    const ev = await runCli(['evaluate', '--run', run, '--engine', 'webgpu', '--json'], { env: vulkan.env });
    assert.equal(ev.code, 0, ev.stderr);
    const evaluation = JSON.parse(await fs.readFile(path.join(run, 'evaluation.json'), 'utf8')) as { confusion: number[][] };
    assert.equal(evaluation.confusion.flat().reduce((a, b) => a + b, 0), (await fs.readdir(path.join(prepared, 'val'), { recursive: true })).filter((f) => String(f).endsWith('.jpg')).length);
    const image = path.join(prepared, 'val', 'mel', (await fs.readdir(path.join(prepared, 'val', 'mel')))[0]!);
    const pr = await runCli(['predict', '--run', run, '--tta', '--gradcam', path.join(dir, 'cam'), '--engine', 'webgpu', '--json', image], { env: vulkan.env });
    assert.equal(pr.code, 0, pr.stderr);
    const done = pr.events.find((e) => e.type === 'predict/didFinish');
    assert.ok(done && done.type === 'predict/didFinish');
    const probs = Object.values(done.predictions[0]!.probabilities);
    assert.equal(probs.length, 7);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    // At 32 px the last feature map is 1×1: Grad-CAM says so instead of painting the whole image.
    assert.match(done.predictions[0]!.gradcamNote ?? '', /1×1 at this input size/);
    assert.deepEqual((await fs.readdir(path.join(dir, 'cam'))).filter((f) => f.endsWith('.png')), []);
  });

  it('the feature cache keeps float16 (mixed) and float32 features apart: a float32 run after the mixed one computes its own', async () => {
    const prepared = path.join(dir, 'prepared');
    const cacheLog = (events: BackendEvent[]) => events.find((e): e is Extract<BackendEvent, { type: 'log' }> => e.type === 'log' && /^feature cache: /.test(e.message))?.message;
    const head = (name: string, precision: string) =>
      runCli(['train', '--prepared', prepared, '--run', path.join(dir, name), '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--phase', 'head', '--epochs', '1', '--engine', 'webgpu', '--precision', precision, '--json'], { env: vulkan.env });
    const float32 = await head('run-f32', 'float32');
    assert.equal(float32.code, 0, float32.stderr);
    assert.match(cacheLog(float32.events) ?? '', /^feature cache: computed/, 'the mixed run’s float16 features were not reused');
    const entries = await Promise.all(
      (await fs.readdir(path.join(prepared, '.cache', 'features'))).filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await fs.readFile(path.join(prepared, '.cache', 'features', f), 'utf8')) as { engine: string; precision: string }),
    );
    assert.deepEqual(entries.map((e) => `${e.engine} ${e.precision}`).sort(), ['webgpu float32', 'webgpu float32', 'webgpu mixed', 'webgpu mixed'], 'train and val features, once per precision');
    const again = await head('run-mixed-again', 'mixed');
    assert.equal(again.code, 0, again.stderr);
    assert.match(cacheLog(again.events) ?? '', /^feature cache: reused/, 'the same precision still reuses its own');
  });

  it('at WebGPU\'s default limits (128 MiB per storage binding) train and evaluate on webgpu run cleanly, the limits recorded', async () => {
    const { prepared } = await preparedDemoDataset(dir, 6);
    const run = path.join(dir, 'run-default-limits');
    const env = { ...vulkan.env, LESION_LAB_WEBGPU_LIMITS: 'default' };
    const t = await runCli(['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '64', '--batch', '16', '--phase', 'both', '--epochs', '1', '--finetune-epochs', '1', '--engine', 'webgpu', '--json'], { env });
    assert.equal(t.code, 0, t.stderr);
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as { engine: { device?: string } };
    assert.match(config.engine.device ?? '', /llvmpipe.*WebGPU default limits/);
    const metrics = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { loss: number });
    assert.ok(metrics.length === 2 && metrics.every((m) => Number.isFinite(m.loss)), `losses ${metrics.map((m) => m.loss).join(', ')}`);
    const ev = await runCli(['evaluate', '--run', run, '--engine', 'webgpu', '--json'], { env });
    assert.equal(ev.code, 0, ev.stderr);
  });

  it('--precision mixed on an engine without float16 warns and trains in float32', async () => {
    const prepared = path.join(dir, 'prepared');
    const run = path.join(dir, 'run-wasm');
    const args = ['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--phase', 'finetune', '--epochs', '1', '--engine', 'wasm', '--precision', 'mixed', '--json'];
    const t = await runCli(args);
    assert.equal(t.code, 0, t.stderr);
    const warning = t.events.find((e) => e.type === 'log' && e.level === 'warn' && /mixed precision/.test(e.message));
    assert.ok(warning && warning.type === 'log');
    assert.match(warning.message, /needs the webgpu engine \(this run uses wasm\); training in float32/);
    const config = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as { engine: { precision: string } };
    assert.equal(config.engine.precision, 'float32');
  });

  it('a GPU failure mid-run (a rejected operation in epoch 2) stops with a message naming webgpu and a smaller batch; epoch 1\'s checkpoint resumes', async () => {
    const prepared = path.join(dir, 'prepared');
    const run = path.join(dir, 'run-fault');
    const args = ['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--weights', 'none', '--size', '32', '--batch', '8', '--phase', 'finetune', '--epochs', '3', '--engine', 'webgpu', '--json'];
    // runCli parses every stdout line as JSON: Dawn's own error printing would fail it.
    const t = await runCli(args, { env: { ...vulkan.env, LESION_LAB_GPU_FAULT_AT_EPOCH: '2' } });
    assert.equal(t.code, 1, t.stderr);
    const error = t.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error');
    assert.match(error.message, /^The webgpu engine failed: the GPU rejected an operation: .*Try a smaller --batch \(now 8\) or another --engine; the last checkpoint is kept and --resume continues from it\.$/);
    const epochs = () => fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8').then((t) => t.trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch));
    assert.deepEqual(await epochs(), [1], 'the failed epoch left no metrics');
    const r = await runCli(['train', '--prepared', prepared, '--run', run, '--engine', 'webgpu', '--resume', '--json'], { env: vulkan.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.events.some((e) => e.type === 'log' && /resuming after epoch 1 /.test(e.message)), 'resumed from epoch 1');
    assert.deepEqual(await epochs(), [1, 2, 3]);
  });
});
