/**
 * `lesion-lab export --ensemble RUN,RUN…|SWEEP --format onnx`: the members' checkpoints as one ONNX model —
 * each member's graph on the shared input, their softmax outputs averaged (what `evaluate --ensemble`
 * reports, without TTA). Members must share classes, input size and preprocessing: one input tensor feeds them
 * all. Checked as a single export is: the written file, run by Lesion Lab's ONNX runner, must give the mean
 * of the members' own probabilities on a few validation images before the folder is put in place.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ExportVerification } from '../../shared/protocol/backend';
import type { ExportOptions } from '../../shared/protocol/jobs';
import type { Evaluation } from '../../shared/protocol/results';
import type { RunConfig } from '../../shared/runConfig';
import { ENSEMBLE_REPORT } from '../../shared/runFiles';
import { UserError, throwIfCancelled } from '../errors';
import { replaceDirAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { preprocessFor } from '../models/preprocess';
import { averageProbabilities, ensembleMembers, readMemberConfig } from '../evaluation/ensemble';
import { loadTrainedModel } from '../evaluation/trainedModel';
import { BACKEND_VERSION } from '../version';
import type { EnsembleFigures, ExportMetadata } from './exportMetadata';
import { EXPORT_FILES, onnxMetadataProps } from './exportMetadata';
import type { ExportResult } from './exportRun';
import { TOLERANCE, assertExportTarget, maxAbsDifference, metadataFor, verificationBatch } from './exportRun';
import { buildOnnxModel } from './onnxGraph';
import type { OnnxModel } from './onnxProto';
import { encodeOnnxModel } from './onnxProto';
import { ensembleOnnxModel } from './onnxEnsemble';
import { OnnxRunner } from './onnxRunner';

export const ENSEMBLE_EXPORT_DIR = path.join('exports', 'onnx-ensemble');

/** What one input tensor must be for every member: refused, with the difference named, where they disagree. */
export function assertOneInput(runs: readonly string[], configs: readonly RunConfig[]): void {
  const describe = (c: RunConfig): string => {
    const p = preprocessFor(c.options.model);
    return `${c.options.size} px, ${p.mode === 'caffe' ? 'caffe preprocessing (BGR, mean subtracted)' : 'tf preprocessing (RGB scaled to [−1, 1])'}`;
  };
  const first = configs[0]!;
  for (const [i, c] of configs.entries()) {
    if (JSON.stringify(c.classes) !== JSON.stringify(first.classes)) {
      throw new UserError(`${runs[i]} predicts ${c.classes.join(', ')}, and ${runs[0]} ${first.classes.join(', ')}: an ensemble's members must share their classes, in order.`);
    }
    if (describe(c) !== describe(first)) {
      throw new UserError(
        `An ONNX ensemble has one input, and its members take different ones: ${runs[0]} takes ${describe(first)}, ${runs[i]} ${describe(c)}. ` +
          'Export the members one by one (lesion-lab export --run …) and average their outputs yourself, or ensemble runs trained at one size with backbones of one preprocessing (MobileNetV2: tf; ResNet50, VGG16: caffe).',
      );
    }
  }
}

export async function exportEnsemble(options: ExportOptions & { ensemble: string[] }, ctx: JobContext): Promise<ExportResult> {
  if (options.format !== 'onnx') throw new UserError(`An ensemble is exported as one ONNX model (--format onnx); --format ${options.format} holds one network. Export its members one by one with --run for ${options.format}.`);
  const checkpoint = options.checkpoint ?? 'best';
  const { runs, sweep } = await ensembleMembers(options.ensemble);
  const configs = await Promise.all(runs.map(readMemberConfig));
  assertOneInput(runs, configs);
  if (!options.out && !sweep) throw new UserError(`Say where to write the ensemble's ONNX model with --out DIR (a sweep folder given to --ensemble gets ${ENSEMBLE_EXPORT_DIR}/ by default).`);
  const out = path.resolve(options.out ?? path.join(sweep!, ENSEMBLE_EXPORT_DIR));
  await assertExportTarget(out, ...runs, ...(sweep ? [sweep] : []));

  const progress = new ProgressReporter(ctx.emit, 'export onnx ensemble', runs.length + 2, 'step');
  progress.update(0, true);
  const graphs: OnnxModel[] = [];
  const expected: Float32Array[] = [];
  const members: EnsembleFigures['members'] = [];
  let first: ExportMetadata | undefined;
  let x: tf.Tensor4D | undefined;
  let source: ExportVerification['source'] = 'synthetic';
  let parameters = 0;
  try {
    // One member in memory at a time: its graph and its probabilities on the verification images are all that is kept.
    for (const [i, run] of runs.entries()) {
      const trained = await loadTrainedModel(run, options.engine, options.threads, (message) => ctx.emit({ type: 'log', level: 'debug', message }), checkpoint);
      try {
        throwIfCancelled(ctx.signal);
        const metadata = await metadataFor(trained, 'onnx', checkpoint);
        first ??= metadata;
        if (!x) ({ x, source } = await verificationBatch(trained));
        const y = tf.tidy(() => trained.model.predict(x!) as tf.Tensor);
        expected.push((await y.data()) as Float32Array);
        y.dispose();
        parameters += trained.model.countParams();
        members.push({ run, epoch: trained.epoch, validation: metadata.validation });
        graphs.push(await buildOnnxModel(trained.model, { producerVersion: BACKEND_VERSION, metadata: {}, inputDoc: '' }));
      } finally {
        trained.model.dispose();
      }
      progress.update(i + 1, true);
    }
    const metadata: ExportMetadata = {
      ...first!,
      model: { ...first!.model, name: `ensemble of ${runs.length}`, parameters },
      source: { ...first!.source, run: sweep ?? runs[0]! },
      validation: null,
      modelCard: null,
      ensemble: { averaging: `the mean of the ${runs.length} members' softmax probabilities`, members, evaluation: await ensembleEvaluation([...(sweep ? [sweep] : []), out, path.dirname(out)], runs) },
    };
    const inputDoc = `NHWC float32 [batch, ${metadata.input.size}, ${metadata.input.size}, 3], preprocessed: ${metadata.preprocessing.formula}`;
    const onnx = ensembleOnnxModel(graphs.map((g) => ({ ...g, graph: { ...g.graph, input: g.graph.input.map((v) => ({ ...v, docString: inputDoc })) } })), {
      name: `lesion_lab_ensemble_of_${runs.length}`,
      metadata: onnxMetadataProps(metadata),
      docString: `An ensemble of ${runs.length} ${[...new Set(configs.map((c) => c.options.model))].join('/')} skin-lesion classifiers exported by Lesion Lab ${BACKEND_VERSION}; output: ${metadata.ensemble!.averaging}. ${metadata.disclaimer}`,
    });
    const want = averageProbabilities(expected);
    let maxAbsDiff = Infinity;
    const files = [EXPORT_FILES.onnx, EXPORT_FILES.labels];
    await replaceDirAtomic(out, async (temp) => {
      await fs.writeFile(path.join(temp, EXPORT_FILES.onnx), encodeOnnxModel(onnx));
      await fs.writeFile(path.join(temp, EXPORT_FILES.labels), JSON.stringify(metadata, null, 2) + '\n');
      throwIfCancelled(ctx.signal);
      const runner = await OnnxRunner.load(path.join(temp, EXPORT_FILES.onnx));
      try {
        const y = runner.run(x!);
        maxAbsDiff = maxAbsDifference(want, (await y.data()) as Float32Array);
        y.dispose();
      } finally {
        runner.dispose();
      }
      if (!(maxAbsDiff <= TOLERANCE.onnx)) {
        throw new Error(`the ONNX ensemble gives probabilities up to ${maxAbsDiff.toExponential(2)} away from the members' mean (allowed ${TOLERANCE.onnx}); nothing was written. This is a bug in Lesion Lab's exporter.`);
      }
    });
    progress.update(runs.length + 2, true);
    const verification: ExportVerification = { images: x!.shape[0], source, maxAbsDiff, tolerance: TOLERANCE.onnx };
    ctx.emit({
      type: 'log',
      level: 'info',
      message: `Verified: the ONNX ensemble matches the mean of its ${runs.length} members' ${checkpoint} checkpoints on ${verification.images} ${source === 'validation' ? 'validation images' : 'synthetic inputs'} (max |Δp| ${maxAbsDiff.toExponential(1)}).`,
    });
    return { run: sweep ?? out, format: 'onnx', out, files, checkpoint, epoch: Math.max(...members.map((m) => m.epoch)), verification, members: members.map((m) => ({ run: m.run, epoch: m.epoch })) };
  } finally {
    x?.dispose();
  }
}

/**
 * The ensemble's own evaluation: the first ensemble-evaluation.json of exactly these members in `folders` (the sweep
 * folder, where `evaluate --ensemble` writes by default; the export's folder; the folder above it).
 */
async function ensembleEvaluation(folders: readonly string[], runs: readonly string[]): Promise<EnsembleFigures['evaluation']> {
  const same = (members: readonly string[] | undefined): boolean => !!members && JSON.stringify([...members].sort()) === JSON.stringify([...runs].sort());
  let found: { file: string; report: Evaluation } | undefined;
  for (const folder of folders) {
    const file = path.join(folder, ENSEMBLE_REPORT);
    const report = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as Evaluation).catch(() => undefined);
    if (report && same(report.set?.members)) {
      found = { file, report };
      break;
    }
  }
  if (!found) return null;
  const { file, report } = found;
  return {
    report: file,
    split: report.split,
    count: report.count,
    accuracy: report.accuracy,
    balancedAccuracy: report.balancedAccuracy,
    ...(report.balancedAccuracyCi ? { balancedAccuracyCi: report.balancedAccuracyCi } : {}),
    perClass: report.perClass,
  };
}
