/** [n, h, w, c] row-major values (TensorFlow.js, qtdog batches) to [n, c, h, w] (ONNX). */
export function nhwcToNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + k]!;
  return out;
}

/** Index of the largest value of each row of a [n, k] matrix. */
export function argmaxRows(values: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * k < values.length; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[r * k + j]! > values[r * k + best]!) best = j;
    out.push(best);
  }
  return out;
}

/** Softmax of each row of a [n, k] matrix. */
export function softmaxRows(values: Float32Array, k: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r * k < values.length; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, values[r * k + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += out[r * k + j] = Math.exp(values[r * k + j]! - m);
    for (let j = 0; j < k; j++) out[r * k + j]! /= sum;
  }
  return out;
}
