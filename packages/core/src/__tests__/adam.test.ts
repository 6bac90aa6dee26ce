import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, ParamSet } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Adam', () => {
  it('matches a hand computation and keeps state per parameter name', () => {
    const params = new ParamSet();
    const w = params.add({ name: 'w', layer: 'l', role: 'dense', variable: tf.variable(tf.tensor1d([1, -1]), true, 'adam-test-w') });
    const opt = new Adam({ lr: 0.1 });
    // Step 1: m = 0.1 g, v = 0.001 g^2, bias-corrected m/sqrt(v) = sign(g): w moves by lr.
    opt.apply([w], { w: tf.tensor1d([2, -4]) });
    expect(Array.from(w.variable.dataSync())).toEqual([expect.closeTo(0.9, 6), expect.closeTo(-0.9, 6)]);
    // A parameter added later (a quantizer's step size) gets fresh state; w keeps its step count.
    const s = params.add({ name: 's', layer: 'l', role: 'quantizer', variable: tf.variable(tf.scalar(0.5), true, 'adam-test-s') });
    opt.apply(params.trainable(), { w: tf.tensor1d([2, -4]), s: tf.scalar(1) });
    expect(opt.stepCount('w')).toBe(2);
    expect(opt.stepCount('s')).toBe(1);
    expect(s.variable.dataSync()[0]).toBeCloseTo(0.4, 6);
    // Step 2 for w with the same gradient: m_hat = g, v_hat = g^2, so it moves by lr again.
    expect(w.variable.dataSync()[0]).toBeCloseTo(0.8, 5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const g = { w: tf.tensor1d([0.1, 0.2]), s: tf.scalar(0.3) };
      opt.apply(params.trainable(), g);
      Object.values(g).forEach((t) => t.dispose());
    }
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    params.dispose();
  });

  it('creates, resets and restores its state without leaking tensors', () => {
    const params = new ParamSet();
    const w = params.add({ name: 'w', layer: 'l', role: 'dense', variable: tf.variable(tf.tensor1d([1, -1]), true, 'adam-test-leak') });
    const opt = new Adam({ lr: 0.1 });
    const grads = { w: tf.tensor1d([2, -4]) };
    const before = tf.memory().numTensors;
    opt.apply([w], grads);
    // Two moment variables and nothing else.
    expect(tf.memory().numTensors).toBe(before + 2);
    opt.reset();
    opt.apply([w], grads);
    expect(tf.memory().numTensors).toBe(before + 2);
    const copy = new Adam({ lr: 0.1 });
    copy.setState(opt.getState());
    expect(tf.memory().numTensors).toBe(before + 4);
    copy.dispose();
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('adds L2 weight decay to the gradient as PyTorch does', () => {
    const params = new ParamSet();
    const w = params.add({ name: 'w', layer: 'l', role: 'dense', variable: tf.variable(tf.scalar(2), true, 'adam-test-wd') });
    const opt = new Adam({ lr: 0.01, weightDecay: 0.5 });
    opt.apply([w], { w: tf.scalar(-1) }); // g + wd*w = -1 + 1 = 0: no move beyond eps effects
    expect(w.variable.dataSync()[0]).toBeCloseTo(2, 5);
    opt.dispose();
    params.dispose();
  });
});
