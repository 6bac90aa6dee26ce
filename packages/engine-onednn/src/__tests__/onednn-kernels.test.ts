// The oneDNN kernels against TensorFlow.js's cpu backend (plain JavaScript) on every convolution
// shape of MNIST_CNN and ResNet-18/50, their gradients, fused bias + ReLU, matrix products, and the
// fallback to wasm for what oneDNN does not take. Bound: 1e-4 of the reference's largest value.
//
// Skipped, with the reason, where the addon is not built (no oneDNN). CI installs oneDNN and sets
// QTDOG_REQUIRE_ONEDNN=1, so there a missing addon fails instead of skipping.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmTrainingKernels } from '@qtdog/engine';
import { fallbackCounts, oneDnnAvailable, registerOneDnnKernels, unregisterOneDnnKernels } from '../index';
import { CONV_CASES, type ConvCase } from './conv-shapes';
import { rand, relErr } from './test-values';

const available = oneDnnAvailable();
if (!available.enabled && process.env.QTDOG_REQUIRE_ONEDNN === '1') {
  throw new Error(`QTDOG_REQUIRE_ONEDNN=1 but the oneDNN addon is off: ${available.reason}`);
}
if (!available.enabled) console.warn(`oneDNN kernel tests skipped: ${available.reason}`);

type Fused = { bias: boolean; relu: boolean } | undefined;

/** y, dx, dw (and dbias) of sum(conv(x, w) * r) on the current backend. */
function convAndGrads(c: ConvCase, fused: Fused): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(c.b * c.h * c.w * c.ci, 1), [c.b, c.h, c.w, c.ci]);
    const w = tf.tensor4d(rand(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
    const bias = tf.tensor1d(rand(c.co, 3));
    const f = (a: tf.Tensor, b: tf.Tensor, bi: tf.Tensor): tf.Tensor4D =>
      fused
        ? tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: c.s, pad: c.pad as 'same', bias: fused.bias ? bi : undefined, activation: fused.relu ? 'relu' : 'linear' })
        : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad as 'same');
    const y = f(x, w, bias);
    const r = tf.tensor(rand(y.size, 4), y.shape);
    const grads = fused?.bias
      ? tf.grads((a: tf.Tensor, b: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(f(a, b, bi), r)))([x, w, bias])
      : tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b, bias), r)))([x, w]);
    const out = [y, ...grads];
    return out.map((t) => t.dataSync() as Float32Array).map((a) => a.slice());
  });
}

async function on<T>(backend: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await tf.setBackend(backend);
  return fn();
}

describe.skipIf(!available.enabled)('oneDNN kernels on the wasm backend', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    const s = registerOneDnnKernels({ threads: 2 });
    expect(s.enabled).toBe(true);
    await tf.setBackend('wasm');
  });
  afterAll(() => unregisterOneDnnKernels());
  // The cpu reference computes synchronously for seconds: let vitest's worker answer its runner
  // between tests (a blocked event loop times out its RPC on a busy machine).
  afterEach(() => new Promise((resolve) => setTimeout(resolve, 0)));

  for (const c of CONV_CASES) {
    it(`Conv2D and both gradients: ${c.name} (batch ${c.b}, ${c.h}x${c.w}x${c.ci} -> ${c.co}, ${c.k}x${c.k}/${c.s}, pad ${JSON.stringify(c.pad)})`, async () => {
      const before = fallbackCounts();
      const ours = await on('wasm', () => convAndGrads(c, undefined));
      const ref = await on('cpu', () => convAndGrads(c, undefined));
      const names = ['y', 'dx', 'dw'];
      ours.forEach((a, i) => expect(relErr(a, ref[i]!), names[i]).toBeLessThan(1e-4));
      expect(fallbackCounts()).toEqual(before); // none of these went to wasm
    });
  }

  for (const fused of [{ bias: true, relu: true }, { bias: true, relu: false }, { bias: false, relu: true }]) {
    it(`_FusedConv2D with ${fused.bias ? 'bias' : 'no bias'}${fused.relu ? ' and ReLU' : ''}, and its gradients`, async () => {
      for (const c of [CONV_CASES[1]!, CONV_CASES[3]!]) {
        const ours = await on('wasm', () => convAndGrads(c, fused));
        const ref = await on('cpu', () => convAndGrads(c, fused));
        ours.forEach((a, i) => expect(relErr(a, ref[i]!), `${c.name} output ${i}`).toBeLessThan(1e-4));
      }
    });
  }

  it('matMul, with transposes, batches and broadcast, and the fused bias + ReLU', async () => {
    // grad: false where tfjs-core's own BatchMatMul gradient does not handle the broadcast.
    const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean; bias?: boolean; relu?: boolean; grad?: false }> = [
      { a: [64, 128], b: [128, 10], ta: false, tb: false },
      { a: [128, 64], b: [128, 10], ta: true, tb: false }, // CORAL's x^T x
      { a: [64, 128], b: [10, 128], ta: false, tb: true },
      { a: [3, 5, 7], b: [3, 7, 4], ta: false, tb: false },
      { a: [3, 7, 5], b: [1, 4, 7], ta: true, tb: true, grad: false },
      { a: [32, 128], b: [128, 10], ta: false, tb: false, bias: true, relu: true },
      { a: [32, 128], b: [128, 10], ta: false, tb: false, bias: true },
    ];
    for (const m of cases) {
      const run = (): Float32Array[] =>
        tf.tidy(() => {
          const a = tf.tensor(rand(m.a.reduce((p, d) => p * d, 1), 5), m.a);
          const b = tf.tensor(rand(m.b.reduce((p, d) => p * d, 1), 6), m.b);
          const bias = tf.tensor1d(rand(m.tb ? m.b.at(-2)! : m.b.at(-1)!, 7));
          const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor =>
            m.bias || m.relu
              ? tf.fused.matMul({ a: x, b: y, transposeA: m.ta, transposeB: m.tb, bias: m.bias ? bias : undefined, activation: m.relu ? 'relu' : 'linear' })
              : tf.matMul(x, y, m.ta, m.tb);
          const c = f(a, b);
          const grads = m.grad === false ? [] : tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), tf.onesLike(c))))([a, b]);
          return [c, ...grads].map((t) => (t.dataSync() as Float32Array).slice());
        });
      const ours = await on('wasm', run);
      const ref = await on('cpu', run);
      ours.forEach((x, i) => expect(relErr(x, ref[i]!), `${JSON.stringify(m)} output ${i}`).toBeLessThan(1e-4));
    }
    await tf.setBackend('wasm');
  });

  it('sends a dilated convolution to the wasm kernel, and says so, with the same result', async () => {
    const run = (): Float32Array =>
      tf.tidy(() => {
        const x = tf.tensor4d(rand(2 * 9 * 9 * 4, 8), [2, 9, 9, 4]);
        const w = tf.tensor4d(rand(3 * 3 * 4 * 8, 9), [3, 3, 4, 8]);
        return (tf.conv2d(x, w, 1, 'same', 'NHWC', 2).dataSync() as Float32Array).slice();
      });
    const key = 'Conv2D: dilation 2x2';
    const before = fallbackCounts().get(key) ?? 0;
    const ours = await on('wasm', run);
    expect(fallbackCounts().get(key)).toBe(before + 1);
    const ref = await on('cpu', run);
    expect(relErr(ours, ref)).toBeLessThan(1e-4);
  });

  it('keeps the tensor count flat over repeated training steps', async () => {
    await tf.setBackend('wasm');
    const c = CONV_CASES[1]!;
    convAndGrads(c, { bias: true, relu: true });
    const n = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) convAndGrads(c, { bias: true, relu: true });
    expect(tf.memory().numTensors).toBe(n);
  });

  it('gives the same results run after run at the same thread count', async () => {
    await tf.setBackend('wasm');
    const c = CONV_CASES[2]!;
    const a = convAndGrads(c, undefined);
    const b = convAndGrads(c, undefined);
    a.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(b[i]!)));
  });
});
