import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { currentBackend, selectBackend } from './backend';

const saved = process.env.QTDOG_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.QTDOG_BACKEND;
  else process.env.QTDOG_BACKEND = saved;
});

describe('selectBackend', () => {
  it('falls back from the missing tfjs-node to wasm on auto, and says so', async () => {
    delete process.env.QTDOG_BACKEND;
    const logs: string[] = [];
    expect(await selectBackend('auto', (m) => logs.push(m))).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    expect(logs.join('\n')).toMatch(/skipped tensorflow/);
    expect(logs.join('\n')).toMatch(/backend: wasm/);
  });

  it('makes wasm able to train a convolution (Conv2DBackpropFilter registered)', async () => {
    await selectBackend('wasm');
    expect(tf.getGradient('Conv2D')).toBeDefined(); // registered by registerGradients under vitest
    const [dx, dw] = tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 2]);
      const w = tf.ones([3, 3, 2, 3]);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, w]);
    });
    // Each filter tap sees the 4x4 input shifted: centre tap 16 positions, corners 9, edges 12.
    expect(Array.from(dw.dataSync()).slice(0, 3)).toEqual([9, 9, 9]);
    expect(dw.dataSync()[(1 * 3 + 1) * 6]).toBe(16);
    expect(dx.shape).toEqual([1, 4, 4, 2]);
    tf.dispose([dx, dw]);
  });

  it('is idempotent', async () => {
    expect(await selectBackend('cpu')).toBe('cpu');
    expect(await selectBackend('cpu')).toBe('cpu');
    expect(await selectBackend('wasm')).toBe('wasm');
    expect(await selectBackend('wasm')).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
  });

  it('lets QTDOG_BACKEND decide on auto, but not over an explicit choice', async () => {
    process.env.QTDOG_BACKEND = 'cpu';
    expect(await selectBackend()).toBe('cpu');
    expect(await selectBackend('wasm')).toBe('wasm');
  });

  it('rejects an unknown QTDOG_BACKEND', async () => {
    process.env.QTDOG_BACKEND = 'gpu';
    await expect(selectBackend()).rejects.toThrow("QTDOG_BACKEND='gpu' is not a backend; use one of auto, onednn, tensorflow, wasm, cpu.");
  });

  it('explains a forced backend that cannot load', async () => {
    const err = await selectBackend('tensorflow').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^The TensorFlow.js backend 'tensorflow' could not be loaded: .*tfjs-node/);
    expect(err?.message).toMatch(/To fix it, install it with `npm install @tensorflow\/tfjs-node`.*or choose the backend `wasm`\.$/);
  });
});
