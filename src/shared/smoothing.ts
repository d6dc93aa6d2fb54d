/**
 * TensorBoard's scalar smoothing: a debiased exponential moving average. The first points are not pulled
 * towards zero (the bias correction), and a value that is not a finite number (a diverged batch, a gap)
 * is passed through as null without touching the average, so the curve resumes where it was.
 */
export function emaSmooth(values: readonly (number | null | undefined)[], weight: number): (number | null)[] {
  // weight 1 would never move: TensorBoard's slider stops at 0.999 too.
  const w = Math.min(Math.max(weight, 0), 0.999);
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    last = last * w + (1 - w) * v;
    count++;
    return last / (1 - Math.pow(w, count));
  });
}
