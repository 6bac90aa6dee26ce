import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Minibatch } from '@qtdog/core';
import { CORAL, coralDistance, coralPenaltyFromMoments, domainMoments, meanOverDomainPairs, GroupDRO, IRM, MMD, objectiveGradients, VREx, type Objective } from '../index.js';
import type { AllReduce, GradientResult } from '@qtdog/core';
import { LinearNetwork } from './test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let networks = 0;

/** Features that depend on a trainable weight (tanh of a dense layer), so the penalty has a gradient. */
class TanhNetwork extends LinearNetwork {
  constructor(inputDim: number, featureDim: number, classes: number, seed: number) {
    super(featureDim, classes, randomRows(featureDim, classes, seed + 1));
    const a = tf.tensor2d(randomRows(inputDim, featureDim, seed));
    this.params.add({ name: 'featurizer.weight', layer: 'featurizer', role: 'dense', variable: tf.variable(a, true, `tanh#${++networks}/a`) });
    a.dispose();
  }

  override featurize(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.tanh(tf.matMul(tf.reshape(x, [x.shape[0], -1]), this.params.get('featurizer.weight').variable as tf.Tensor2D)));
  }
}

/** Deterministic pseudo-random rows in [-1, 1]. */
function randomRows(rows: number, cols: number, seed: number): number[][] {
  let s = seed * 7919 + 17;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

function batch(n: number, inputDim: number, env: number, seed: number): Minibatch {
  const rows = randomRows(n, inputDim, seed);
  return { x: tf.tensor4d(rows.flat(), [n, 1, 1, inputDim]), y: tf.tensor1d(rows.map((r) => (r[0]! > 0 ? 1 : 0)), 'int32'), env };
}

/** Rows [s, t) of every minibatch: one data-parallel part. */
function part(minibatches: Minibatch[], s: (n: number) => number, t: (n: number) => number): Minibatch[] {
  return minibatches.map((m) => {
    const n = m.x.shape[0];
    return { x: tf.slice(m.x, s(n), t(n) - s(n)), y: tf.slice(m.y, s(n), t(n) - s(n)), env: m.env, firstRow: s(n) };
  });
}

/**
 * The barrier of data-parallel training, played on one thread: every part runs up to its next
 * exchange (its input is kept and the run stopped there), the inputs are summed, and every part runs
 * again from the start, now given the totals of the exchanges so far, until all parts finish.
 * Parts are deterministic, so each replay retraces the previous one up to the new exchange.
 */
function inTurns<P>(parts: P[], run: (part: P, allReduce: AllReduce) => GradientResult): GradientResult[] {
  const STOP = new Error('stop at the exchange');
  const totals: Float32Array[] = [];
  for (;;) {
    const sent: Float32Array[] = [];
    const results = parts.map((p) => {
      let k = 0;
      try {
        return run(p, (v) => {
          if (k < totals.length) return totals[k++]!;
          sent.push(v.slice());
          throw STOP;
        });
      } catch (e) {
        if (e !== STOP) throw e;
        return undefined;
      }
    });
    if (results.every((r) => r !== undefined)) return results as GradientResult[];
    expect(sent.length).toBe(parts.length); // every part reaches the same exchange
    totals.push(sent.reduce((acc, v) => acc.map((x, i) => x + v[i]!)));
  }
}

describe('losses of sums, taken in data-parallel parts (CORAL, VREx, GroupDRO, IRM, MMD)', () => {
  it('the penalty from summed part moments equals the penalty on the whole features', () => {
    const features = [0, 1, 2].map((e) => tf.tensor2d(randomRows(7 + e, 4, 10 + e)));
    const split = (f: tf.Tensor2D, s: number, t: number) => tf.slice(f, s, t - s) as tf.Tensor2D;
    // Parts of uneven size, as splitRanges gives for odd minibatches.
    const a = domainMoments(features.map((f) => split(f, 0, 3)), 4);
    const b = domainMoments(features.map((f) => split(f, 3, f.shape[0])), 4);
    const fromMoments = coralPenaltyFromMoments(tf.add(a, b) as tf.Tensor1D, [7, 8, 9], 4).dataSync()[0]!;
    const direct = meanOverDomainPairs(features, coralDistance).dataSync()[0]!;
    expect(direct).toBeGreaterThan(0.01);
    expect(fromMoments).toBeCloseTo(direct, 5);
  });

  it('CORAL with one training domain: no pairs, a zero penalty, the gradient of the cross-entropy alone', () => {
    const algorithm = new CORAL(new TanhNetwork(5, 3, 2, 1), { lr: 1e-3, batchSize: 6, weightDecay: 0, mmdGamma: 3 });
    const network = (algorithm as unknown as { network: TanhNetwork }).network;
    const whole = [batch(8, 5, 0, 31)];
    const reference = objectiveGradients(algorithm.objective(whole), network.params.trainable());
    const r = algorithm.gradientShares(whole, 0, (v) => v);
    expect(r.losses.penalty).toBe(0);
    expect(r.losses.loss).toBeCloseTo(reference.losses.loss!, 5);
    for (const name of Object.keys(reference.grads)) {
      const want = reference.grads[name]!.dataSync();
      const got = r.grads[name]!.dataSync();
      want.forEach((w, i) => expect(got[i]!).toBeCloseTo(w, 5));
    }
  });

  const cases = [
    { name: 'CORAL', make: () => new CORAL(new TanhNetwork(5, 3, 2, 1), { lr: 1e-3, batchSize: 6, weightDecay: 0, mmdGamma: 3 }), step: 0 },
    // Step 3 is past the anneal (2): the penalty weight is vrexLambda there.
    ...[0, 3].map((step) => ({
      name: `VREx at step ${step}`,
      make: () => new VREx(new TanhNetwork(5, 3, 2, 1), { lr: 1e-3, batchSize: 6, weightDecay: 0, vrexLambda: 7, vrexPenaltyAnnealIters: 2 }),
      step,
    })),
    // IRM: the second part of a 6-row domain starts at an odd row (3), of a 7-row one at an even row
    // (4), so the even and odd halves must follow the whole minibatch's row numbers.
    ...[0, 3].map((step) => ({
      name: `IRM at step ${step}`,
      make: () => new IRM(new TanhNetwork(5, 3, 2, 1), { lr: 1e-3, batchSize: 6, weightDecay: 0, irmLambda: 50, irmPenaltyAnnealIters: 2 }),
      step,
    })),
    // MMD gathers the batch's features in a second exchange, after the row counts.
    { name: 'MMD', make: () => new MMD(new TanhNetwork(5, 3, 2, 1), { lr: 1e-3, batchSize: 6, weightDecay: 0, mmdGamma: 3 }), step: 0 },
    // The domain weights start uneven, as after some steps (workerState sets them).
    { name: 'GroupDRO', make: () => new GroupDRO(new TanhNetwork(5, 3, 2, 1), { lr: 1e-3, batchSize: 6, weightDecay: 0, groupdroEta: 0.5 }), step: 0, state: { q: [0.5, 0.2, 0.3] } },
  ];
  for (const { name, make, step, state } of cases as Array<(typeof cases)[number] & { state?: Record<string, number[]> }>) {
    it(`${name}: the parts' gradient shares sum to the whole batch's gradient; the losses add up`, () => {
      const algorithm = make();
      const a = algorithm as unknown as {
        network: TanhNetwork;
        objective(m: Minibatch[], w?: number): Objective;
        weightAt?(step: number): number;
      };
      const whole = [batch(6, 5, 0, 21), batch(7, 5, 1, 22), batch(6, 5, 2, 23)];
      // Stateful algorithms (GroupDRO's q) start every evaluation below from the same state.
      const reset = () => state && algorithm.setWorkerState?.(state);
      reset();
      const objective = a.weightAt ? a.objective(whole, a.weightAt(step)) : a.objective(whole);
      const reference = objectiveGradients(objective, a.network.params.trainable());
      const parts = [part(whole, () => 0, (n) => Math.ceil(n / 2)), part(whole, (n) => Math.ceil(n / 2), (n) => n)];
      let largest = 0;
      const shares = inTurns(parts, (p, allReduce) => {
        reset();
        return algorithm.gradientShares(p, step, (v) => {
          largest = Math.max(largest, v.length);
          return allReduce(v);
        });
      });
      expect(largest).toBe(algorithm.statisticsSize(whole));
      for (const param of Object.keys(reference.grads)) {
        const want = reference.grads[param]!.dataSync();
        const got = tf.add(shares[0]!.grads[param]!, shares[1]!.grads[param]!).dataSync();
        expect(Math.max(...Array.from(want, Math.abs))).toBeGreaterThan(1e-4);
        // MMD's seven kernels (exp(-d / 1e-3) among them) round differently in float32 when the
        // gradient goes through the gathered features: 2e-5 relative at most here.
        want.forEach((w, i) => expect(got[i]!).toBeCloseTo(w, name === 'MMD' ? 4 : 5));
      }
      const terms = Object.keys(reference.losses);
      expect(terms).toContain('nll');
      for (const term of terms) {
        expect(shares[0]!.losses[term]! + shares[1]!.losses[term]!).toBeCloseTo(reference.losses[term]!, 5);
      }
      if (terms.includes('penalty')) expect(reference.losses.penalty).toBeGreaterThan(1e-4);
    });
  }
});
