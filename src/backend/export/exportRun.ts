/**
 * `lesion-lab export`: a run's checkpoint as ONNX, TF.js or Keras HDF5, with its metadata beside it,
 * checked before it is put in place: the written files are read back (ONNX run by Lesion Lab's ONNX
 * runner, TF.js reloaded, Keras weights loaded into a freshly built model) and must give the same
 * class probabilities as the checkpoint on a few validation images. The folder appears complete or
 * not at all.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ExportVerification } from '../../shared/protocol/backend';
import type { ExportCheckpoint, ExportFormat, ExportOptions } from '../../shared/protocol/jobs';
import type { EpochMetrics, Evaluation } from '../../shared/protocol/results';
import { assertNever } from '../../shared/assertNever';
import { createRng } from '../../shared/random';
import { UserError, throwIfCancelled } from '../errors';
import { replaceDirAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { readManifest } from '../dataset/manifest';
import { buildBackbone, buildClassifier } from '../models/backbone';
import { fileSystemIOHandler } from '../models/fileIo';
import { preprocessPixelsInto } from '../models/preprocess';
import { loadKerasH5Weights } from '../models/weights';
import { splitImages } from '../training/datasetImages';
import { decodeResizedRgb } from '../training/imagePipeline';
import type { TrainedModel } from '../evaluation/trainedModel';
import { loadTrainedModel } from '../evaluation/trainedModel';
import { BACKEND_VERSION } from '../version';
import type { ExportMetadata } from './exportMetadata';
import { EXPORT_FILES, buildExportMetadata, onnxMetadataProps } from './exportMetadata';
import { writeKerasModelH5, writeKerasWeightsH5 } from './kerasH5';
import { ONNX_INPUT, ONNX_OUTPUT, buildOnnxModel } from './onnxGraph';
import { encodeOnnxModel } from './onnxProto';
import { OnnxRunner } from './onnxRunner';
import { writeTfjsModel } from './tfjsExport';

export interface ExportResult {
  run: string;
  format: ExportFormat;
  out: string;
  files: string[];
  checkpoint: ExportCheckpoint;
  epoch: number;
  verification: ExportVerification;
  /** An ensemble's members (run folder and checkpoint epoch), in the order of the graph's m0/, m1/ … */
  members?: { run: string; epoch: number }[];
}

/** Folding batch norm into convolutions changes float32 rounding; everything else must match exactly. */
export const TOLERANCE: Record<ExportFormat, number> = { onnx: 1e-4, tfjs: 1e-6, keras: 1e-6 };
const VERIFY_IMAGES = 4;

export function defaultExportDir(runDir: string, format: ExportFormat): string {
  return path.join(runDir, 'exports', format);
}

export async function exportRun(options: ExportOptions, ctx: JobContext): Promise<ExportResult> {
  if (!options.run) throw new UserError('Give the run to export with --run DIR, or an ensemble with --ensemble RUN,RUN… (or a sweep folder).');
  const runDir = path.resolve(options.run);
  const checkpoint = options.checkpoint ?? 'best';
  const out = path.resolve(options.out ?? defaultExportDir(runDir, options.format));
  await assertExportTarget(out, runDir);
  const progress = new ProgressReporter(ctx.emit, `export ${options.format}`, 4, 'step');
  progress.update(0, true);
  const trained = await loadTrainedModel(runDir, options.engine, options.threads, (message) => ctx.emit({ type: 'log', level: 'debug', message }), checkpoint);
  try {
    throwIfCancelled(ctx.signal);
    const metadata = await metadataFor(trained, options.format, checkpoint);
    if (!metadata.validation) ctx.emit({ type: 'log', level: 'warn', message: `No validation figures for epoch ${trained.epoch} were found in ${runDir}; the export's metadata has none.` });
    if (!metadata.modelCard) ctx.emit({ type: 'log', level: 'info', message: `The export has no model card: run \`lesion-lab evaluate --run ${runDir}\` first to include one (with per-class figures).` });
    progress.update(1, true);
    const { x, source } = await verificationBatch(trained);
    const reference = tf.tidy(() => trained.model.predict(x) as tf.Tensor);
    let files: string[] = [];
    let maxAbsDiff = Infinity;
    try {
      const expected = (await reference.data()) as Float32Array;
      await replaceDirAtomic(out, async (temp) => {
        files = await writeExport(trained, options.format, metadata, temp);
        throwIfCancelled(ctx.signal);
        progress.update(2, true);
        const got = await predictWithExport(trained, options.format, temp, x);
        maxAbsDiff = maxAbsDifference(expected, got);
        progress.update(3, true);
        if (!(maxAbsDiff <= TOLERANCE[options.format])) {
          throw new Error(`the ${options.format} export gives probabilities up to ${maxAbsDiff.toExponential(2)} away from the checkpoint's (allowed ${TOLERANCE[options.format]}); nothing was written. This is a bug in Lesion Lab's exporter.`);
        }
      });
    } finally {
      tf.dispose([x, reference]);
    }
    progress.update(4, true);
    const verification: ExportVerification = { images: x.shape[0], source, maxAbsDiff, tolerance: TOLERANCE[options.format] };
    ctx.emit({
      type: 'log',
      level: 'info',
      message: `Verified: the exported ${options.format} model matches the ${checkpoint} checkpoint on ${verification.images} ${source === 'validation' ? 'validation images' : 'synthetic inputs'} (max |Δp| ${maxAbsDiff.toExponential(1)}).`,
    });
    return { run: runDir, format: options.format, out, files, checkpoint, epoch: trained.epoch, verification };
  } finally {
    trained.model.dispose();
  }
}

/** --out may be a new folder or an earlier export (replaced whole); never a folder holding anything else. */
export async function assertExportTarget(out: string, ...runDirs: string[]): Promise<void> {
  for (const runDir of runDirs) {
    if (out === runDir || runDir.startsWith(out + path.sep)) throw new UserError(`--out ${out} would replace the run folder ${runDir}. Give a folder of its own, e.g. ${defaultExportDir(runDir, 'onnx')}.`);
  }
  const entries = await fs.readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    if (err.code === 'ENOTDIR') throw new UserError(`--out ${out} is a file. Give a folder for the export.`);
    throw err;
  });
  if (entries.length === 0) return;
  if (entries.includes(EXPORT_FILES.labels) || entries.includes(EXPORT_FILES.tfjsMetadata)) return;
  throw new UserError(`--out ${out} already holds files that are not a Lesion Lab export; an export replaces its whole folder. Give a new or empty folder.`);
}

export async function metadataFor(trained: TrainedModel, format: ExportFormat, checkpoint: ExportCheckpoint): Promise<ExportMetadata> {
  const { run } = trained;
  const metrics: EpochMetrics[] = await run.readMetrics();
  const evaluation = await fs
    .readFile(run.evaluation, 'utf8')
    .then((t) => JSON.parse(t) as Evaluation & { checkpointEpoch?: number })
    .catch(() => undefined);
  const modelCard = await fs.readFile(run.modelCard, 'utf8').catch(() => undefined);
  return buildExportMetadata({
    format,
    config: trained.config,
    runDir: run.dir,
    checkpoint,
    epoch: trained.epoch,
    modelName: trained.model.name,
    parameters: trained.model.countParams(),
    metrics,
    evaluation,
    modelCard,
    version: BACKEND_VERSION,
    input: format === 'onnx' ? ONNX_INPUT : trained.model.inputs[0]!.name.replace(/:\d+$/, ''),
    output: format === 'onnx' ? ONNX_OUTPUT : trained.model.outputs[0]!.name.replace(/\/.*$/, ''),
  });
}

async function writeExport(trained: TrainedModel, format: ExportFormat, metadata: ExportMetadata, dir: string): Promise<string[]> {
  const json = JSON.stringify(metadata, null, 2) + '\n';
  const files: string[] = [];
  switch (format) {
    case 'onnx': {
      const onnx = await buildOnnxModel(trained.model, {
        producerVersion: BACKEND_VERSION,
        metadata: onnxMetadataProps(metadata),
        inputDoc: `NHWC float32 [batch, ${metadata.input.size}, ${metadata.input.size}, 3], preprocessed: ${metadata.preprocessing.formula}`,
        docString: `${metadata.model.architecture} skin-lesion classifier exported by Lesion Lab ${BACKEND_VERSION}. ${metadata.disclaimer}`,
      });
      await fs.writeFile(path.join(dir, EXPORT_FILES.onnx), encodeOnnxModel(onnx));
      await fs.writeFile(path.join(dir, EXPORT_FILES.labels), json);
      files.push(EXPORT_FILES.onnx, EXPORT_FILES.labels);
      break;
    }
    case 'tfjs': {
      const userDefined = { classes: metadata.classes, input: metadata.input, preprocessing: metadata.preprocessing, lesionLabVersion: metadata.lesionLabVersion };
      files.push(...(await writeTfjsModel(trained.model, dir, userDefined, `Lesion Lab ${BACKEND_VERSION}`)));
      await fs.writeFile(path.join(dir, EXPORT_FILES.tfjsMetadata), json);
      files.push(EXPORT_FILES.tfjsMetadata);
      break;
    }
    case 'keras': {
      await writeKerasModelH5(trained.model, path.join(dir, EXPORT_FILES.kerasModel), { lesion_lab_metadata: JSON.stringify(metadata), lesion_lab_version: BACKEND_VERSION });
      await writeKerasWeightsH5(trained.model, path.join(dir, EXPORT_FILES.kerasWeights));
      await fs.writeFile(path.join(dir, EXPORT_FILES.labels), json);
      files.push(EXPORT_FILES.kerasModel, EXPORT_FILES.kerasWeights, EXPORT_FILES.labels);
      break;
    }
    default:
      assertNever(format, 'export format');
  }
  if (metadata.modelCard) {
    await fs.writeFile(path.join(dir, EXPORT_FILES.modelCard), metadata.modelCard);
    files.push(EXPORT_FILES.modelCard);
  }
  return files;
}

/** Class probabilities from the files just written, each read back the way its users would. */
async function predictWithExport(trained: TrainedModel, format: ExportFormat, dir: string, x: tf.Tensor4D): Promise<Float32Array> {
  let model: { predict(x: tf.Tensor4D): tf.Tensor; dispose(): void };
  switch (format) {
    case 'onnx': {
      const runner = await OnnxRunner.load(path.join(dir, EXPORT_FILES.onnx));
      model = { predict: (t) => runner.run(t), dispose: () => runner.dispose() };
      break;
    }
    case 'tfjs': {
      const m = await tfl.loadLayersModel(fileSystemIOHandler(dir));
      model = { predict: (t) => m.predict(t) as tf.Tensor, dispose: () => m.dispose() };
      break;
    }
    case 'keras': {
      const m = rebuildClassifier(trained);
      await loadKerasH5Weights(m, path.join(dir, EXPORT_FILES.kerasWeights));
      model = { predict: (t) => m.predict(t) as tf.Tensor, dispose: () => m.dispose() };
      break;
    }
    default:
      assertNever(format, 'export format');
  }
  try {
    const y = model.predict(x);
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return data;
  } finally {
    model.dispose();
  }
}

/** The run's architecture, freshly initialised (the Keras weights-only export is loaded into it). */
export function rebuildClassifier(trained: Pick<TrainedModel, 'config'>): tfl.LayersModel {
  const o = trained.config.options;
  return buildClassifier(buildBackbone(o.model, { inputSize: o.size, alpha: o.alpha }), trained.config.classes.length);
}

/** A few validation images of the run, preprocessed; seeded noise in the same range when the dataset is not there. */
export async function verificationBatch(trained: TrainedModel): Promise<{ x: tf.Tensor4D; source: ExportVerification['source'] }> {
  const size = trained.config.options.size;
  const pixels = size * size * 3;
  const batch = new Float32Array(VERIFY_IMAGES * pixels);
  let files: string[] = [];
  try {
    const prepared = trained.config.options.prepared;
    const split = splitImages(await readManifest(prepared), prepared, trained.config.classes);
    files = split.val.slice(0, VERIFY_IMAGES).map((i) => i.file);
    for (const [i, file] of files.entries()) preprocessPixelsInto(trained.preprocess, await decodeResizedRgb(file, size), batch, i * pixels);
  } catch {
    files = [];
  }
  if (files.length === 0) {
    const rng = createRng(17);
    const rgb = Uint8Array.from({ length: VERIFY_IMAGES * pixels }, () => Math.floor(rng() * 256));
    preprocessPixelsInto(trained.preprocess, rgb, batch, 0);
    return { x: tf.tensor4d(batch, [VERIFY_IMAGES, size, size, 3]), source: 'synthetic' };
  }
  return { x: tf.tensor4d(batch.subarray(0, files.length * pixels), [files.length, size, size, 3]), source: 'validation' };
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

