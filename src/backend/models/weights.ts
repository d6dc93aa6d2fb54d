/**
 * Loads pretrained backbone weights into a tf.layers model by layer name:
 *  - Keras weights `.h5` (what `model.save_weights('x.h5')` and keras-applications publish): the root
 *    attribute `layer_names`, each layer group's `weight_names` (e.g. `conv1_conv/kernel:0`), the
 *    arrays at `<layer>/<weight_name>` — which h5py stores as the nested `<layer>/<layer>/kernel:0`;
 *    a full-model `.h5` keeps the same under `model_weights/`;
 *  - TF.js `model.json` + weight shards.
 * Everything is checked before anything is assigned, so a bad file leaves the model untouched.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as H5Wasm from 'h5wasm/node';
import { UserError } from '../errors';
import { readTfjsWeights } from './fileIo';

type Layer = tfl.LayersModel['layers'][number];
type H5Module = typeof H5Wasm;
type H5Group = InstanceType<H5Module['Group']>;
type H5Dataset = InstanceType<H5Module['Dataset']>;

/** One array in a weights file, read only when it is assigned. */
export interface FileWeight {
  /** The name as stored, e.g. `conv1_conv/kernel:0`. */
  fullName: string;
  /** Its role in the layer: kernel, bias, gamma, beta, moving_mean, moving_variance, depthwise_kernel … */
  shortName: string;
  shape: number[];
  read(): Float32Array;
}

export interface WeightFileContents {
  file: string;
  format: 'keras-h5' | 'tfjs';
  /** Layers in file order; layers without weights are left out. */
  layers: Map<string, FileWeight[]>;
}

export interface LoadWeightsOptions {
  /**
   * Weights in the file for layers the model does not have are an error unless this is set (e.g. to
   * take a backbone out of a whole classifier's weights).
   */
  ignoreExtraLayers?: boolean;
  /** Model layers the file need not have (e.g. a freshly initialised head). */
  skipLayer?: (name: string) => boolean;
}

export interface LoadWeightsReport {
  file: string;
  format: WeightFileContents['format'];
  layersLoaded: number;
  weightsLoaded: number;
  /** Layers in the file that the model does not have (only with ignoreExtraLayers). */
  ignoredLayers: string[];
}

let h5Module: Promise<H5Module> | undefined;

/** h5wasm is ESM-only and instantiates a wasm module: load it once, on first use. */
export function loadH5wasm(): Promise<H5Module> {
  h5Module ??= (async () => {
    const h5 = await import('h5wasm/node');
    await h5.ready;
    return h5;
  })();
  return h5Module;
}

export async function loadKerasH5Weights(model: tfl.LayersModel, file: string, options: LoadWeightsOptions = {}): Promise<LoadWeightsReport> {
  const h5 = await loadH5wasm();
  const absolute = path.resolve(file);
  await assertReadable(absolute);
  let h5file: InstanceType<H5Module['File']>;
  try {
    h5file = new h5.File(absolute, 'r');
  } catch (err) {
    throw new UserError(`Could not open ${file} as an HDF5 file (${String(err)}). Check that the download finished, or download it again.`);
  }
  try {
    const contents = readKerasH5(h5, h5file, absolute);
    return assignWeights(model, contents, options);
  } finally {
    h5file.close();
  }
}

/** `--weights FILE`: a Keras `.h5`/`.hdf5` or a TF.js `model.json`, told apart by content. */
export async function loadWeightsFile(model: tfl.LayersModel, file: string, options: LoadWeightsOptions = {}): Promise<LoadWeightsReport> {
  const absolute = path.resolve(file);
  await assertReadable(absolute);
  const handle = await fs.open(absolute, 'r');
  const head = Buffer.alloc(8);
  try {
    await handle.read(head, 0, 8, 0);
  } finally {
    await handle.close();
  }
  if (head.equals(HDF5_SIGNATURE)) return loadKerasH5Weights(model, absolute, options);
  if (head.toString('utf8').trimStart().startsWith('{')) {
    const { contents, tensors } = await readTfjsWeightFile(absolute);
    try {
      return assignWeights(model, contents, options);
    } finally {
      tf.dispose(tensors);
    }
  }
  throw new UserError(`${file} is neither a Keras weights .h5 file nor a TF.js model.json. Give --weights imagenet, none, or the path of one of those.`);
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

async function assertReadable(file: string): Promise<void> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new UserError(`${file} is not a file. Give the path of a weights file.`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`Cannot read the weights file ${file}: ${(err as Error).message}. Check the path given to --weights.`);
  }
}

// ───────── Keras .h5 ─────────

function readKerasH5(h5: H5Module, h5file: InstanceType<H5Module['File']>, file: string): WeightFileContents {
  let root: H5Group = h5file;
  if (readStringListAttr(root, 'layer_names') === undefined) {
    const nested = h5file.get('model_weights');
    if (nested instanceof h5.Group && readStringListAttr(nested, 'layer_names') !== undefined) {
      root = nested;
    } else if (h5file.get('layers') instanceof h5.Group || h5file.get('_layer_checkpoint_dependencies') instanceof h5.Group) {
      throw new UserError(
        `${file} is a Keras 3 ".weights.h5" file, which is laid out per object rather than per layer name. Save the weights in the Keras 2 format (tf.keras / tf_keras model.save_weights("x.h5")) or convert the model to TF.js (model.json) and give that to --weights.`,
      );
    } else {
      throw new UserError(`${file} is an HDF5 file but not Keras weights: it has no "layer_names" attribute. Give a file written by Keras save_weights (or a keras-applications *_notop.h5).`);
    }
  }
  const layerNames = readStringListAttr(root, 'layer_names') ?? [];
  const layers = new Map<string, FileWeight[]>();
  for (const layerName of layerNames) {
    const group = root.get(layerName);
    if (!(group instanceof h5.Group)) {
      throw new UserError(`${file} lists layer "${layerName}" in layer_names but has no group for it; the file is damaged. Download or export it again.`);
    }
    const weightNames = readStringListAttr(group, 'weight_names') ?? [];
    if (weightNames.length === 0) continue;
    const weights = weightNames.map((weightName): FileWeight => {
      // The array lives at <layer>/<weight_name>; h5py turns the "/" inside the weight name into a
      // nested group. Some writers store it at the root instead.
      const found = group.get(weightName) ?? h5file.get(weightName) ?? group.get(baseName(weightName));
      if (!(found instanceof h5.Dataset)) {
        throw new UserError(`${file}: layer "${layerName}" lists weight "${weightName}" but the array is missing; the file is damaged. Download or export it again.`);
      }
      const dataset: H5Dataset = found;
      return {
        fullName: weightName,
        shortName: shortWeightName(weightName),
        shape: [...(dataset.shape ?? [])],
        read: () => readFloat32(h5, dataset, `${file}: ${layerName}/${weightName}`),
      };
    });
    layers.set(layerName, weights);
  }
  return { file, format: 'keras-h5', layers };
}

/** Keras' load_attributes_from_hdf5_group: the attribute itself, or chunks name0, name1, … (attributes over 64 KB). */
function readStringListAttr(group: H5Group, name: string): string[] | undefined {
  const attrs = group.attrs;
  const one = attrs[name];
  if (one !== undefined) return toStringList(one.value);
  if (attrs[`${name}0`] === undefined) return undefined;
  const out: string[] = [];
  for (let i = 0; attrs[`${name}${i}`] !== undefined; i++) out.push(...toStringList(attrs[`${name}${i}`]!.value));
  return out;
}

function toStringList(value: unknown): string[] {
  const decode = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v.replace(/\0+$/, '');
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8').replace(/\0+$/, '');
    return undefined;
  };
  if (Array.isArray(value)) return value.map(decode).filter((s): s is string => s !== undefined);
  const single = decode(value);
  // An empty list is written by numpy as an empty float array: no names.
  return single === undefined ? [] : [single];
}

function toFloat32(value: unknown, what: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array) return Float32Array.from(value);
  if (typeof value === 'number') return Float32Array.of(value);
  throw new UserError(`${what} is not a float16, float32 or float64 array; Lesion Lab cannot read this weights file. Re-save it with float32 weights.`);
}

/** A dataset's values as float32: float32 and float64 through h5wasm, float16 (which h5wasm does not read) from its raw bytes. */
function readFloat32(h5: H5Module, dataset: H5Dataset, what: string): Float32Array {
  const meta = dataset.metadata;
  if (meta.type === h5.Module.H5T_class_t.H5T_FLOAT.value && meta.size === 2) {
    if (!meta.littleEndian) throw new UserError(`${what} is a big-endian float16 array; Lesion Lab cannot read it. Re-save the weights as float32.`);
    return float16ToFloat32(new Uint16Array(rawDatasetBytes(h5, dataset).buffer));
  }
  return toFloat32(dataset.value, what);
}

/** The dataset's bytes in its stored type (h5wasm's own read, without its conversion to a typed array). */
export function rawDatasetBytes(h5: H5Module, dataset: H5Dataset): Uint8Array {
  const { size, total_size: count } = dataset.metadata;
  const bytes = size * count;
  const M = h5.Module;
  const ptr = M._malloc(Math.max(1, bytes));
  try {
    M.get_dataset_data(dataset.file_id, dataset.path, null, null, null, BigInt(ptr));
    return M.HEAPU8.slice(ptr, ptr + bytes);
  } finally {
    M._free(ptr);
  }
}

/** IEEE 754 half precision → single precision (subnormals, infinities and NaN included). */
export function float16ToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    out[i] = exponent === 0 ? sign * 2 ** -14 * (fraction / 1024) : exponent === 31 ? (fraction ? Number.NaN : sign * Infinity) : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}

const baseName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** `conv1_conv/kernel:0` → `kernel`; `conv1_conv/kernel` → `kernel`. */
export function shortWeightName(name: string): string {
  return baseName(name).replace(/:\d+$/, '');
}

// ───────── TF.js model.json ─────────

async function readTfjsWeightFile(modelJson: string): Promise<{ contents: WeightFileContents; tensors: tf.Tensor[] }> {
  const named = await readTfjsWeights(modelJson);
  const layers = new Map<string, FileWeight[]>();
  for (const { name, tensor } of named) {
    // "conv1_conv/kernel", or "resnet152/conv1_conv/kernel" when the backbone was a nested model.
    const parts = name.split('/');
    const layerName = parts.length >= 2 ? parts[parts.length - 2]! : name;
    const list = layers.get(layerName) ?? [];
    list.push({
      fullName: name,
      shortName: shortWeightName(name),
      shape: [...tensor.shape],
      read: () => {
        const data = tensor.dataSync();
        return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
      },
    });
    layers.set(layerName, list);
  }
  return { contents: { file: modelJson, format: 'tfjs', layers }, tensors: named.map((n) => n.tensor) };
}

// ───────── matching and assignment ─────────

interface LayerPlan {
  layer: Layer;
  /** File weights in the order of layer.weights. */
  sources: FileWeight[];
}

/**
 * Maps file weights onto model weights by layer name, then by weight role (kernel, bias, gamma …);
 * when the file's roles are unrecognised but the count matches, by position as Keras itself does.
 * Throws a UserError naming every problem found (missing, extra, mis-shaped), without assigning.
 */
export function assignWeights(model: tfl.LayersModel, contents: WeightFileContents, options: LoadWeightsOptions = {}): LoadWeightsReport {
  const problems: string[] = [];
  const plans: LayerPlan[] = [];
  const modelLayerNames = new Set<string>();
  const describe = (shape: readonly (number | null)[]): string => `[${shape.join(',')}]`;

  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    modelLayerNames.add(layer.name);
    const fileWeights = contents.layers.get(layer.name);
    if (!fileWeights) {
      if (options.skipLayer?.(layer.name)) continue;
      problems.push(`missing layer "${layer.name}" (expects ${layer.weights.map((w) => `${shortWeightName(w.originalName)} ${describe(w.shape)}`).join(', ')})`);
      continue;
    }
    const modelShort = layer.weights.map((w) => shortWeightName(w.originalName));
    const fileShort = fileWeights.map((w) => w.shortName);
    const byRole = fileShort.some((s) => modelShort.includes(s));
    const sources: FileWeight[] = [];
    if (byRole) {
      const used = new Set<FileWeight>();
      layer.weights.forEach((w, i) => {
        const src = fileWeights.find((f) => f.shortName === modelShort[i] && !used.has(f));
        if (!src) {
          problems.push(`layer "${layer.name}": missing weight "${modelShort[i]}" (expected shape ${describe(w.shape)})`);
          return;
        }
        used.add(src);
        sources.push(src);
      });
      for (const f of fileWeights) {
        if (!used.has(f)) problems.push(`layer "${layer.name}": extra weight "${f.fullName}" ${describe(f.shape)} that the model's layer does not have`);
      }
    } else if (fileWeights.length === layer.weights.length) {
      sources.push(...fileWeights);
    } else {
      problems.push(
        `layer "${layer.name}": the file has ${fileWeights.length} weights (${fileWeights.map((f) => f.fullName).join(', ')}), the model ${layer.weights.length} (${modelShort.join(', ')})`,
      );
      continue;
    }
    if (sources.length === layer.weights.length) {
      sources.forEach((src, i) => {
        const expected = layer.weights[i]!.shape;
        if (!sameShape(src.shape, expected)) {
          problems.push(`layer "${layer.name}": weight "${src.fullName}" has shape ${describe(src.shape)} but the model expects ${describe(expected)}`);
        }
      });
      plans.push({ layer, sources });
    }
  }

  const extraLayers = [...contents.layers.keys()].filter((n) => !modelLayerNames.has(n));
  if (extraLayers.length && !options.ignoreExtraLayers) {
    const list = extraLayers.slice(0, 8).join(', ') + (extraLayers.length > 8 ? ` and ${extraLayers.length - 8} more` : '');
    problems.push(`extra layer${extraLayers.length > 1 ? 's' : ''} not in the model: ${list}`);
  }

  if (problems.length) {
    const hint = extraLayers.includes('predictions')
      ? ' It looks like a file with the ImageNet classifier on top; use the "notop"/"no_top" file.'
      : ' Check that the file was made for this model (architecture, width/alpha) and without the top classifier.';
    const shown = problems.slice(0, 12).join('; ') + (problems.length > 12 ? `; … ${problems.length - 12} more` : '');
    throw new UserError(`The weights in ${contents.file} do not fit ${model.name}: ${shown}.${hint}`);
  }

  // Every array read and converted before any layer is set: a file that fails half-way (a float16 or integer
  // array, a truncated dataset) leaves the model as it was, not half loaded.
  const unreadable: string[] = [];
  const arrays = plans.map(({ sources }) =>
    sources.map((src) => {
      try {
        const values = src.read();
        const expected = src.shape.reduce((a, b) => a * b, 1);
        if (values.length !== expected) throw new UserError(`${src.fullName} holds ${values.length} values where its shape [${src.shape.join(',')}] needs ${expected}`);
        return values;
      } catch (err) {
        unreadable.push(err instanceof Error ? err.message : String(err));
        return undefined;
      }
    }),
  );
  if (unreadable.length) {
    throw new UserError(`Could not read ${unreadable.length} weight array(s) of ${contents.file}, so none were loaded: ${unreadable.slice(0, 4).join('; ')}${unreadable.length > 4 ? '; …' : ''}.`);
  }
  let weightsLoaded = 0;
  plans.forEach(({ layer, sources }, k) => {
    const values = sources.map((src, i) => tf.tensor(arrays[k]![i]!, src.shape, 'float32'));
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
    weightsLoaded += values.length;
  });
  return {
    file: contents.file,
    format: contents.format,
    layersLoaded: plans.length,
    weightsLoaded,
    ignoredLayers: options.ignoreExtraLayers ? extraLayers : [],
  };
}

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
