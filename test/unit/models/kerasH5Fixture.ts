/**
 * Writes small Keras-layout weight files with h5wasm, the way Keras 2's save_weights (h5py) does:
 * root attribute `layer_names` (fixed-length byte strings, every layer including weightless ones),
 * per layer group `weight_names` (an empty float array for weightless layers), arrays at
 * `<layer>/<weight_name>` — h5py nests the "/" in `conv1_conv/kernel:0` as groups.
 */
import type { ReferenceLayer } from '../../fixtures/keras/generate';

export interface H5FixtureOptions {
  /** nested (h5py, weight_names "layer/kernel:0") or flat (weight_names "kernel:0"). */
  layout?: 'nested' | 'flat';
  /** Put everything under `model_weights/` as a full-model `.h5` does. */
  underModelWeights?: boolean;
  /** Split layer_names into layer_names0, layer_names1 … as Keras does for attributes over 64 KB. */
  chunkLayerNames?: number;
  omit?: { layer: string; weight: string };
  extraWeight?: { layer: string; weight: string; shape: number[] };
  reshape?: { layer: string; weight: string; shape: number[] };
  extraLayer?: ReferenceLayer;
  /** Store one weight in another dtype (h5wasm's struct codes): '<d' float64, '<i' int32 (an array a weights file should not hold). */
  dtype?: { layer: string; weight: string; dtype: '<d' | '<i' };
}

/** The distinctive value of element `i` of weight `w` of layer `l`: tells any two weights apart. */
export function fixtureValue(layerIndex: number, weightIndex: number, i: number): number {
  return layerIndex + weightIndex / 10 + (i % 97) / 1000;
}

export function fixtureArray(layerIndex: number, weightIndex: number, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = fixtureValue(layerIndex, weightIndex, i);
  return out;
}

export async function writeKerasH5(file: string, layers: readonly ReferenceLayer[], options: H5FixtureOptions = {}): Promise<void> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(file, 'w');
  try {
    const root = options.underModelWeights ? f.create_group('model_weights') : f;
    const all = options.extraLayer ? [...layers, options.extraLayer] : [...layers];
    const names = all.map((l) => l.name);
    const strDtype = (list: string[]): string => `S${Math.max(1, ...list.map((s) => s.length))}`;
    if (options.chunkLayerNames) {
      const size = Math.ceil(names.length / options.chunkLayerNames);
      for (let c = 0; c * size < names.length; c++) {
        const part = names.slice(c * size, (c + 1) * size);
        root.create_attribute(`layer_names${c}`, part, [part.length], strDtype(part));
      }
    } else {
      root.create_attribute('layer_names', names, [names.length], strDtype(names));
    }
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', '2.15.0');

    all.forEach((layer, layerIndex) => {
      const group = root.create_group(layer.name);
      const weights = layer.weights
        .filter((w) => !(options.omit && options.omit.layer === layer.name && options.omit.weight === w.name))
        .map((w) => {
          const shape = options.reshape && options.reshape.layer === layer.name && options.reshape.weight === w.name ? options.reshape.shape : w.shape;
          return { name: w.name, shape, weightIndex: layer.weights.indexOf(w) };
        });
      if (options.extraWeight && options.extraWeight.layer === layer.name) {
        weights.push({ name: options.extraWeight.weight, shape: options.extraWeight.shape, weightIndex: 9 });
      }
      if (weights.length === 0) {
        group.create_attribute('weight_names', new Float64Array(0), [0], '<d');
        return;
      }
      const nested = (options.layout ?? 'nested') === 'nested';
      const weightNames = weights.map((w) => (nested ? `${layer.name}/${w.name}:0` : `${w.name}:0`));
      group.create_attribute('weight_names', weightNames, [weightNames.length], strDtype(weightNames));
      const holder = nested ? group.create_group(layer.name) : group;
      for (const w of weights) {
        const values = fixtureArray(layerIndex, w.weightIndex, w.shape);
        const other = options.dtype && options.dtype.layer === layer.name && options.dtype.weight === w.name ? options.dtype.dtype : undefined;
        const data = other === '<d' ? Float64Array.from(values) : other === '<i' ? Int32Array.from(values, (v) => Math.round(v * 1000)) : values;
        holder.create_dataset({ name: `${w.name}:0`, data, shape: w.shape, dtype: other ?? '<f4' });
      }
    });
  } finally {
    f.close();
  }
}
