import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { Evaluation, Prediction } from '../../src/shared/protocol/results';
import type { ExportMetadata } from '../../src/backend/export/exportMetadata';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { assertBuilt, runCli } from '../helpers/cli';
import { PYTHON, onnxCheck, runPython } from '../helpers/debianPython';
import { predictWithPlainTfjs } from '../helpers/plainTfjs';
import { requireSoftwareVulkan } from '../helpers/vulkan';

// Tiny but real: demo JPEGs → prepare → one fine-tuning epoch (so batch-norm statistics move off their
// initial values) of ResNet50 and MobileNetV2 at 32 px on wasm → evaluate → export.
const SIZE = 32;
const MODELS = [
  { name: 'ResNet50', args: ['--model', 'resnet50'] },
  { name: 'MobileNetV2', args: ['--model', 'mobilenetv2', '--alpha', '0.35', '--finetune-lr', '0.01'] },
] as const;

type Finish<T extends BackendEvent['type']> = Extract<BackendEvent, { type: T }>;
const finished = <T extends BackendEvent['type']>(events: BackendEvent[], type: T): Finish<T> => {
  const e = events.find((x): x is Finish<T> => x.type === type);
  assert.ok(e, `no ${type} event`);
  return e;
};

/** What a user of the export does: resize like Lesion Lab, then apply the preprocessing its metadata states. */
async function preprocessFromMetadata(files: readonly string[], m: ExportMetadata): Promise<Float32Array> {
  const size = m.input.size;
  const out = new Float32Array(files.length * size * size * 3);
  for (const [n, file] of files.entries()) {
    const rgb = await sharp(file).resize(size, size, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
    const p = m.preprocessing;
    for (let i = 0; i < rgb.length; i += 3) {
      const o = n * rgb.length + i;
      if (p.mode === 'caffe') {
        out[o] = rgb[i + 2]! - p.mean[0];
        out[o + 1] = rgb[i + 1]! - p.mean[1];
        out[o + 2] = rgb[i]! - p.mean[2];
      } else {
        for (let c = 0; c < 3; c++) out[o + c] = rgb[i + c]! * p.scale + p.offset;
      }
    }
  }
  return out;
}

/** Probabilities as rows in the export's class order. */
const rows = (predictions: Prediction[], classes: readonly string[]): number[][] => predictions.map((p) => classes.map((c) => p.probabilities[c]!));
const maxAbs = (a: number[][], b: ArrayLike<number>): number => {
  const flat = a.flat();
  assert.equal(flat.length, b.length);
  return Math.max(...flat.map((v, i) => Math.abs(v - b[i]!)));
};

describe('backend process: export (ONNX, TF.js, Keras) and predict --model', function () {
  this.timeout(600_000);
  let dir: string;
  let images: string[];
  const runs = new Map<string, string>();
  /** predict --run on `images`, per model: the reference every export is held to. */
  const reference = new Map<string, Prediction[]>();

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-export-'));
    const demo = path.join(dir, 'demo');
    const prepared = path.join(dir, 'prepared');
    assert.equal((await runCli(['demo-data', '--out', demo, '--per-class', '8', '--size', '64', '--json'])).code, 0);
    assert.equal((await runCli(['prepare', '--data', demo, '--out', prepared, '--json'])).code, 0);
    const manifest = JSON.parse(await fs.readFile(path.join(prepared, 'manifest.json'), 'utf8')) as { images: { file: string; split: string; dx: string }[] };
    // One validation JPEG from each of four classes.
    const val = manifest.images.filter((i) => i.split === 'val');
    images = [...new Map(val.map((i) => [i.dx, i])).values()].slice(0, 4).map((i) => path.join(prepared, i.file));
    assert.equal(images.length, 4);
    for (const m of MODELS) {
      const run = path.join(dir, `run-${m.name}`);
      const t = await runCli(['train', '--prepared', prepared, '--run', run, ...m.args, '--weights', 'none', '--size', String(SIZE), '--batch', '8', '--phase', 'finetune', '--epochs', '1', '--engine', 'wasm', '--json']);
      assert.equal(t.code, 0, t.stderr);
      const e = await runCli(['evaluate', '--run', run, '--engine', 'wasm', '--json']);
      assert.equal(e.code, 0, e.stderr);
      const p = await runCli(['predict', '--run', run, ...images, '--engine', 'wasm', '--json']);
      assert.equal(p.code, 0, p.stderr);
      runs.set(m.name, run);
      const predictions = finished(p.events, 'predict/didFinish').predictions;
      // Far from uniform, so that agreeing within 1e-4 says something about the exported network.
      const spread = Math.max(...predictions.map((x) => Math.max(...Object.values(x.probabilities)) - Math.min(...Object.values(x.probabilities))));
      assert.ok(spread > 0.05, `${m.name}: probabilities spread only ${spread}`);
      reference.set(m.name, predictions);
    }
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const exportRun = async (model: string, format: string, extra: string[] = []) => {
    const out = path.join(dir, `${model}-${format}`);
    const r = await runCli(['export', '--run', runs.get(model)!, '--format', format, '--out', out, '--engine', 'wasm', ...extra, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const done = finished(r.events, 'export/didFinish');
    assert.equal(done.out, out);
    assert.ok(r.events.some((e) => e.type === 'progress' && e.task === `export ${format}` && e.done === e.total), 'progress reaches the end');
    return { out, done, events: r.events };
  };

  const predictModel = (target: string): Promise<Prediction[]> => predictModelOn(target, images);
  const predictModelOn = async (target: string, files: readonly string[]): Promise<Prediction[]> => {
    const r = await runCli(['predict', '--model', target, ...files, '--engine', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return finished(r.events, 'predict/didFinish').predictions;
  };

  for (const m of MODELS) {
    describe(m.name, () => {
      it('ONNX: passes onnx.checker, and onnxruntime-node gives predict’s probabilities within 1e-4; predict --model runs it too', async () => {
        const { out, done } = await exportRun(m.name, 'onnx');
        assert.deepEqual(done.files.sort(), ['labels.json', 'model-card.md', 'model.onnx']);
        const file = path.join(out, 'model.onnx');
        assert.ok((await onnxCheck(file)).opset >= 13);

        const labels = JSON.parse(await fs.readFile(path.join(out, 'labels.json'), 'utf8')) as ExportMetadata;
        const config = JSON.parse(await fs.readFile(path.join(runs.get(m.name)!, 'config.json'), 'utf8'));
        assert.deepEqual(labels.classes, config.classes);
        assert.deepEqual(labels.input.shape, ['batch', SIZE, SIZE, 3]);
        assert.equal(labels.input.layout, 'NHWC');
        assert.deepEqual(labels.preprocessing, m.name === 'ResNet50'
          ? { mode: 'caffe', channelOrder: 'BGR', mean: [103.939, 116.779, 123.68], formula: labels.preprocessing.formula }
          : { mode: 'tf', channelOrder: 'RGB', scale: 1 / 127.5, offset: -1, formula: labels.preprocessing.formula });
        assert.equal(labels.validation?.from, 'evaluation');
        assert.match(labels.modelCard ?? '', /not a medical device/);

        // The same metadata inside the ONNX file, as metadata_props (read with the official onnx package).
        const props = JSON.parse(await runPython('import json, sys, onnx\nm = onnx.load(sys.argv[1])\nprint(json.dumps({p.key: p.value for p in m.metadata_props}))', [file]));
        assert.deepEqual(JSON.parse(props.classes), config.classes);
        assert.equal(props.preprocessing, labels.preprocessing.mode);
        assert.match(props.model_card, /Balanced accuracy/);
        assert.equal(JSON.parse(props.lesion_lab_metadata).lesionLabVersion, labels.lesionLabVersion);

        const x = await preprocessFromMetadata(images, labels);
        const session = await ort.InferenceSession.create(file);
        assert.deepEqual(session.inputNames, ['input']);
        const result = await session.run({ input: new ort.Tensor('float32', x, [images.length, SIZE, SIZE, 3]) });
        const ref = rows(reference.get(m.name)!, labels.classes);
        const diff = maxAbs(ref, result['probabilities']!.data as Float32Array);
        assert.ok(diff <= 1e-4, `onnxruntime vs lesion-lab predict: max |Δp| ${diff}`);

        const viaLesionLab = await predictModel(file);
        assert.ok(maxAbs(ref, rows(viaLesionLab, labels.classes).flat()) <= 1e-4, 'predict --model x.onnx');
      });

      it('TF.js: plain @tensorflow/tfjs in a fresh process loads it and matches predict within 1e-5; predict --model runs the folder', async () => {
        const { out } = await exportRun(m.name, 'tfjs');
        const metadata = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8')) as ExportMetadata;
        const x = await preprocessFromMetadata(images, metadata);
        const plain = await predictWithPlainTfjs(out, x, [images.length, SIZE, SIZE, 3]);
        assert.ok(plain.classes.includes('BatchNormalization'), 'the stock batch norm was used');
        const ref = rows(reference.get(m.name)!, metadata.classes);
        const diff = maxAbs(ref, plain.probabilities);
        assert.ok(diff <= 1e-5, `plain TF.js vs lesion-lab predict: max |Δp| ${diff}`);
        assert.ok(maxAbs(ref, rows(await predictModel(out), metadata.classes).flat()) <= 1e-5, 'predict --model <tfjs folder>');
      });

      it('Keras: h5py opens model.h5 and its model_config names every layer; the weights-only file read back predicts identically', async () => {
        const { out } = await exportRun(m.name, 'keras');
        const topology = JSON.parse(await fs.readFile(path.join(runs.get(m.name)!, 'checkpoints', 'best', 'model.json'), 'utf8')).modelTopology;
        const layerNames: string[] = (topology.model_config ?? topology).config.layers.map((l: { name: string }) => l.name);
        const seen = JSON.parse(
          await runPython(
            'import json, sys, h5py\nf = h5py.File(sys.argv[1], "r")\ncfg = json.loads(f.attrs["model_config"])\nprint(json.dumps({"class": cfg["class_name"], "layers": [l["name"] for l in cfg["config"]["layers"]], "weights": [n.decode() for n in f["model_weights"].attrs["layer_names"]]}))',
            [path.join(out, 'model.h5')],
          ),
        );
        assert.equal(seen.class, 'Functional');
        assert.deepEqual(seen.layers, layerNames);
        assert.deepEqual(seen.weights, layerNames);
        const predictions = await predictModel(out);
        assert.deepEqual(predictions.map((p) => p.probabilities), reference.get(m.name)!.map((p) => p.probabilities));
      });
    });
  }

  it('exports the last checkpoint on request, and refuses to replace a folder that is not an export', async () => {
    const { out } = await exportRun('MobileNetV2', 'tfjs', ['--checkpoint', 'last']);
    const metadata = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8')) as ExportMetadata;
    assert.equal(metadata.source.checkpoint, 'last');
    const precious = path.join(dir, 'precious');
    await fs.mkdir(precious);
    await fs.writeFile(path.join(precious, 'notes.txt'), 'mine');
    const r = await runCli(['export', '--run', runs.get('MobileNetV2')!, '--format', 'onnx', '--out', precious, '--json']);
    assert.equal(r.code, 1);
    assert.match(finished(r.events, 'error').message, /not a Lesion Lab export.*new or empty folder/);
    assert.equal(await fs.readFile(path.join(precious, 'notes.txt'), 'utf8'), 'mine');
  });

  it('the README examples run on an ONNX export: Node with onnxruntime-node, Python with Pillow and numpy', async () => {
    const { out } = await exportRun('MobileNetV2', 'onnx', ['--checkpoint', 'best']);
    const repo = path.resolve(__dirname, '../..');
    const parse = (stdout: string): Record<string, number> => Object.fromEntries(stdout.trim().split('\n').map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
    const expected = reference.get('MobileNetV2')![0]!.probabilities;
    const node = parse((await promisify(execFile)(process.execPath, [path.join(repo, 'docs/examples/predict-onnx.mjs'), out, images[0]!], { cwd: repo })).stdout);
    assert.deepEqual(Object.keys(node), Object.keys(expected));
    for (const [c, p] of Object.entries(expected)) assert.ok(Math.abs(node[c]! - p) <= 1e-4, `node example, ${c}: ${node[c]} vs ${p}`);
    // Python's onnxruntime cannot be installed here (see the README): the stand-in hands the tensor to onnxruntime-node.
    const env = { ...process.env, PYTHONPATH: path.join(repo, 'test/helpers/python-onnxruntime'), LESION_LAB_NODE: process.execPath };
    const python = parse((await promisify(execFile)(PYTHON, [path.join(repo, 'docs/examples/predict-onnx.py'), out, images[0]!], { cwd: repo, env })).stdout);
    assert.deepEqual(Object.keys(python), Object.keys(expected));
    // Pillow's Lanczos resize is not sharp's: close, not equal.
    for (const [c, p] of Object.entries(expected)) assert.ok(Math.abs(python[c]! - p) <= 0.02, `python example, ${c}: ${python[c]} vs ${p}`);
  });

  it('an ensemble as one ONNX model: onnx.checker passes, onnxruntime gives evaluate --ensemble’s probabilities within 1e-4; members that need different inputs are refused', async () => {
    // A second MobileNetV2 (another seed) beside the first: same size and preprocessing, different weights.
    const second = path.join(dir, 'run-MobileNetV2-seed2');
    const t = await runCli(['train', '--prepared', path.join(dir, 'prepared'), '--run', second, '--model', 'mobilenetv2', '--alpha', '0.35', '--finetune-lr', '0.01', '--seed', '2', '--weights', 'none', '--size', String(SIZE), '--batch', '8', '--phase', 'finetune', '--epochs', '1', '--engine', 'wasm', '--json']);
    assert.equal(t.code, 0, t.stderr);
    const members = [runs.get('MobileNetV2')!, second];
    const study = path.join(dir, 'ensemble');
    const ev = await runCli(['evaluate', '--ensemble', members.join(','), '--out', study, '--engine', 'wasm', '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    const report = JSON.parse(await fs.readFile(path.join(study, 'ensemble-evaluation.json'), 'utf8')) as Evaluation;

    const out = path.join(study, 'onnx');
    const r = await runCli(['export', '--ensemble', members.join(','), '--format', 'onnx', '--out', out, '--engine', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const done = finished(r.events, 'export/didFinish');
    assert.deepEqual(done.members?.map((m) => m.run), members);
    assert.deepEqual(done.files.sort(), ['labels.json', 'model.onnx']);
    assert.ok(done.verification.maxAbsDiff <= 1e-4 && done.verification.source === 'validation', JSON.stringify(done.verification));
    const file = path.join(out, 'model.onnx');
    assert.ok((await onnxCheck(file)).opset >= 13);
    const labels = JSON.parse(await fs.readFile(path.join(out, 'labels.json'), 'utf8')) as ExportMetadata;
    assert.deepEqual(labels.ensemble?.members.map((m) => m.run), members);
    assert.equal(labels.ensemble?.evaluation?.balancedAccuracy, report.balancedAccuracy, 'the ensemble’s own evaluation travels with it');
    // Both members' graphs are inside, on the one input, and a Mean makes the output.
    const ops = JSON.parse(await runPython('import json, sys, onnx\nm = onnx.load(sys.argv[1])\nprint(json.dumps([[n.op_type, list(n.input), list(n.output)] for n in m.graph.node]))', [file])) as [string, string[], string[]][];
    assert.deepEqual(ops.filter(([, inputs]) => inputs.includes('input')).map(([op]) => op), ['Transpose', 'Transpose']);
    assert.deepEqual(ops.at(-1), ['Mean', ['m0/probabilities', 'm1/probabilities'], ['probabilities']]);

    // onnxruntime on the images the ensemble evaluation saw: its probabilities, within 1e-4.
    const seen = report.images!.slice(0, 6);
    const x = await preprocessFromMetadata(seen.map((i) => i.file), labels);
    const session = await ort.InferenceSession.create(file);
    const result = await session.run({ input: new ort.Tensor('float32', x, [seen.length, SIZE, SIZE, 3]) });
    const want = seen.map((i) => i.probabilities);
    const diff = maxAbs(want, result['probabilities']!.data as Float32Array);
    assert.ok(diff <= 1e-4, `onnxruntime vs evaluate --ensemble: max |Δp| ${diff}`);
    // The members disagree somewhere, or the test would not tell an ensemble from one member.
    const alone = (await runCli(['predict', '--run', second, ...seen.map((i) => i.file), '--engine', 'wasm', '--json']));
    assert.ok(maxAbs(want, rows(finished(alone.events, 'predict/didFinish').predictions, labels.classes).flat()) > 1e-3, 'the second member alone differs from the ensemble');
    assert.ok(maxAbs(want, rows(await predictModelOn(file, seen.map((i) => i.file)), labels.classes).flat()) <= 1e-4, 'predict --model ensemble.onnx');

    // One input feeds every member: a ResNet50 (caffe preprocessing) beside a MobileNetV2 (tf) is refused, and so is another format.
    const mixed = await runCli(['export', '--ensemble', `${runs.get('ResNet50')!},${second}`, '--format', 'onnx', '--out', path.join(dir, 'mixed'), '--engine', 'wasm', '--json']);
    assert.equal(mixed.code, 1);
    assert.match(finished(mixed.events, 'error').message, /one input, and its members take different ones: .*caffe preprocessing.*tf preprocessing.*Export the members one by one/s);
    const tfjs = await runCli(['export', '--ensemble', members.join(','), '--format', 'tfjs', '--out', path.join(dir, 'tfjs-ensemble'), '--json']);
    assert.equal(tfjs.code, 1);
    assert.match(finished(tfjs.events, 'error').message, /one ONNX model \(--format onnx\)/);
    await assert.rejects(fs.access(path.join(dir, 'mixed')), 'nothing written for a refused ensemble');
  });

  it('predict --model runs an ONNX export on the webgpu engine (lavapipe) as on wasm', async () => {
    const vulkan = requireSoftwareVulkan();
    const { out } = await exportRun('MobileNetV2', 'onnx');
    const r = await runCli(['predict', '--model', path.join(out, 'model.onnx'), ...images, '--engine', 'webgpu', '--json'], { env: vulkan.env });
    assert.equal(r.code, 0, r.stderr);
    const onGpu = finished(r.events, 'predict/didFinish').predictions;
    const classes = Object.keys(reference.get('MobileNetV2')![0]!.probabilities);
    const diff = maxAbs(rows(reference.get('MobileNetV2')!, classes), rows(onGpu, classes).flat());
    assert.ok(diff <= 1e-4, `webgpu vs wasm: max |Δp| ${diff}`);
  });
});
