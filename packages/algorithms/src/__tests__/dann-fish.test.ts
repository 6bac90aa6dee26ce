import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Adam, crossEntropy, gradientsOf, Rng } from '@qtdog/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DANN, Fish, Mlp } from '../index.js';
import { LinearNetwork, minibatch, snapshot } from './test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { lr: 1e-2, batchSize: 2, weightDecay: 0 };
const batches = () => [minibatch([[1, 2], [0, -1]], [0, 1], 0), minibatch([[2, 0], [1, 1]], [1, 0], 1), minibatch([[-1, 1], [0, 3]], [1, 1], 2)];
const net = () => new LinearNetwork(2, 2, [[0.5, -0.2], [0.1, 0.3]], [0.05, -0.05]);
const dannOptions = { ...base, lambda: 1, dStepsPerGStep: 1, gradPenalty: 0, beta1: 0.5, mlpWidth: 8, mlpDepth: 3, mlpDropout: 0, weightDecayD: 0 };

describe('discriminator MLP', () => {
  it('backpropagates to its input as autodiff does (with and without dropout)', () => {
    for (const dropout of [0, 0.5]) {
      const mlp = new Mlp(3, 4, { width: 6, depth: 4, dropout }, 1);
      const x = tf.tensor2d([[0.2, -0.5, 1], [1.5, 0.3, -0.7], [-0.1, 0.8, 0.4]]);
      const labels = tf.tensor1d([0, 3, 1], 'int32');
      const masks = mlp.dropoutMasks(3, new Rng(2));
      expect(masks?.length ?? 0).toBe(dropout > 0 ? 3 : 0);
      const summedCe = (t: tf.Tensor2D) => tf.mul(crossEntropy(mlp.forward(t, masks).logits, labels), 3) as tf.Scalar;
      const want = tf.grad(summedCe)(x).dataSync();
      const pass = mlp.forward(x, masks);
      const got = mlp.inputGradient(tf.sub(tf.softmax(pass.logits), tf.oneHot(labels, 4)) as tf.Tensor2D, pass).dataSync();
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      mlp.dispose();
    }
  });

  it('gives the gradient penalty a gradient that matches finite differences', () => {
    const mlp = new Mlp(2, 3, { width: 5, depth: 3, dropout: 0 }, 4);
    const x = tf.tensor2d([[0.4, -0.9], [1.2, 0.5], [-0.3, 0.7]]);
    const labels = tf.tensor1d([2, 0, 1], 'int32');
    const gp = () =>
      tf.tidy(() => {
        const pass = mlp.forward(x);
        const g = mlp.inputGradient(tf.sub(tf.softmax(pass.logits), tf.oneHot(labels, 3)) as tf.Tensor2D, pass);
        return tf.mean(tf.sum(tf.square(g), 1)) as tf.Scalar;
      });
    const { value, grads } = gradientsOf(gp, mlp.params.trainable());
    value.dispose();
    // Small steps: the penalty jumps where a ReLU gate flips, and a step of 1e-2 can cross one.
    const h = 1e-3;
    for (const p of mlp.params.trainable()) {
      const analytic = grads[p.name]!.dataSync();
      const values = Float32Array.from(p.variable.dataSync());
      for (const i of [0, values.length - 1]) {
        const at = (d: number) => {
          const v = values.slice();
          v[i]! += d;
          p.variable.assign(tf.tensor(v, p.variable.shape));
          return gp().dataSync()[0]!;
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        p.variable.assign(tf.tensor(values, p.variable.shape));
        expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(1e-4 + 1e-2 * Math.abs(numeric));
      }
    }
    mlp.dispose();
  });
});

describe('DANN', () => {
  it('alternates generator and discriminator steps, each moving only its own parameters', async () => {
    const network = net();
    const dann = new DANN(network, dannOptions, 3, 0);
    const disc = () => snapshot(dann.discriminator);
    const steps: Array<{ net: boolean; disc: boolean }> = [];
    for (let step = 0; step < 4; step++) {
      const [n0, d0] = [snapshot(network), disc()];
      const r = await dann.update(batches(), step);
      expect(Number.isFinite(r.loss) && Number.isFinite(r.discLoss)).toBe(true);
      steps.push({ net: JSON.stringify(snapshot(network)) !== JSON.stringify(n0), disc: JSON.stringify(disc()) !== JSON.stringify(d0) });
    }
    // DomainBed's counter: update 1 is a generator step (1 % 2 = 1 is not < 1), update 2 a discriminator step.
    expect(steps).toEqual([
      { net: true, disc: false },
      { net: false, disc: true },
      { net: true, disc: false },
      { net: false, disc: true },
    ]);
    // Its discriminator is not part of the network, and is freed with the algorithm.
    expect(network.params.all().map((p) => p.name).sort()).toEqual(['classifier.bias', 'classifier.weight']);
    const count = tf.memory().numTensors;
    const discTensors = dann.discriminator.params.all().length;
    dann.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(count - discTensors);
  });

  it('adds the gradient penalty to the discriminator loss when asked', async () => {
    const dann = new DANN(net(), { ...dannOptions, gradPenalty: 0.5, dStepsPerGStep: 2 }, 3, 0);
    // dStepsPerGStep 2: update 1 (1 % 3 = 1 < 2) is a discriminator step.
    const r = await dann.update(batches(), 0);
    expect(r.gradPenalty).toBeGreaterThan(0);
    expect(Number.isFinite(r.discLoss)).toBe(true);
    const state = dann.getState();
    expect(state.scalars.updateCount).toBe(1);
    expect(Object.keys(state.tensors).some((k) => k.startsWith('discAdam/'))).toBe(true);
    expect(Object.keys(state.tensors).some((k) => k.startsWith('discriminator/'))).toBe(true);
    dann.dispose();
  });
});

describe('Fish', () => {
  it('takes one inner Adam step per domain from a copy, then w += metaLr (w_inner - w)', async () => {
    // Reference inner loop: the same Adam steps, domain by domain, on an identical network.
    const ref = net();
    const adam = new Adam({ lr: base.lr });
    for (const m of batches()) {
      const { value, grads } = gradientsOf(() => crossEntropy(ref.predict(m.x), m.y), ref.params.trainable());
      adam.apply(ref.params.trainable(), grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const inner = snapshot(ref);
    for (const metaLr of [1, 0.5]) {
      const network = net();
      const w0 = snapshot(network);
      await new Fish(network, { ...base, metaLr }).update(batches(), 0);
      const w1 = snapshot(network);
      for (const k of Object.keys(w0)) w1[k]!.forEach((v, i) => expect(v).toBeCloseTo(w0[k]![i]! + metaLr * (inner[k]![i]! - w0[k]![i]!), 6));
    }
  });
});
