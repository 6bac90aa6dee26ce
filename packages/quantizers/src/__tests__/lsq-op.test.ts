import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { initStepSize, lsqFakeQuantize, signedRange } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('LSQ fake quantization', () => {
  it('uses the signed range of b bits', () => {
    expect(signedRange(7)).toEqual({ qn: -64, qp: 63 });
    expect(signedRange(2)).toEqual({ qn: -2, qp: 1 });
  });

  it('rounds onto the grid, clamps, and has the LSQ gradients (hand-computed)', () => {
    const w = tf.tensor1d([0.26, -0.9, 5.0, 0.04]);
    const s = tf.scalar(0.1);
    const g = 0.5; // gradient scale, arbitrary here
    const out = lsqFakeQuantize(w, s, -4, 3, g);
    // v = w/s = [2.6, -9, 50, 0.4] -> round(clamp) = [3, -4, 3, 0] -> * s
    expect(Array.from(out.dataSync())).toEqual([expect.closeTo(0.3, 6), expect.closeTo(-0.4, 6), expect.closeTo(0.3, 6), expect.closeTo(0, 6)]);
    const dy = tf.tensor1d([1, 2, 3, 4]);
    const [dw, ds] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(lsqFakeQuantize(a, b, -4, 3, g), dy)))([w, s]);
    // Straight-through inside the range, zero outside.
    expect(Array.from(dw!.dataSync())).toEqual([1, 0, 0, 4]);
    // ds = g * sum(dy * [round(v) - v inside | qn below | qp above])
    //    = 0.5 * (1*(3-2.6) + 2*(-4) + 3*3 + 4*(0-0.4)) = 0.5 * (0.4 - 8 + 9 - 1.6) = -0.1
    expect(ds!.dataSync()[0]).toBeCloseTo(-0.1, 5);
  });

  it('sums the step-size gradient per output channel', () => {
    // A [1,1,2,2] "conv weight": input channels x output channels, step per output channel.
    const w = tf.tensor4d([0.12, -0.3, 0.5, 0.07], [1, 1, 2, 2]);
    const s = tf.tensor4d([0.1, 0.2], [1, 1, 1, 2]);
    const [, ds] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(lsqFakeQuantize(a, b, -2, 1, 1)))([w, s]);
    // channel 0 (s = 0.1): w/s = [1.2, 5], both at or above qp = 1 -> qp + qp = 2
    // channel 1 (s = 0.2): w/s = [-1.5, 0.35], inside -> (round(-1.5) + 1.5) + (0 - 0.35)
    //   tf.round rounds half to even (as torch.round): round(-1.5) = -2 -> -0.5 - 0.35 = -0.85
    expect(ds!.shape).toEqual([1, 1, 1, 2]);
    expect(ds!.dataSync()[0]).toBeCloseTo(2, 5);
    expect(ds!.dataSync()[1]).toBeCloseTo(-0.85, 5);
  });

  it('initialises the step size per channel as 2*mean|w|/sqrt(qp)', () => {
    const w = tf.tensor4d([1, -2, 3, 4], [1, 1, 2, 2]);
    const s = initStepSize(w, 63, true);
    expect(s.shape).toEqual([1, 1, 1, 2]);
    expect(s.dataSync()[0]).toBeCloseTo((2 * 2) / Math.sqrt(63), 5);
    expect(s.dataSync()[1]).toBeCloseTo((2 * 3) / Math.sqrt(63), 5);
    expect(initStepSize(w, 63, false).dataSync()[0]).toBeCloseTo((2 * 2.5) / Math.sqrt(63), 5);
  });
});
