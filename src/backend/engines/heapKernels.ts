/**
 * The project's JavaScript kernels for the wasm engine, written to run split over threads (heapWorkers.ts): each
 * is a self-contained function (no closures, no imports, no calls to other functions here — its source text is
 * evaluated in the worker threads as it is) of
 *   (heap, scratch, a, part, parts)
 * where `heap` is the wasm memory's buffer, `scratch` a shared buffer for per-chunk partial sums, `a` the call's
 * arguments (byte offsets into the heap, sizes, scalars) and `part` of `parts` the share this thread does.
 * Elementwise kernels split their range; reductions cut the rows into a fixed number of chunks (REDUCTION_CHUNKS,
 * passed in) and sum each chunk in row order (threads take whole chunks), so the numbers never depend on the
 * thread count.
 */

/** Rows of a reduction are summed in this many chunks, whatever the thread count. */
export const REDUCTION_CHUNKS = 8;

export type HeapKernel = (heap: ArrayBufferLike, scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number) => void;

/** dx = dy where 0 < x ≤ 6, else 0.   a: dy, x, out (byte offsets), n */
function relu6Grad(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const n = a[3]!;
  const from = Math.floor((n * part) / parts);
  const to = Math.floor((n * (part + 1)) / parts);
  const dy = new Float32Array(heap, a[0]!, n);
  const x = new Float32Array(heap, a[1]!, n);
  const out = new Float32Array(heap, a[2]!, n);
  for (let i = from; i < to; i++) {
    const v = x[i]!;
    out[i] = v > 0 && v <= 6 ? dy[i]! : 0;
  }
}

/**
 * Per chunk of rows and channel: Σ(x − K) and Σ(x − K)², K = x[0, c], in float64, into scratch
 * [chunk][2][C] (float64).   a: x, rows, C, chunks
 */
function batchNormStatsPartials(heap: ArrayBufferLike, scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const rows = a[1]!;
  const C = a[2]!;
  const chunks = a[3]!;
  const x = new Float32Array(heap, a[0]!, rows * C);
  const partials = new Float64Array(scratch, 0, chunks * 2 * C);
  for (let k = part; k < chunks; k += parts) {
    const r0 = Math.floor((rows * k) / chunks);
    const r1 = Math.floor((rows * (k + 1)) / chunks);
    const s1 = partials.subarray(k * 2 * C, k * 2 * C + C);
    const s2 = partials.subarray(k * 2 * C + C, (k + 1) * 2 * C);
    s1.fill(0);
    s2.fill(0);
    for (let r = r0, i = r0 * C; r < r1; r++) {
      for (let c = 0; c < C; c++, i++) {
        const v = x[i]! - x[c]!;
        s1[c]! += v;
        s2[c]! += v * v;
      }
    }
  }
}

/** y = (x − mean)·scale + beta per channel.   a: x, y, rows, C, mean, scale, beta */
function batchNormNormalise(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const rows = a[2]!;
  const C = a[3]!;
  const r0 = Math.floor((rows * part) / parts);
  const r1 = Math.floor((rows * (part + 1)) / parts);
  const x = new Float32Array(heap, a[0]!, rows * C);
  const y = new Float32Array(heap, a[1]!, rows * C);
  const mean = new Float32Array(heap, a[4]!, C);
  const scale = new Float32Array(heap, a[5]!, C);
  const beta = new Float32Array(heap, a[6]!, C);
  for (let r = r0, i = r0 * C; r < r1; r++) {
    for (let c = 0; c < C; c++, i++) y[i] = (x[i]! - mean[c]!) * scale[c]! + beta[c]!;
  }
}

/** Per chunk and channel: Σdy and Σdy·x̂, x̂ = (x − mean)·invStd, into scratch [chunk][2][C].   a: x, dy, rows, C, stats (mean; invStd), chunks */
function batchNormGradPartials(heap: ArrayBufferLike, scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const rows = a[2]!;
  const C = a[3]!;
  const chunks = a[5]!;
  const x = new Float32Array(heap, a[0]!, rows * C);
  const dy = new Float32Array(heap, a[1]!, rows * C);
  const mean = new Float32Array(heap, a[4]!, C);
  const invStd = new Float32Array(heap, a[4]! + 4 * C, C);
  const partials = new Float64Array(scratch, 0, chunks * 2 * C);
  for (let k = part; k < chunks; k += parts) {
    const r0 = Math.floor((rows * k) / chunks);
    const r1 = Math.floor((rows * (k + 1)) / chunks);
    const s1 = partials.subarray(k * 2 * C, k * 2 * C + C);
    const s2 = partials.subarray(k * 2 * C + C, (k + 1) * 2 * C);
    s1.fill(0);
    s2.fill(0);
    for (let r = r0, i = r0 * C; r < r1; r++) {
      for (let c = 0; c < C; c++, i++) {
        const g = dy[i]!;
        s1[c]! += g;
        s2[c]! += g * ((x[i]! - mean[c]!) * invStd[c]!);
      }
    }
  }
}

/** dx = k·(dy − meanDy − x̂·meanDyXhat) per channel.   a: x, dy, dx, rows, C, stats (mean; invStd), coefficients (k; meanDy; meanDyXhat) */
function batchNormGradDx(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const rows = a[3]!;
  const C = a[4]!;
  const r0 = Math.floor((rows * part) / parts);
  const r1 = Math.floor((rows * (part + 1)) / parts);
  const x = new Float32Array(heap, a[0]!, rows * C);
  const dy = new Float32Array(heap, a[1]!, rows * C);
  const dx = new Float32Array(heap, a[2]!, rows * C);
  const mean = new Float32Array(heap, a[5]!, C);
  const invStd = new Float32Array(heap, a[5]! + 4 * C, C);
  const k = new Float32Array(heap, a[6]!, C);
  const meanDy = new Float32Array(heap, a[6]! + 4 * C, C);
  const meanDyXhat = new Float32Array(heap, a[6]! + 8 * C, C);
  for (let r = r0, i = r0 * C; r < r1; r++) {
    for (let c = 0; c < C; c++, i++) dx[i] = k[c]! * (dy[i]! - meanDy[c]! - (x[i]! - mean[c]!) * invStd[c]! * meanDyXhat[c]!);
  }
}

/**
 * out[c, r] = src[r, c] for a [rows, width] block (each part a range of the block's rows, in 32×32 tiles), for
 * `batches` blocks one after the other.   a: src, out, rows, width, batches
 */
function transposeBlocks(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const rows = a[2]!;
  const width = a[3]!;
  const batches = a[4]!;
  const T = 32;
  const tiles = Math.ceil(rows / T) * batches;
  const t0 = Math.floor((tiles * part) / parts);
  const t1 = Math.floor((tiles * (part + 1)) / parts);
  const perBatch = Math.ceil(rows / T);
  for (let t = t0; t < t1; t++) {
    const b = Math.floor(t / perBatch);
    const rb = (t - b * perBatch) * T;
    const src = new Float32Array(heap, a[0]! + 4 * b * rows * width, rows * width);
    const out = new Float32Array(heap, a[1]! + 4 * b * rows * width, rows * width);
    const rEnd = Math.min(rb + T, rows);
    for (let cb = 0; cb < width; cb += T) {
      const cEnd = Math.min(cb + T, width);
      for (let r = rb; r < rEnd; r++) {
        const s = r * width;
        for (let c = cb; c < cEnd; c++) out[c * rows + r] = src[s + c]!;
      }
    }
  }
}

/**
 * im2col rows p0 … p0+rows−1 of a convolution's input into [rows, kh·kw·C] (zeros outside the image).
 *   a: x, patches, p0, rows, inHeight, inWidth, C, outHeight, outWidth, kh, kw, strideH, strideW, padTop, padLeft
 */
function im2col(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const [xOff, pOff, p0, rows, inHeight, inWidth, C, outHeight, outWidth, kh, kw, sh, sw, top, left] = a as unknown as number[];
  const cols = kh! * kw! * C!;
  const x = new Float32Array(heap, xOff!);
  const pv = new Float32Array(heap, pOff!, rows! * cols);
  const from = Math.floor((rows! * part) / parts);
  const to = Math.floor((rows! * (part + 1)) / parts);
  const perImage = outHeight! * outWidth!;
  const rowStride = inWidth! * C!;
  for (let q = from; q < to; q++) {
    const p = p0! + q;
    const n = Math.floor(p / perImage);
    const rem = p - n * perImage;
    const oh = Math.floor(rem / outWidth!);
    const ow = rem - oh * outWidth!;
    const base = n * inHeight! * rowStride;
    let dst = q * cols;
    for (let i = 0; i < kh!; i++) {
      const ih = oh * sh! - top! + i;
      const rowInside = ih >= 0 && ih < inHeight!;
      for (let j = 0; j < kw!; j++) {
        const iw = ow * sw! - left! + j;
        if (!rowInside || iw < 0 || iw >= inWidth!) {
          pv.fill(0, dst, dst + C!);
        } else {
          const src = base + ih * rowStride + iw * C!;
          if (C! >= 16) pv.set(x.subarray(src, src + C!), dst);
          else for (let c = 0; c < C!; c++) pv[dst + c] = x[src + c]!;
        }
        dst += C!;
      }
    }
  }
}

/**
 * A depthwise convolution's filter gradient, channels split over the parts (each channel summed in one fixed order:
 * taps, then images, rows, columns), in float64.
 *   a: x, dy, out, batch, inHeight, inWidth, C, outHeight, outWidth, kh, kw, strideH, strideW, padTop, padLeft, multiplier
 */
function depthwiseFilterGrad(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const [xOff, dyOff, outOff, batch, inHeight, inWidth, C, outHeight, outWidth, kh, kw, sh, sw, top, left, mult] = a as unknown as number[];
  const outChannels = C! * mult!;
  const x = new Float32Array(heap, xOff!, batch! * inHeight! * inWidth! * C!);
  const dy = new Float32Array(heap, dyOff!, batch! * outHeight! * outWidth! * outChannels);
  const out = new Float32Array(heap, outOff!, kh! * kw! * outChannels);
  const c0 = Math.floor((C! * part) / parts);
  const c1 = Math.floor((C! * (part + 1)) / parts);
  if (c1 <= c0) return;
  const acc = new Float64Array((c1 - c0) * mult!);
  for (let i = 0; i < kh!; i++) {
    for (let j = 0; j < kw!; j++) {
      acc.fill(0);
      for (let n = 0; n < batch!; n++) {
        for (let oh = 0; oh < outHeight!; oh++) {
          const ih = oh * sh! - top! + i;
          if (ih < 0 || ih >= inHeight!) continue;
          for (let ow = 0; ow < outWidth!; ow++) {
            const iw = ow * sw! - left! + j;
            if (iw < 0 || iw >= inWidth!) continue;
            const xBase = ((n * inHeight! + ih) * inWidth! + iw) * C!;
            const dyBase = ((n * outHeight! + oh) * outWidth! + ow) * outChannels;
            if (mult === 1) {
              for (let c = c0; c < c1; c++) acc[c - c0]! += x[xBase + c]! * dy[dyBase + c]!;
            } else {
              for (let c = c0; c < c1; c++) {
                const xc = x[xBase + c]!;
                for (let m = 0; m < mult!; m++) acc[(c - c0) * mult! + m]! += xc * dy[dyBase + c * mult! + m]!;
              }
            }
          }
        }
      }
      const at = (i * kw! + j) * outChannels;
      for (let q = 0; q < acc.length; q++) out[at + c0 * mult! + q] = acc[q]!;
    }
  }
}

/** tf.train.rmsprop (not centred), float32 step by step.   a: next, value, ms, mom, g, n, decay, 1−decay, momentum, lr, ε (as float32) */
function rmspropUpdate(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const n = a[5]!;
  const f = Math.fround;
  const [d, omd, m, l, e] = [a[6]!, a[7]!, a[8]!, a[9]!, a[10]!];
  const [next, value, ms, mom, g] = [0, 1, 2, 3, 4].map((k) => new Float32Array(heap, a[k]!, n)) as Float32Array[];
  const from = Math.floor((n * part) / parts);
  const to = Math.floor((n * (part + 1)) / parts);
  for (let i = from; i < to; i++) {
    const gi = g![i]!;
    const ms1 = f(f(ms![i]! * d) + f(f(gi * gi) * omd));
    const mom1 = f(f(mom![i]! * m) + f(f(gi * l) / f(Math.sqrt(f(ms1 + e)))));
    ms![i] = ms1;
    mom![i] = mom1;
    next![i] = f(value![i]! - mom1);
  }
}

/** tf.train.adam, float32 step by step.   a: next, value, m, v, g, n, β1, 1−β1, β2, 1−β2, 1−β1ᵗ, 1−β2ᵗ, ε, −lr */
function adamUpdate(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const n = a[5]!;
  const f = Math.fround;
  const [b1, omb1, b2, omb2, c1, c2, e, negLr] = [a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!];
  const [next, value, m, v, g] = [0, 1, 2, 3, 4].map((k) => new Float32Array(heap, a[k]!, n)) as Float32Array[];
  const from = Math.floor((n * part) / parts);
  const to = Math.floor((n * (part + 1)) / parts);
  for (let i = from; i < to; i++) {
    const gi = g![i]!;
    const m1 = f(f(m![i]! * b1) + f(gi * omb1));
    const v1 = f(f(v![i]! * b2) + f(f(gi * gi) * omb2));
    m![i] = m1;
    v![i] = v1;
    const mHat = f(m1 / c1);
    const vHat = f(v1 / c2);
    next![i] = f(f(f(mHat / f(f(Math.sqrt(vHat)) + e)) * negLr) + value![i]!);
  }
}

/** tf.train.momentum, float32 step by step.   a: next, value, acc, g, n, μ, −lr, nesterov (0/1) */
function momentumUpdate(heap: ArrayBufferLike, _scratch: ArrayBufferLike, a: Float64Array, part: number, parts: number): void {
  const n = a[4]!;
  const f = Math.fround;
  const [m, negLr, nesterov] = [a[5]!, a[6]!, a[7]! !== 0];
  const [next, value, acc, g] = [0, 1, 2, 3].map((k) => new Float32Array(heap, a[k]!, n)) as Float32Array[];
  const from = Math.floor((n * part) / parts);
  const to = Math.floor((n * (part + 1)) / parts);
  for (let i = from; i < to; i++) {
    const gi = g![i]!;
    const acc1 = f(f(m * acc![i]!) + gi);
    acc![i] = acc1;
    next![i] = f(f(negLr * (nesterov ? f(gi + f(acc1 * m)) : acc1)) + value![i]!);
  }
}

/** Every kernel by name; the order is their index in the worker protocol. */
export const HEAP_KERNELS = {
  relu6Grad,
  batchNormStatsPartials,
  batchNormNormalise,
  batchNormGradPartials,
  batchNormGradDx,
  transposeBlocks,
  im2col,
  depthwiseFilterGrad,
  rmspropUpdate,
  adamUpdate,
  momentumUpdate,
} satisfies Record<string, HeapKernel>;

export type HeapKernelName = keyof typeof HEAP_KERNELS;
