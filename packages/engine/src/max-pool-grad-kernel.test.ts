import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';
import { maxPoolGradSimdAvailable } from './max-pool-grad-kernel';
import { on, values } from './test-values';

describe('wasm MaxPoolGrad (one pass, channels innermost)', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('is the registered wasm MaxPoolGrad kernel', () => {
    expect(tf.getKernel('MaxPoolGrad', 'wasm')!.kernelFunc.name).toBe('maxPoolGradWasm');
  });

  it('has the SIMD module (channels in multiples of 4 run it; the rest run JavaScript)', () => {
    expect(maxPoolGradSimdAvailable(tf.backend() as unknown as BackendWasm)).toBe(true);
  });

  // Channels 8, 4 and 12 take the SIMD path, 5 and 3 the JavaScript one.
  const cases: Array<{ name: string; shape: [number, number, number, number]; size: number; stride: number; pad: 'valid' | 'same' | number; relu?: boolean }> = [
    { name: "ResNet's stem pool: 3x3/2, pad 1, on ReLU outputs (ties at 0), SIMD", shape: [2, 12, 12, 8], size: 3, stride: 2, pad: 1, relu: true },
    { name: '3x3/2, pad 1, odd size', shape: [2, 9, 7, 5], size: 3, stride: 2, pad: 1 },
    { name: '3x3/2, pad 1, odd size, SIMD', shape: [2, 9, 7, 12], size: 3, stride: 2, pad: 1 },
    { name: '2x2/2 valid, SIMD', shape: [3, 8, 8, 4], size: 2, stride: 2, pad: 'valid' },
    { name: '3x3/1 same (overlapping windows)', shape: [1, 6, 5, 3], size: 3, stride: 1, pad: 'same' },
    { name: '3x3/1 same (overlapping windows), ReLU ties, SIMD', shape: [2, 6, 5, 8], size: 3, stride: 1, pad: 'same', relu: true },
  ];
  for (const c of cases) {
    it(`${c.name}: equals the cpu backend's gradient, leaks nothing`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const grad = () =>
        tf.tidy(() => {
          let x: tf.Tensor4D = tf.tensor4d(values(n, 7), c.shape);
          if (c.relu) x = tf.relu(x);
          const y = tf.maxPool(x, c.size, c.stride, c.pad);
          const dy = tf.tensor(values(y.size, 11), y.shape);
          const g = tf.grad((v: tf.Tensor4D) => tf.sum(tf.mul(tf.maxPool(v, c.size, c.stride, c.pad), dy)))(x);
          return Array.from(g.dataSync());
        });
      const cpu = await on('cpu', grad);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const wasm = grad();
      expect(tf.memory().numTensors).toBe(before);
      // Not all zeros, and sparse, as a max pool gradient is.
      expect(wasm.filter((v) => v !== 0).length).toBeGreaterThan(0);
      expect(wasm.filter((v) => v === 0).length).toBeGreaterThan(0);
      wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 6));
    });
  }
});
