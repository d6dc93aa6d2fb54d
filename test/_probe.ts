import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { buildBackbone } from '../src/backend/models/backbone';
async function main() {
  await tf.setBackend('cpu');
  for (const [n, a] of [['resnet50', undefined], ['resnet152', undefined], ['mobilenetv2', 1.0]] as const) {
    const t = Date.now();
    const m = buildBackbone(n, { inputSize: 224, alpha: a });
    console.log(n, m.layers.length, m.countParams(), Date.now() - t, 'ms', m.outputs[0]!.shape);
    console.log(m.layers.slice(0, 20).map((l, i) => `${i}:${l.name}:${l.getClassName()}`).join(' '));
    if (n === 'resnet152') console.log(m.layers[483]!.name);
    console.log(m.layers[2]!.weights.map((w) => `${w.name}|${w.originalName}|${w.shape}`));
  }
  const m2 = buildBackbone('mobilenetv2', { inputSize: 224 });
  console.log(m2.layers[5]!.weights.map((w) => `${w.name}|${w.originalName}|${w.shape}`), m2.layers[5]!.name);
}
main();
