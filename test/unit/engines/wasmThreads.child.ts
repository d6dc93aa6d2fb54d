/**
 * Starts the wasm engine with `--threads` = argv[2] in a fresh process (TF.js reads the thread count once per
 * process) and prints, as one JSON line, what it reports and a fingerprint of a convolution and a small training
 * step. It ends without process.exit, so a pthread worker that kept the process alive would show as a timeout.
 */
import { createHash } from 'node:crypto';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../../src/backend/engines/load';
import { seededTensor } from '../../helpers/seededTensor';

async function main(): Promise<void> {
  const threads = Number(process.argv[2]);
  const loaded = await initEngine('wasm', { threads });
  const x = seededTensor([4, 20, 20, 16], 1) as tf.Tensor4D;
  const w = tf.variable(seededTensor([3, 3, 16, 32], 2));
  const conv = tf.conv2d(x, w as unknown as tf.Tensor4D, 1, 'same');
  const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.conv2d(x, w as unknown as tf.Tensor4D, 2, 'same'))), [w]);
  const hash = (t: tf.Tensor) => createHash('sha256').update(Buffer.from((t.dataSync() as Float32Array).buffer)).digest('hex');
  const backend = tf.backend() as BackendWasm & { wasm: { tfjs: { getThreadsCount(): number } } };
  process.stdout.write(
    `${JSON.stringify({ device: loaded.device, threads: loaded.threads, xnnpackThreads: backend.wasm.tfjs.getThreadsCount(), conv: hash(conv), grad: hash(grads[w.name]!) })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
