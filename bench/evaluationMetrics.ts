/**
 * What the evaluation's statistics cost: bootstrap intervals (1,000 stratified resamples), ROC / PR per class,
 * calibration and the temperature fit, on HAM10000-sized validation sets and on the demo's 70 images.
 * Run: `npx tsx bench/evaluationMetrics.ts`. Prints milliseconds per call (median of 5).
 */
import { bootstrapIntervals } from '../src/backend/evaluation/bootstrap';
import { calibrationOf, fitTemperature } from '../src/backend/evaluation/calibration';
import { argmaxRows } from '../src/backend/evaluation/metrics';
import { rankingReport } from '../src/backend/evaluation/ranking';
import { createRng } from '../src/shared/random';

const CLASSES = 7;

function softmaxRows(n: number, seed: number): { probs: Float32Array; labels: Int32Array } {
  const rng = createRng(seed);
  const probs = new Float32Array(n * CLASSES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(rng() * CLASSES);
    let sum = 0;
    for (let k = 0; k < CLASSES; k++) sum += probs[i * CLASSES + k] = Math.exp(3 * rng() + (k === labels[i] ? 1.5 : 0));
    for (let k = 0; k < CLASSES; k++) probs[i * CLASSES + k]! /= sum;
  }
  return { probs, labels };
}

function median(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2]!;
}

for (const n of [70, 2003, 10015]) {
  const { probs, labels } = softmaxRows(n, n);
  const predicted = argmaxRows(probs, CLASSES);
  const row = {
    images: n,
    'bootstrap 1000 (ms)': median(() => bootstrapIntervals(labels, predicted, CLASSES)).toFixed(1),
    'ROC+PR (ms)': median(() => rankingReport(probs, labels, CLASSES)).toFixed(1),
    'ECE (ms)': median(() => calibrationOf(probs, labels, CLASSES)).toFixed(1),
    'temperature fit (ms)': median(() => fitTemperature(probs, labels, CLASSES)).toFixed(1),
  };
  console.log(JSON.stringify(row));
}
