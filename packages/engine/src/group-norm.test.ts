import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; vitest can load its ESM registration file.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { groupNorm, groupNormImpl } from './group-norm';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';
import { groupNormSimd, setGroupNormKernel } from './simd-group-norm';

function rand(n: number, seed: number, offset = 0, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = offset + scale * (s / 2 ** 32 - 0.5);
  }
  return out;
}

/** Direct computation, float64, straight from the definition (PyTorch nn.GroupNorm). */
function direct(x: Float32Array, [n, h, w, c]: number[], g: number, gamma: Float32Array, beta: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  const cg = c / g;
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < g; j++) {
      const idx: number[] = [];
      for (let p = 0; p < h * w; p++) for (let k = j * cg; k < (j + 1) * cg; k++) idx.push((b * h * w + p) * c + k);
      const mean = idx.reduce((a, i) => a + x[i], 0) / idx.length;
      const variance = idx.reduce((a, i) => a + (x[i] - mean) ** 2, 0) / idx.length;
      for (const i of idx) {
        const k = i % c;
        y[i] = ((x[i] - mean) / Math.sqrt(variance + eps)) * gamma[k] + beta[k];
      }
    }
  }
  return y;
}

/** The same function in plain tfjs ops, differentiated by tfjs's autodiff. */
function plainOps(x: tf.Tensor4D, g: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const xr = tf.reshape(x, [n, h * w, g, c / g]);
  const { mean, variance } = tf.moments(xr, [1, 3], true);
  const xhat = tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.reshape(tf.add(tf.mul(xhat, tf.reshape(gamma, [1, 1, g, c / g])), tf.reshape(beta, [1, 1, g, c / g])), x.shape);
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; scale: number } {
  expect(a.length).toBe(b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { err, scale };
}

const cases = [
  { shape: [2, 5, 4, 8], g: 4, offset: 0, scale: 2 },
  { shape: [3, 3, 3, 6], g: 1, offset: 3, scale: 1 }, // LayerNorm-like, non-zero mean
  { shape: [2, 4, 4, 6], g: 6, offset: -1, scale: 0.5 }, // InstanceNorm-like
  { shape: [2, 7, 7, 64], g: 8, offset: 0.3, scale: 1 }, // MNIST_CNN-like
  { shape: [3, 9, 7, 16], g: 2, offset: 5, scale: 0.5 }, // large mean; 63 rows: SIMD blocks of 32 and a partial one
];

/** Implementations compared: on wasm the fused kernels run on our SIMD module or in JavaScript. */
function variants(backend: string): Array<{ name: string; fused: boolean; kernel: 'simd' | 'js' }> {
  const fused: Array<{ name: string; fused: boolean; kernel: 'simd' | 'js' }> =
    backend === 'wasm'
      ? [
          { name: 'fused simd', fused: true, kernel: 'simd' },
          { name: 'fused js', fused: true, kernel: 'js' },
        ]
      : [{ name: 'fused', fused: true, kernel: 'simd' }];
  return [...fused, { name: 'ops', fused: false, kernel: 'simd' }];
}

describe.each(['cpu', 'wasm'])('groupNorm on %s', (backend) => {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    registerWasmTrainingKernels();
    await tf.setBackend(backend);
  });
  afterAll(async () => {
    setGroupNormKernel('simd');
    if (previous) await tf.setBackend(previous);
  });

  it.runIf(backend === 'wasm')('runs on the SIMD module in Node (C % 4 == 0)', () => {
    setGroupNormKernel('simd');
    expect(groupNormSimd(tf.backend() as never)).not.toBeNull();
  });

  it.each(cases)('value matches the definition: %o', ({ shape, g, offset, scale }) => {
    const c = shape[3];
    const xv = rand(shape.reduce((a, d) => a * d), 1, offset, scale);
    const gv = rand(c, 2, 1, 1);
    const bv = rand(c, 3);
    const ref = direct(xv, shape, g, gv, bv, 1e-5);
    for (const { name, fused, kernel } of variants(backend)) {
      setGroupNormKernel(kernel);
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const y = tf.tidy(() => groupNormImpl(x, g, tf.tensor1d(gv), tf.tensor1d(bv), 1e-5, fused).dataSync());
      x.dispose();
      const { err, scale: s } = maxErr(y, ref);
      console.log(`${backend} groupNorm ${name} value ${JSON.stringify(shape)} g=${g}: max err ${err.toExponential(2)} (scale ${s.toFixed(2)})`);
      expect(err).toBeLessThan(1e-5 * Math.max(1, s));
    }
  });

  it.each(cases)('gradients match autodiff of plain ops: %o', ({ shape, g, offset, scale }) => {
    const c = shape[3];
    const s4 = shape as [number, number, number, number];
    const xv = rand(shape.reduce((a, d) => a * d), 4, offset, scale);
    const rv = rand(xv.length, 5);
    const grads = (fn: typeof groupNorm) =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, s4);
        const gamma = tf.tensor1d(rand(c, 6, 1, 1));
        const beta = tf.tensor1d(rand(c, 7));
        const r = tf.tensor4d(rv, s4);
        return tf
          .grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(fn(a as tf.Tensor4D, g, b as tf.Tensor1D, d as tf.Tensor1D, 1e-5), r)))([x, gamma, beta])
          .map((t) => t.dataSync());
      });
    const ref = grads(plainOps);
    const names = ['dx', 'dgamma', 'dbeta'];
    // The fused kernels, and the plain-ops analytic gradient used on other backends (tfjs-node).
    for (const { name, fused, kernel } of variants(backend)) {
      setGroupNormKernel(kernel);
      const got = grads((a, b, c, d, e) => groupNormImpl(a, b, c, d, e, fused));
      got.forEach((gv, i) => {
        const { err, scale: s } = maxErr(gv, ref[i]);
        console.log(`${backend} groupNorm ${name} ${names[i]} ${JSON.stringify(shape)} g=${g}: max err ${err.toExponential(2)} (scale ${s.toFixed(2)})`);
        expect(err).toBeLessThan(1e-4 * Math.max(1, s));
      });
    }
  });

  it('leaks no tensors in inference or training', () => {
    const x = tf.randomNormal([2, 4, 4, 8]) as tf.Tensor4D;
    const gamma = tf.ones([8]) as tf.Tensor1D;
    const beta = tf.zeros([8]) as tf.Tensor1D;
    const run = () => {
      groupNorm(x, 2, gamma, beta).dispose();
      tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(groupNorm(a as tf.Tensor4D, 2, b as tf.Tensor1D, beta)))([x, gamma])).forEach((t) => t.dispose());
    };
    run();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    tf.dispose([x, gamma, beta]);
  });

  it('rejects channels that do not split into the groups', () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
      expect(() => groupNorm(x, 4, tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D)).toThrow(/6 channels cannot be split into 4 groups/);
    });
  });
});
