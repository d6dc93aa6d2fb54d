/**
 * Keras 2 HDF5 files, written with h5wasm in the layout tf.keras' own `model.save("x.h5")` and
 * `model.save_weights("x.h5")` use:
 *  - full model: root attributes `model_config` (the architecture as Keras JSON: class names, layer
 *    names, configs, inbound nodes), `keras_version`, `backend`; the weights under `model_weights/`;
 *  - weights only: the same weight groups at the root.
 * A weight group: attribute `layer_names` (every layer, in model.layers order, as byte strings); per
 * layer a group with attribute `weight_names` (`conv1_conv/kernel:0` …, an empty float array for a
 * layer without weights) and the arrays at `<layer>/<layer>/kernel:0` (h5py nests the "/").
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadH5wasm, shortWeightName } from '../models/weights';

/** The Keras file-format generation the layout follows (tf.keras 2.x, before Keras 3's .keras/.weights.h5). */
export const KERAS_FORMAT_VERSION = '2.15.0';
export const KERAS_BACKEND = 'tensorflow';

type H5Module = Awaited<ReturnType<typeof loadH5wasm>>;
type H5Group = InstanceType<H5Module['Group']>;

/** The architecture as Keras' model_config JSON (tf.layers serialises Keras' own format). */
export function kerasModelConfig(model: tfl.LayersModel): { class_name: string; config: unknown } {
  const topology = model.toJSON(null, false) as unknown as { class_name: string; config: unknown };
  // tf.keras ≥ 2.4 calls a functional model "Functional"; tf.layers still writes "Model".
  return { class_name: topology.class_name === 'Model' ? 'Functional' : topology.class_name, config: topology.config };
}

export async function writeKerasModelH5(model: tfl.LayersModel, file: string, extraAttributes: Record<string, string> = {}): Promise<void> {
  const h5 = await loadH5wasm();
  const f = new h5.File(file, 'w');
  try {
    f.create_attribute('keras_version', KERAS_FORMAT_VERSION);
    f.create_attribute('backend', KERAS_BACKEND);
    f.create_attribute('model_config', JSON.stringify(kerasModelConfig(model)));
    for (const [k, v] of Object.entries(extraAttributes)) f.create_attribute(k, v);
    await writeWeightGroups(model, f.create_group('model_weights'));
  } finally {
    f.close();
  }
}

export async function writeKerasWeightsH5(model: tfl.LayersModel, file: string): Promise<void> {
  const h5 = await loadH5wasm();
  const f = new h5.File(file, 'w');
  try {
    await writeWeightGroups(model, f);
  } finally {
    f.close();
  }
}

const bytesDtype = (list: readonly string[]): string => `S${Math.max(1, ...list.map((s) => Buffer.byteLength(s)))}`;

async function writeWeightGroups(model: tfl.LayersModel, root: H5Group): Promise<void> {
  const names = model.layers.map((l) => l.name);
  root.create_attribute('layer_names', names, [names.length], bytesDtype(names));
  root.create_attribute('backend', KERAS_BACKEND);
  root.create_attribute('keras_version', KERAS_FORMAT_VERSION);
  for (const layer of model.layers) {
    const group = root.create_group(layer.name);
    if (layer.weights.length === 0) {
      // What h5py writes for Keras' empty list: a zero-length float64 array.
      group.create_attribute('weight_names', new Float64Array(0), [0], '<d');
      continue;
    }
    const weightNames = layer.weights.map((w) => `${layer.name}/${shortWeightName(w.originalName)}:0`);
    group.create_attribute('weight_names', weightNames, [weightNames.length], bytesDtype(weightNames));
    const nested = group.create_group(layer.name);
    for (const w of layer.weights) {
      const data = await w.read().data();
      nested.create_dataset({ name: `${shortWeightName(w.originalName)}:0`, data: Float32Array.from(data as ArrayLike<number>), shape: [...w.shape] as number[], dtype: '<f4' });
    }
  }
}
