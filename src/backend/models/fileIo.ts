/**
 * TF.js models on the local file system without tfjs-node: a tf.io handler that writes and reads the
 * standard `model.json` + `weights.bin` pair, and checkpoint helpers built on it. Saving replaces the
 * whole directory atomically (temp dir + rename), so a crash or a cancel mid-save leaves the previous
 * checkpoint readable.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { replaceDirAtomic } from '../fsAtomic';
import { BACKEND_VERSION } from '../version';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A tf.io handler for `dir/model.json` + `dir/weights.bin`. `save` writes in place; saveModelAtomic swaps a whole directory in. */
export function fileSystemIOHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('fileSystemIOHandler: binary topologies are not supported');
      await fs.mkdir(dir, { recursive: true });
      const chunks = artifacts.weightData === undefined ? [] : Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
      const weightBytes = chunks.reduce((n, c) => n + c.byteLength, 0);
      await writeSynced(path.join(dir, WEIGHTS_BIN), chunks.map((c) => new Uint8Array(c)));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: artifacts.convertedBy ?? `Lesion Lab ${BACKEND_VERSION}`,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      const json = Buffer.from(JSON.stringify(modelJson));
      await writeSynced(path.join(dir, MODEL_JSON), [json]);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? [])),
          weightDataBytes: weightBytes,
        },
      };
    },
    load: async (): Promise<tf.io.ModelArtifacts> => readModelArtifacts(path.join(dir, MODEL_JSON)),
  };
}

export interface SaveModelOptions {
  /** Also save the optimizer's state (the model must be compiled), so training resumes where it stopped. */
  includeOptimizer?: boolean;
  /** Writes more files into the new directory before it is swapped in (a checkpoint's training state and optimizer slots). */
  alongside?: (tempDir: string) => Promise<void>;
}

/**
 * Writes `dir/model.json`, `dir/weights.bin` and whatever `alongside` adds as one unit: all of it goes to a
 * temporary sibling that is swapped in by rename, so a crash or a cancel mid-save leaves the previous
 * directory complete. The one way models are saved (checkpoints use it too).
 */
export async function saveModelAtomic(model: tfl.LayersModel, dir: string, options: SaveModelOptions = {}): Promise<void> {
  const includeOptimizer = options.includeOptimizer === true && model.optimizer != null;
  await replaceDirAtomic(dir, async (temp) => {
    await model.save(fileSystemIOHandler(temp), { includeOptimizer });
    await options.alongside?.(temp);
  });
}

export interface LoadedModel {
  model: tfl.LayersModel;
  /** The directory actually read (a leftover `.old-*` copy when the save that replaced it crashed). */
  dir: string;
}

/**
 * Loads a model saved by saveModelAtomic (or any TF.js layers model directory). When a compiled
 * model was saved with its optimizer, the model comes back compiled with the optimizer's state.
 */
export async function loadModelFromDir(dir: string): Promise<LoadedModel> {
  const actual = await resolveModelDir(dir);
  const model = await tfl.loadLayersModel(fileSystemIOHandler(actual));
  return { model, dir: actual };
}

/**
 * replaceDirAtomic moves the old directory aside before renaming the new one in; a crash between the
 * two leaves only `<dir>.old-<pid>`. That copy is complete, so read it.
 */
async function resolveModelDir(dir: string): Promise<string> {
  if (await exists(path.join(dir, MODEL_JSON))) return dir;
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  const siblings = await fs.readdir(parent).catch(() => [] as string[]);
  for (const name of siblings.filter((n) => n.startsWith(`${base}.old-`)).sort()) {
    const candidate = path.join(parent, name);
    if (await exists(path.join(candidate, MODEL_JSON))) return candidate;
  }
  throw new UserError(`No saved model in ${dir} (model.json is missing). Check the path, or train first so a checkpoint is written.`);
}

/** Reads `model.json` and its weight shards into ModelArtifacts, with errors a person can act on. */
export async function readModelArtifacts(modelJsonPath: string): Promise<tf.io.ModelArtifacts> {
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await fs.readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${modelJsonPath} does not exist. Check the path.`);
    throw new UserError(`${modelJsonPath} is not a readable TF.js model.json (${(err as Error).message}).`);
  }
  if (typeof modelJson !== 'object' || modelJson === null || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new UserError(`${modelJsonPath} is not a TF.js layers model.json (no modelTopology/weightsManifest). Give a model saved by TF.js or by tensorflowjs_converter.`);
  }
  const dir = path.dirname(modelJsonPath);
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of manifest) {
      for (const p of group.paths) {
        const shard = path.resolve(dir, p);
        if (path.relative(dir, shard).startsWith('..')) throw new UserError(`${modelJsonPath} points outside its directory (${p}); refusing to read it.`);
        try {
          buffers.push(await fs.readFile(shard));
        } catch (err) {
          throw new UserError(`${modelJsonPath} needs ${p}, which cannot be read (${(err as Error).message}). Copy the weight files that belong to this model.json next to it.`);
        }
      }
      specs.push(...group.weights);
    }
    const data = Buffer.concat(buffers);
    const expected = expectedBytes(specs);
    if (expected !== undefined && expected !== data.byteLength) {
      throw new UserError(`The weights of ${modelJsonPath} are ${data.byteLength} bytes but its manifest describes ${expected}: the files are truncated or do not belong together. Save or copy the model again.`);
    }
    return [specs, data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer];
  });
}

/** The model weights of a TF.js model.json (optimizer state left out), decoded. Dispose the tensors. */
export async function readTfjsWeights(modelJsonPath: string): Promise<{ name: string; tensor: tf.Tensor }[]> {
  const artifacts = await readModelArtifacts(modelJsonPath);
  if (!artifacts.weightSpecs || artifacts.weightData === undefined) return [];
  const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  const out: { name: string; tensor: tf.Tensor }[] = [];
  for (const spec of artifacts.weightSpecs) {
    const tensor = decoded[spec.name];
    if (!tensor) continue;
    if (spec.group === 'optimizer') tensor.dispose();
    else out.push({ name: spec.name, tensor });
  }
  return out;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

function expectedBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    const size = BYTES[dtype];
    if (size === undefined) return undefined; // strings: variable length
    total += s.shape.reduce((a, b) => a * b, 1) * size;
  }
  return total;
}

async function writeSynced(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    for (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
