import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ADAM_UPDATE, adamSimdAvailable, adamUpdate, adamUpdateOps } from './adam-update';
import { values } from './test-values';

describe('fused Adam step (adamUpdate)', () => {
  for (const backend of ['cpu', 'wasm']) {
    for (const weightDecay of [0, 0.01]) {
      it(`${backend}, weight decay ${weightDecay}: the fused kernel equals the tf-ops step over three steps, and leaks nothing`, async () => {
        await tf.setBackend(backend);
        const shape = [5, 7]; // 35: the SIMD loop and its scalar tail
        const init = () => ({ p: tf.tensor(values(35, 1), shape), m: tf.zeros(shape), v: tf.zeros(shape) });
        const fused = init();
        const ops = init();
        const before = tf.memory().numTensors;
        for (let step = 1; step <= 3; step++) {
          const g = tf.tensor(values(35, 10 + step), shape);
          const s = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step };
          const a = adamUpdate(fused.p, fused.m, fused.v, g, s);
          const b = adamUpdateOps(ops.p, ops.m, ops.v, g, s);
          tf.dispose([fused.p, fused.m, fused.v, ops.p, ops.m, ops.v, g]);
          [fused.p, fused.m, fused.v] = a;
          [ops.p, ops.m, ops.v] = b;
        }
        expect(tf.getKernel(ADAM_UPDATE, backend)).toBeDefined();
        // On wasm, the SIMD module ran (not the JavaScript fallback).
        if (backend === 'wasm') expect(adamSimdAvailable(tf.backend() as unknown as BackendWasm)).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
        // The parameters moved (about lr per step), and both paths agree to float rounding.
        const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(fused.p, tf.tensor(values(35, 1), shape)))).dataSync()[0]!);
        expect(moved).toBeGreaterThan(1e-3);
        for (const k of ['p', 'm', 'v'] as const) {
          const x = fused[k].dataSync();
          const y = ops[k].dataSync();
          for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(y[i]!)));
        }
        tf.dispose([fused.p, fused.m, fused.v, ops.p, ops.m, ops.v]);
      });
    }
  }
});
