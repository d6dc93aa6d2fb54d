/**
 * `lesion-lab predict`: class probabilities for images from a run's best checkpoint or from an export
 * (`--model`: an export folder or .onnx file), optionally averaged over the 8 flips/rotations
 * (test-time augmentation), temperature-scaled (`--calibrated`, a run only) and with a Grad-CAM overlay.
 * A run's predictions come with the model's provenance: run, checkpoint, training data, validation
 * balanced accuracy with its interval, calibration.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PredictOptions } from '../../shared/protocol/jobs';
import type { PredictFailure, Prediction } from '../../shared/protocol/results';
import { UserError, throwIfCancelled } from '../errors';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import type { PreprocessSpec } from '../models/preprocess';
import { preprocessPixelsInto } from '../models/preprocess';
import { detectEngines } from '../engines/detect';
import { initEngine } from '../engines/load';
import { selectEngine } from '../engines/select';
import { loadExportedModel } from '../export/exportedModel';
import { decodeResizedRgb } from '../training/imagePipeline';
import { applyTemperature } from './calibration';
import { describeFlatMap, gradCam, gradCamModel, writeGradCamHeat, writeGradCamOverlay } from './gradcam';
import type { Provenance } from './provenance';
import { modelProvenance } from './provenance';
import type { TrainedModel } from './trainedModel';
import { loadTrainedModel } from './trainedModel';
import { foldBatchNorm } from '../models/foldedInference';

/** The 8 symmetries of the square (rotations by 90° and their mirror images), on an s×s RGB image. */
export function dihedralVariants(rgb: Uint8Array, s: number): Uint8Array[] {
  const variants: Uint8Array[] = [];
  for (let k = 0; k < 8; k++) {
    const out = new Uint8Array(rgb.length);
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        let sx = x;
        let sy = y;
        for (let r = 0; r < (k & 3); r++) [sx, sy] = [sy, s - 1 - sx];
        if (k >= 4) sx = s - 1 - sx;
        const o = (y * s + x) * 3;
        const i = (sy * s + sx) * 3;
        out[o] = rgb[i]!;
        out[o + 1] = rgb[i + 1]!;
        out[o + 2] = rgb[i + 2]!;
      }
    }
    variants.push(out);
  }
  return variants;
}

/**
 * One Grad-CAM file per input image: `<name>.gradcam.png`, and where two different inputs share a name (the same
 * `ISIC_0024310.jpg` from two folders), `<name>-<8 hex of its path's hash>.gradcam.png` for each, so none
 * overwrites another. Keyed by the resolved path.
 */
export function gradcamFileNames(images: readonly string[]): Map<string, string> {
  const resolved = [...new Set(images.map((i) => path.resolve(i)))];
  const pathsByName = new Map<string, number>();
  // Case-insensitively: on macOS and Windows `A.jpg` and `a.jpg` would be one file.
  for (const r of resolved) pathsByName.set(path.parse(r).name.toLowerCase(), (pathsByName.get(path.parse(r).name.toLowerCase()) ?? 0) + 1);
  return new Map(
    resolved.map((r) => {
      const name = path.parse(r).name;
      const shared = pathsByName.get(name.toLowerCase())! > 1;
      return [r, `${name}${shared ? `-${createHash('sha256').update(r).digest('hex').slice(0, 8)}` : ''}.gradcam.png`];
    }),
  );
}

/**
 * Classifies each image; one that cannot be read gets its own `predict/didFailImage` and the others go on. The
 * job then ends with exit code 1 and a count, after `predict/didFinish` has listed the predictions and the failures.
 */
export async function predict(options: PredictOptions, ctx: JobContext): Promise<void> {
  if (options.calibrated && options.run === undefined) throw new UserError('--calibrated uses the temperature a run fitted on its validation split: give the run (--run), not an export.');
  const classifier = await loadClassifier(options, (message) => ctx.emit({ type: 'log', level: 'debug', message }));
  const { classes, size } = classifier;
  let cam: ReturnType<typeof gradCamModel> | undefined;
  let provenance: Provenance | undefined;
  try {
    provenance = classifier.trained ? await modelProvenance(classifier.trained, options.calibrated === true) : undefined;
    cam = options.gradcam ? gradCamModel(classifier.layersModel ?? noGradCam(classifier.source)) : undefined;
    if (options.gradcam) await fs.mkdir(options.gradcam, { recursive: true });
  } catch (err) {
    classifier.dispose();
    throw err;
  }
  const camFiles = gradcamFileNames(options.images);
  const predictions: Prediction[] = [];
  const failed: PredictFailure[] = [];
  const fail = (image: string, err: unknown): void => {
    const error = err instanceof UserError ? err.message : `${image} could not be classified: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    failed.push({ image, error });
    ctx.emit({ type: 'predict/didFailImage', image, error });
  };
  const progress = new ProgressReporter(ctx.emit, 'predict', options.images.length, 'image');
  try {
    for (const [n, image] of options.images.entries()) {
      throwIfCancelled(ctx.signal);
      progress.update(n);
      // Reading the image is the part that fails for one image and not the next (missing, damaged, not an image).
      const rgb = await readImage(image, size).catch((err: unknown) => fail(image, err));
      if (!rgb) continue;
      const variants = options.tta ? dihedralVariants(rgb, size) : [rgb];
      const batch = new Float32Array(variants.length * size * size * 3);
      variants.forEach((v, i) => preprocessPixelsInto(classifier.preprocess, v, batch, i * size * size * 3));
      const mean = tf.tidy(() => tf.mean(classifier.predict(tf.tensor4d(batch, [variants.length, size, size, 3])), 0));
      // data(), not dataSync(): the webgpu backend has no synchronous GPU read in Node.
      const raw = (await mean.data()) as Float32Array;
      mean.dispose();
      const temperature = provenance?.temperature;
      const probs = temperature !== undefined ? applyTemperature(raw, classes.length, temperature) : raw;
      const byClass = (p: ArrayLike<number>): Record<string, number> => Object.fromEntries(classes.map((c, k) => [c, p[k]!]));
      let best = 0;
      probs.forEach((p, k) => p > probs[best]! && (best = k));
      const prediction: Prediction = { image, probabilities: byClass(probs), ...(probs !== raw ? { uncalibrated: byClass(raw) } : {}), predicted: classes[best]! };
      if (cam && options.gradcam) {
        const x = tf.tensor4d(batch.subarray(0, size * size * 3), [1, size, size, 3]);
        const map = await gradCam(cam, x, best).finally(() => x.dispose());
        if (map.flat) {
          prediction.gradcamNote = describeFlatMap(map.flat, classes[best]!, map);
        } else {
          const out = path.join(options.gradcam, camFiles.get(path.resolve(image))!);
          const heat = out.replace(/\.gradcam\.png$/, '.gradcam-heat.png');
          const written = await writeGradCamOverlay(image, map.cam, map.height, map.width, out)
            .then(() => writeGradCamHeat(image, map.cam, map.height, map.width, heat))
            .then(
              () => true,
              (err: unknown) => fail(image, new UserError(`${image}: the Grad-CAM overlay could not be written to ${out} (${(err as Error).message}).`)),
            );
          if (!written) continue;
          prediction.gradcam = out;
          prediction.gradcamHeat = heat;
        }
      }
      predictions.push(prediction);
    }
    progress.update(options.images.length, true);
  } finally {
    classifier.dispose();
  }
  ctx.emit({
    type: 'predict/didFinish',
    run: classifier.source,
    classes: [...classifier.classes],
    ...(classifier.classLabels ? { classLabels: classifier.classLabels } : {}),
    ...(provenance ? { model: provenance.model } : {}),
    predictions,
    ...(failed.length ? { failed } : {}),
  });
  if (failed.length > 0) {
    const names = failed.slice(0, 3).map((f) => f.image).join(', ') + (failed.length > 3 ? ', …' : '');
    throw new UserError(`${failed.length} of ${options.images.length} image(s) could not be classified (${names}); the other ${predictions.length} were.`);
  }
}

/** The image, decoded and resized; a missing file says so plainly. */
async function readImage(image: string, size: number): Promise<Uint8Array> {
  await fs.access(image).catch(() => {
    throw new UserError(`${image} does not exist. Give the paths of the images to classify.`);
  });
  return decodeResizedRgb(image, size, 'Check that it is a JPEG or PNG image that opens in an image viewer.');
}

/** What predict needs of a model, whether it comes from a run or an export. */
interface Classifier {
  source: string;
  classes: readonly string[];
  /** Long names of the classes that have one (a run records them; absent for runs from before). */
  classLabels?: Record<string, string>;
  size: number;
  preprocess: PreprocessSpec;
  /** Grad-CAM needs the layers; ONNX exports have none. */
  layersModel?: tfl.LayersModel;
  /** A run's model (its folder tells the model's provenance); an export has none. */
  trained?: TrainedModel;
  predict(x: tf.Tensor4D): tf.Tensor;
  dispose(): void;
}

async function loadClassifier(options: PredictOptions, debug: (message: string) => void): Promise<Classifier> {
  if ((options.run === undefined) === (options.model === undefined)) throw new UserError('predict needs either a run folder (--run) or an exported model (--model), not both.');
  if (options.model !== undefined) {
    await initEngine(selectEngine(await detectEngines(undefined, debug), options.engine ?? 'auto').engine, { threads: options.threads });
    return loadExportedModel(options.model);
  }
  const trained = await loadTrainedModel(path.resolve(options.run!), options.engine, options.threads, debug);
  const { model } = trained;
  const forward = foldBatchNorm(model);
  return {
    source: trained.run.dir,
    classes: trained.config.classes,
    ...(trained.config.classLabels ? { classLabels: trained.config.classLabels } : {}),
    size: trained.config.options.size,
    preprocess: trained.preprocess,
    layersModel: model,
    trained,
    predict: (x) => forward.run(x),
    dispose: () => {
      forward.dispose();
      model.dispose();
    },
  };
}

function noGradCam(source: string): never {
  throw new UserError(`Grad-CAM needs the model's layers, which an ONNX file does not give Lesion Lab (${source}). Use --gradcam with the run (--run) or with a TF.js or Keras export.`);
}
