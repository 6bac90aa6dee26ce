// MNIST_CNN's block relu(conv + bias) as one fused oneDNN convolution gives what the three wasm ops
// give, value and gradients.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { conv2dBiasRelu, engineDescription, selectBackend } from '@qtdog/engine';
import { oneDnnAvailable } from '../index';
import { rand, relErr } from './test-values';

const available = oneDnnAvailable();

function block(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(2 * 12 * 12 * 8, 1), [2, 12, 12, 8]);
    const w = tf.tensor4d(rand(3 * 3 * 8 * 16, 2), [3, 3, 8, 16]);
    const b = tf.tensor1d(rand(16, 3));
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => conv2dBiasRelu(xx as tf.Tensor4D, ww as tf.Tensor4D, bb, 2, pad);
    const r = tf.tensor(rand(2 * 6 * 6 * 16, 4), [2, 6, 6, 16]);
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, ww, bb), r)))([x, w, b]);
    return [f(x, w, b), ...grads].map((t) => (t.dataSync() as Float32Array).slice());
  });
}

describe.skipIf(!available.enabled)('conv2dBiasRelu', () => {
  it('fused on oneDNN equals conv, add and relu on wasm', async () => {
    await selectBackend('onednn');
    expect(engineDescription()).toMatch(/oneDNN/);
    const fused = block();
    await selectBackend('wasm');
    expect(engineDescription()).toBe('wasm');
    const plain = block();
    fused.forEach((a, i) => expect(relErr(a, plain[i]!), `output ${i}`).toBeLessThan(1e-5));
  });
});
