import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNorm2d, PYTORCH_BN, type BatchNormParams } from '../batch-norm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const params = (c: number): BatchNormParams => ({
  gamma: tf.variable(tf.tensor1d(Array.from({ length: c }, (_, i) => 1 + i))),
  beta: tf.variable(tf.tensor1d(Array.from({ length: c }, (_, i) => -i))),
  runningMean: tf.variable(tf.zeros([c]), false),
  runningVar: tf.variable(tf.ones([c]), false),
});
const disposeParams = (p: BatchNormParams) => Object.values(p).forEach((v) => v.dispose());

describe('batchNorm2d (PyTorch BatchNorm2d semantics)', () => {
  // Channel 0 holds 1, 2, 3, 4 and channel 1 holds 10, 10, 10, 14 over N=2, H=1, W=2.
  const x = () => tf.tensor4d([1, 10, 2, 10, 3, 10, 4, 14], [2, 1, 2, 2]);

  it('training: normalises with the batch mean and biased variance, moves running stats by 0.1 towards mean and unbiased variance', () => {
    const p = params(2);
    const y = batchNorm2d(x(), p, { training: true, frozen: false, ...PYTORCH_BN });
    // Channel 0: mean 2.5, biased var 1.25, unbiased 5/3. Channel 1: mean 11, biased var 3, unbiased 4.
    const s0 = 1 / Math.sqrt(1.25 + 1e-5);
    const s1 = 2 / Math.sqrt(3 + 1e-5);
    const want = [(1 - 2.5) * s0, (10 - 11) * s1 - 1, (2 - 2.5) * s0, (10 - 11) * s1 - 1, (3 - 2.5) * s0, (10 - 11) * s1 - 1, (4 - 2.5) * s0, (14 - 11) * s1 - 1];
    const got = y.dataSync();
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    const rm = p.runningMean.dataSync();
    const rv = p.runningVar.dataSync();
    expect(rm[0]).toBeCloseTo(0.25, 6);
    expect(rm[1]).toBeCloseTo(1.1, 6);
    expect(rv[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6);
    expect(rv[1]).toBeCloseTo(0.9 + 0.4, 6);
    y.dispose();
    disposeParams(p);
  });

  it('evaluation and frozen training use the running statistics and leave them alone', () => {
    const p = params(2);
    p.runningMean.assign(tf.tensor1d([1, 2]));
    p.runningVar.assign(tf.tensor1d([4, 9]));
    for (const mode of [{ training: false, frozen: false }, { training: true, frozen: true }]) {
      const y = batchNorm2d(x(), p, { ...mode, ...PYTORCH_BN });
      const got = y.dataSync();
      expect(got[0]).toBeCloseTo((1 - 1) / Math.sqrt(4 + 1e-5), 5);
      expect(got[1]).toBeCloseTo((2 * (10 - 2)) / Math.sqrt(9 + 1e-5) - 1, 5);
      y.dispose();
    }
    expect(Array.from(p.runningMean.dataSync())).toEqual([1, 2]);
    expect(Array.from(p.runningVar.dataSync())).toEqual([4, 9]);
    disposeParams(p);
  });

  it('under a gradient tape: the running update is not in the gradients, gradients match the textbook formula, nothing leaks', () => {
    const p = params(2);
    const input = tf.tensor4d(Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => Math.sin(i)), [2, 3, 3, 2]);
    const r = tf.tensor4d(Array.from({ length: 36 }, (_, i) => Math.cos(3 * i)), [2, 3, 3, 2]);
    const ours = () => tf.sum(tf.mul(batchNorm2d(input, p, { training: true, frozen: false, ...PYTORCH_BN }), r)) as tf.Scalar;
    const textbook = () =>
      tf.tidy(() => {
        const { mean, variance } = tf.moments(input, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, 1e-5))), p.gamma), p.beta);
        return tf.sum(tf.mul(y, r)) as tf.Scalar;
      });
    const before = tf.memory().numTensors;
    const a = tf.variableGrads(ours, [p.gamma, p.beta]);
    const b = tf.variableGrads(textbook, [p.gamma, p.beta]);
    expect(Object.keys(a.grads).sort()).toEqual([p.beta.name, p.gamma.name].sort());
    for (const k of Object.keys(a.grads)) {
      const ga = a.grads[k]!.dataSync();
      const gb = b.grads[k]!.dataSync();
      for (let i = 0; i < ga.length; i++) expect(ga[i]).toBeCloseTo(gb[i]!, 5);
    }
    const dxOurs = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(batchNorm2d(z as tf.Tensor4D, p, { training: true, frozen: false, ...PYTORCH_BN }), r)))(input);
    const dxText = tf.grad((z: tf.Tensor) => {
      const { mean, variance } = tf.moments(z, [0, 1, 2]);
      return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, 1e-5))), p.gamma), p.beta), r));
    })(input);
    const d1 = dxOurs.dataSync();
    const d2 = dxText.dataSync();
    for (let i = 0; i < d1.length; i++) expect(d1[i]).toBeCloseTo(d2[i]!, 4);
    // Running stats moved twice (ours ran twice), and nothing else was left behind.
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), dxOurs, dxText]);
    expect(tf.memory().numTensors).toBe(before);
    for (let k = 0; k < 3; k++) {
      const g = tf.variableGrads(ours, [p.gamma, p.beta]);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(p.runningMean.dataSync()[0]).not.toBe(0);
    tf.dispose([input, r]);
    disposeParams(p);
  });
});
