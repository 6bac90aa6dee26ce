import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';
import { on, values } from './test-values';

describe('wasm Sum and Mean over all axes but the last (bias gradients, BatchNorm statistics)', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('are the registered wasm Sum and Mean kernels', () => {
    expect(tf.getKernel('Sum', 'wasm')!.kernelFunc.name).toBe('sumWasm');
    expect(tf.getKernel('Mean', 'wasm')!.kernelFunc.name).toBe('meanWasm');
  });

  const cases: Array<{ shape: number[]; axis: number | number[]; keepDims?: boolean; dtype?: 'int32' }> = [
    { shape: [4, 5, 6, 8], axis: [0, 1, 2] },
    { shape: [4, 5, 6, 8], axis: [2, 0, 1] },
    { shape: [4, 5, 6, 8], axis: [-4, -3, -2], keepDims: true },
    { shape: [7, 3], axis: 0 },
    { shape: [2, 3, 5], axis: [1, 2] }, // not this case: the backend's own kernel
    { shape: [2, 3, 5], axis: [0, 1], dtype: 'int32' }, // int32: the backend's own kernel
    { shape: [6], axis: 0 },
  ];
  for (const [op, c] of cases.flatMap((c) => (['sum', 'mean'] as const).map((op) => [op, c] as const))) {
    it(`${op} ${JSON.stringify(c)} equals the cpu backend`, async () => {
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor(c.dtype === 'int32' ? Int32Array.from(values(c.shape.reduce((a, b) => a * b, 1)), (v) => Math.round(v * 100)) : values(c.shape.reduce((a, b) => a * b, 1)), c.shape, c.dtype ?? 'float32');
          const y = op === 'sum' ? tf.sum(x, c.axis, c.keepDims) : tf.mean(x, c.axis, c.keepDims);
          return { shape: y.shape, data: Array.from(y.dataSync()) };
        });
      const cpu = await on('cpu', run);
      const wasm = await on('wasm', run);
      expect(wasm.shape).toEqual(cpu.shape);
      wasm.data.forEach((v, i) => expect(v).toBeCloseTo(cpu.data[i]!, 5));
    });
  }

  it('BatchNorm-style moments over [0, 1, 2] and their gradient match the cpu backend', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(4 * 5 * 6 * 8).map((v) => v * 3 + 1), [4, 5, 6, 8]);
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const g = tf.grad((v: tf.Tensor) => {
          const m = tf.moments(v, [0, 1, 2]);
          return tf.sum(tf.mul(tf.div(tf.sub(v, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), v));
        })(x);
        return { mean: Array.from(mean.dataSync()), variance: Array.from(variance.dataSync()), g: Array.from(g.dataSync()) };
      });
    const cpu = await on('cpu', run);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const wasm = run();
    expect(tf.memory().numTensors).toBe(before);
    for (const k of ['mean', 'variance', 'g'] as const) wasm[k].forEach((v, i) => expect(v).toBeCloseTo(cpu[k][i]!, 4));
  });

  it('the gradient of a bias added to an NHWC activation matches the cpu backend, and leaks nothing', async () => {
    const grad = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(3 * 4 * 4 * 16), [3, 4, 4, 16]);
        const b = tf.tensor1d(values(16).map((v) => v * 2));
        const g = tf.grad((bias: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.add(x, bias)), x)))(b);
        return Array.from(g.dataSync());
      });
    const cpu = await on('cpu', grad);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const wasm = grad();
    expect(tf.memory().numTensors).toBe(before);
    wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 5));
  });
});
