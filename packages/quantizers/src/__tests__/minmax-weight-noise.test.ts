import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamSet, type Network, type WeightLayer } from '@qtdog/core';
import { MinMaxOptions, MinMaxQuantizer, steFakeQuantize, WeightNoiseOptions, WeightNoiseQuantizer } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A stub network: one [1, 1, 2, 2] "conv" weight and a dense weight; predict is not needed here. */
function stubNetwork(values = [0.5, -0.1, -1.0, 0.2]): Network {
  const params = new ParamSet();
  params.add({ name: 'conv.weight', layer: 'conv', role: 'conv', variable: tf.variable(tf.tensor4d(values, [1, 1, 2, 2])) });
  params.add({ name: 'fc.weight', layer: 'fc', role: 'dense', variable: tf.variable(tf.tensor2d([1, 2], [2, 1])) });
  const layers: WeightLayer[] = [
    { name: 'conv', type: 'conv', weight: 'conv.weight' },
    { name: 'fc', type: 'dense', weight: 'fc.weight' },
  ];
  return {
    name: 'Stub',
    params,
    featureDim: 2,
    numClasses: 1,
    layers,
    weightTransform: null,
    featurize: () => {
      throw new Error('not used');
    },
    classify: () => {
      throw new Error('not used');
    },
    predict: () => {
      throw new Error('not used');
    },
    dispose: () => params.dispose(),
  };
}

const conv = (n: Network) => n.layers[0]!;
const apply = (n: Network, training: boolean) => tf.tidy(() => n.weightTransform!(conv(n), n.params.get('conv.weight').variable, training));

describe('MinMax fake quantization', () => {
  it('rounds onto the grid of the range, with a straight-through gradient inside it and none for the scale', () => {
    const w = tf.tensor1d([0.26, -0.9, 5.0, 0.04]);
    const s = tf.scalar(0.1);
    expect(Array.from(steFakeQuantize(w, s, -4, 3).dataSync())).toEqual([expect.closeTo(0.3, 6), expect.closeTo(-0.4, 6), expect.closeTo(0.3, 6), expect.closeTo(0, 6)]);
    const [dw, ds] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(steFakeQuantize(a, b, -4, 3), tf.tensor1d([1, 2, 3, 4]))))([w, s]);
    expect(Array.from(dw!.dataSync())).toEqual([1, 0, 0, 4]);
    expect(ds!.dataSync()[0]).toBe(0);
  });

  it('switches on at startStep with per-channel scales max|w|/qp, and exposes the integer codes', () => {
    const net = stubNetwork();
    const q = new MinMaxQuantizer(net, MinMaxOptions.parse({ bits: 3, startStep: 2 }));
    expect(q.layers).toEqual(['conv']);
    q.onStep(1, net);
    expect(q.active).toBe(false);
    expect(q.integerWeights(net)).toEqual([]);
    q.onStep(2, net);
    expect(q.active).toBe(true);
    // Channels (last axis): [0.5, -1.0] -> range 1.0, s = 1/3; [-0.1, 0.2] -> range 0.2, s = 0.2/3.
    const [iw] = q.integerWeights(net);
    expect(iw!.scaleShape).toEqual([1, 1, 1, 2]);
    expect(Array.from(iw!.scales)).toEqual([expect.closeTo(1 / 3, 6), expect.closeTo(0.2 / 3, 6)]);
    // w/s = [1.5, -1.5, -3, 3] -> round half to even: [2, -2, -3, 3]
    expect(Array.from(iw!.codes)).toEqual([2, -2, -3, 3]);
    const out = apply(net, true).dataSync();
    const expected = [2 / 3, (-2 * 0.2) / 3, -1, 0.2];
    expected.forEach((e, i) => expect(out[i]).toBeCloseTo(e, 6));
    // The classifier stays float.
    const fc = net.params.get('fc.weight').variable;
    expect(net.weightTransform!(net.layers[1]!, fc, true)).toBe(fc);
    net.dispose();
  });

  it('keeps an EMA range as a non-trainable parameter, updated once per step', () => {
    const net = stubNetwork();
    const q = new MinMaxQuantizer(net, MinMaxOptions.parse({ bits: 3, startStep: 0, perChannel: false, range: 'ema', momentum: 0.5 }));
    q.onStep(0, net);
    const r = net.params.get('conv.minmax_range');
    expect(r.trainable).toBe(false);
    expect(r.variable.dataSync()[0]).toBeCloseTo(1.0, 6);
    net.params.get('conv.weight').variable.assign(tf.tensor4d([3, 0, 0, 0], [1, 1, 2, 2]));
    q.onStep(1, net);
    q.onStep(1, net); // same step again: no second update
    expect(r.variable.dataSync()[0]).toBeCloseTo(0.5 * 1 + 0.5 * 3, 6);
    net.dispose();
  });
});

describe('WeightNoise', () => {
  it('adds U(-a, a) noise to the selected weights in training forward passes only, from startStep', () => {
    const net = stubNetwork();
    const q = new WeightNoiseQuantizer(net, WeightNoiseOptions.parse({ amplitude: 0.01, startStep: 3 }), 123);
    q.onStep(2, net);
    expect(q.active).toBe(false);
    expect(net.weightTransform).toBeNull();
    q.onStep(3, net);
    const w = net.params.get('conv.weight').variable.dataSync();
    const noisy = apply(net, true).dataSync();
    const diffs = Array.from(noisy, (v, i) => v - w[i]!);
    expect(diffs.every((d) => Math.abs(d) <= 0.01 && d !== 0)).toBe(true);
    expect(Array.from(apply(net, false).dataSync())).toEqual(Array.from(w));
    // Same step: the same noise (a second forward pass, or another data-parallel thread with the same seed).
    expect(Array.from(apply(net, true).dataSync())).toEqual(Array.from(noisy));
    const twin = stubNetwork();
    const q2 = new WeightNoiseQuantizer(twin, WeightNoiseOptions.parse({ amplitude: 0.01, startStep: 3 }), 123);
    q2.onStep(3, twin);
    expect(Array.from(apply(twin, true).dataSync())).toEqual(Array.from(noisy));
    // A new step draws new noise; the number of live tensors stays flat.
    const before = tf.memory().numTensors;
    q.onStep(4, net);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(apply(net, true).dataSync())).not.toEqual(Array.from(noisy));
    // The classifier is left clean, and gradients pass through unchanged.
    const fc = net.params.get('fc.weight').variable;
    expect(net.weightTransform!(net.layers[1]!, fc, true)).toBe(fc);
    const g = tf.grad((x: tf.Tensor) => tf.sum(net.weightTransform!(conv(net), x, true)))(net.params.get('conv.weight').variable);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 1, 1]);
    q.dispose();
    q2.dispose();
    net.dispose();
    twin.dispose();
  });
});
