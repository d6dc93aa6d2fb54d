/**
 * Test hook: `LESION_LAB_TEST_BATCH_TRACE=FILE` appends one JSON line per training batch — the step, a hash of the
 * batch's image indices (the data order) and a hash of its input bytes (decode + augmentation + preprocessing) — so
 * a reproducibility check can tell a data-pipeline difference from a kernel one (bench/determinism.ts). Reading the
 * input back costs a copy per batch; unset, it costs one environment lookup.
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs-core';

export interface BatchTraceLine {
  step: number;
  /** sha256 of the batch's image indices, comma-joined, first 16 hex digits. */
  order: string;
  /** sha256 of the batch's input tensor bytes, first 16 hex digits. */
  inputs: string;
}

const short = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex').slice(0, 16);

export async function traceBatch(step: number, indices: readonly number[], x: tf.Tensor): Promise<void> {
  const file = process.env.LESION_LAB_TEST_BATCH_TRACE;
  if (!file) return;
  const data = (await x.data()) as Float32Array;
  const line: BatchTraceLine = { step, order: short(indices.join(',')), inputs: short(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
  appendFileSync(file, JSON.stringify(line) + '\n');
}
