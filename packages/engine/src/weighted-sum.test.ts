import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WEIGHTED_SUM, weightedSum, weightedSumSimdAvailable } from './weighted-sum';
import { values } from './test-values';

describe('weighted sum of two tensors (weightedSum)', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: the kernel equals wa * a + wb * b with tf ops, leaves its inputs alone and leaks nothing`, async () => {
      await tf.setBackend(backend);
      // 35: the SIMD loop (8 at a time) and its scalar tail; 4099: many iterations and a tail.
      for (const shape of [[5, 7], [4099], [3, 3, 2, 4]]) {
        const n = shape.reduce((a, d) => a * d, 1);
        const a = tf.tensor(values(n, 1), shape);
        const b = tf.tensor(values(n, 2), shape);
        const before = tf.memory().numTensors;
        const got = weightedSum(a, b, 0.375, -1.25);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(got.shape).toEqual(shape);
        const want = tf.tidy(() => tf.add(tf.mul(a, 0.375), tf.mul(b, -1.25)));
        const x = got.dataSync();
        const y = want.dataSync();
        for (let i = 0; i < n; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(y[i]!)));
        // Not a copy of one input: both weights count.
        expect(Math.abs(x[n - 1]! - a.dataSync()[n - 1]! * 0.375)).toBeGreaterThan(0);
        expect(Array.from(a.dataSync())).toEqual(Array.from(values(n, 1)));
        tf.dispose([a, b, got, want]);
      }
      expect(tf.getKernel(WEIGHTED_SUM, backend)).toBeDefined();
      // On wasm, the SIMD module ran (not the JavaScript fallback).
      if (backend === 'wasm') expect(weightedSumSimdAvailable(tf.backend() as unknown as BackendWasm)).toBe(true);
    });
  }

  it('refuses tensors of different shapes, naming both', async () => {
    await tf.setBackend('cpu');
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 2]);
    expect(() => weightedSum(a, b, 1, 1)).toThrow(/\[2, 3\] and \[3, 2\] differ/);
    tf.dispose([a, b]);
  });
});
