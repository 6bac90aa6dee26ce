import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Rng } from '@qtdog/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CORAL,
  Mixup,
  mixupObjective,
  objectiveGradients,
  pooledCrossEntropy,
  randomDomainPairs,
  SAM,
  samStep,
  sampleBeta,
  sampleGamma,
  type Objective,
} from '../index.js';
import { LinearNetwork, minibatch, snapshot } from './test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { lr: 1e-2, batchSize: 2, weightDecay: 0 };
const batches = () => [minibatch([[1, 2], [0, -1]], [0, 1], 0), minibatch([[2, 0], [1, 1]], [1, 0], 1), minibatch([[-1, 1], [0, 3]], [1, 1], 2)];
const net = () => new LinearNetwork(2, 2, [[0.5, -0.2], [0.1, 0.3]], [0.05, -0.05]);

/** Wraps an objective so that every evaluation records the parameter values it saw. */
function recording(network: LinearNetwork, objective: Objective): { objective: Objective; seen: Array<Record<string, number[]>> } {
  const seen: Array<Record<string, number[]>> = [];
  return { seen, objective: (report) => (seen.push(snapshot(network)), objective(report)) };
}

const flatDistance = (a: Record<string, number[]>, b: Record<string, number[]>) =>
  Math.sqrt(Object.keys(a).reduce((s, k) => s + a[k]!.reduce((t, v, i) => t + (v - b[k]![i]!) ** 2, 0), 0));

describe('samStep', () => {
  it('perturbs all trainable parameters by exactly rho along the gradient, then restores them', () => {
    const network = net();
    const before = snapshot(network);
    const { objective, seen } = recording(network, pooledCrossEntropy(network, batches()));
    const { losses, grads } = samStep(objective, network.params.trainable(), 0.05);
    expect(seen).toHaveLength(2);
    expect(flatDistance(seen[1]!, seen[0]!)).toBeCloseTo(0.05, 6);
    // Restored bit for bit (from copies, not by subtracting e).
    expect(snapshot(network)).toEqual(before);
    // The returned gradient is the gradient at w + e: compare with one taken there directly.
    const e = objectiveGradients(pooledCrossEntropy(network, batches()), network.params.trainable());
    const dir = Object.fromEntries(Object.entries(e.grads).map(([k, g]) => [k, Array.from(g.dataSync())]));
    const norm = Math.sqrt(Object.values(dir).flat().reduce((s, v) => s + v * v, 0));
    for (const p of network.params.trainable()) {
      tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.mul(tf.tensor(dir[p.name]!, p.variable.shape), 0.05 / norm))));
    }
    const at = objectiveGradients(pooledCrossEntropy(network, batches()), network.params.trainable());
    for (const [k, g] of Object.entries(grads)) {
      const want = at.grads[k]!.dataSync();
      g.dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    }
    expect(losses.perturbedLoss).toBeCloseTo(at.losses.loss!, 6);
    expect(losses.loss).toBeCloseTo(e.losses.loss!, 6);
  });

  it('wraps another algorithm\'s objective (CORAL)', () => {
    const network = net();
    const coral = new CORAL(network, { ...base, mmdGamma: 1 });
    const { objective, seen } = recording(network, coral.objective(batches()));
    const { losses, grads } = samStep(objective, network.params.trainable(), 0.1);
    expect(flatDistance(seen[1]!, seen[0]!)).toBeCloseTo(0.1, 6);
    expect(Number.isFinite(losses.penalty)).toBe(true);
    expect(Object.keys(grads).sort()).toEqual(['classifier.bias', 'classifier.weight']);
  });

  it('SAM reports the loss at w and at w + e and takes one Adam step', async () => {
    const network = net();
    const before = snapshot(network);
    const sam = new SAM(network, { ...base, rho: 0.05 });
    const r = await sam.update(batches(), 0);
    expect(r.perturbedLoss).toBeGreaterThan(r.loss!);
    // Adam's first step moves every parameter with a nonzero gradient by lr (bias-corrected m/sqrt(v) = +-1).
    const after = snapshot(network);
    for (const k of Object.keys(before)) after[k]!.forEach((v, i) => expect(Math.abs(v - before[k]![i]!)).toBeCloseTo(base.lr, 4));
  });
});

describe('Mixup', () => {
  it('mixes a pair with lambda: lam CE(f(x), y_i) + (1 - lam) CE(f(x), y_j)', () => {
    // Identity classifier: logits = x. x_i = (2, 0) label 0, x_j = (0, 2) label 1, lam = 0.75:
    // x = (1.5, 0.5); CE(.., 0) = ln(1 + e^-1) = 0.3132617, CE(.., 1) = 1.3132617;
    // loss = 0.75 x 0.3132617 + 0.25 x 1.3132617 = 0.5632617.
    const network = new LinearNetwork(2, 2, [[1, 0], [0, 1]], [0, 0]);
    const mbs = [minibatch([[2, 0]], [0], 0), minibatch([[0, 2]], [1], 1)];
    const one = mixupObjective(network, mbs, [[0, 1]], [0.75])(() => {});
    expect(one.dataSync()[0]).toBeCloseTo(0.5632617, 6);
    // A second pair (1, 0) with lam 0.5: x = (1, 1), both CEs ln 2. Mean over the pairs.
    const two = mixupObjective(network, mbs, [[0, 1], [1, 0]], [0.75, 0.5])(() => {});
    expect(two.dataSync()[0]).toBeCloseTo((0.5632617 + Math.LN2) / 2, 6);
  });

  it('pairs the domains in a random cycle', () => {
    const pairs = randomDomainPairs(4, new Rng(3));
    expect(pairs.map((p) => p[0]).sort()).toEqual([0, 1, 2, 3]);
    pairs.forEach(([, j], k) => expect(j).toBe(pairs[(k + 1) % 4]![0]));
    expect(randomDomainPairs(1, new Rng(3))).toEqual([[0, 0]]);
  });

  it('is a mean of per-example terms: halves of the batch average to the whole-batch gradient', () => {
    const mixup = new Mixup(net(), { ...base, mixupAlpha: 0.2 }, 7);
    const all = batches();
    const half = (k: number) => all.map((m) => ({ x: tf.slice(m.x, k, 1), y: tf.slice(m.y, k, 1), env: m.env }));
    const whole = mixup.computeGradients(all, 5);
    const a = mixup.computeGradients(half(0), 5);
    const b = mixup.computeGradients(half(1), 5);
    expect(whole.losses.loss).toBeCloseTo((a.losses.loss! + b.losses.loss!) / 2, 6);
    for (const [k, g] of Object.entries(whole.grads)) {
      const ga = a.grads[k]!.dataSync();
      const gb = b.grads[k]!.dataSync();
      g.dataSync().forEach((v, i) => expect(v).toBeCloseTo((ga[i]! + gb[i]!) / 2, 6));
    }
    // Same step, same draws; another step, other draws.
    expect(mixup.draw(3, 5)).toEqual(mixup.draw(3, 5));
    expect(mixup.draw(3, 6)).not.toEqual(mixup.draw(3, 5));
  });
});

describe('Gamma and Beta sampling', () => {
  const moments = (draw: () => number, n = 20000) => {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = draw();
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    return { mean, variance: s2 / n - mean * mean };
  };

  it('has the Gamma(k) mean and variance k, for k below and above 1', () => {
    for (const k of [0.2, 0.5, 3]) {
      const rng = new Rng(11);
      const m = moments(() => sampleGamma(rng, k));
      expect(m.mean).toBeCloseTo(k, 1);
      expect(m.variance / k).toBeGreaterThan(0.9);
      expect(m.variance / k).toBeLessThan(1.1);
    }
  });

  it('has the Beta(a, b) mean a/(a+b) and variance ab/((a+b)^2 (a+b+1)), inside [0, 1]', () => {
    // Beta(0.2, 0.2) (Mixup's default, U-shaped): mean 0.5, variance 0.04 / (0.16 x 1.4) = 0.1785714.
    // Beta(2, 5): mean 2/7 = 0.2857143, variance 10 / (49 x 8) = 0.0255102.
    for (const [a, b, mean, variance] of [[0.2, 0.2, 0.5, 0.1785714], [2, 5, 0.2857143, 0.0255102]] as const) {
      const rng = new Rng(5);
      let inside = true;
      const m = moments(() => {
        const v = sampleBeta(rng, a, b);
        inside &&= v >= 0 && v <= 1;
        return v;
      });
      expect(inside).toBe(true);
      expect(Math.abs(m.mean - mean)).toBeLessThan(0.01);
      expect(Math.abs(m.variance - variance) / variance).toBeLessThan(0.05);
    }
  });

  it('is reproducible from the seed', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    expect(Array.from({ length: 5 }, () => sampleBeta(a, 0.2, 0.2))).toEqual(Array.from({ length: 5 }, () => sampleBeta(b, 0.2, 0.2)));
  });
});
