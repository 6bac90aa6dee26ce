import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupDroWeights, GroupDRO, IRM, irmPenalty, irmScaleGradient, riskVariance, VREx } from '../index.js';
import { expectClose, LinearNetwork, minibatch } from './test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { lr: 1e-2, batchSize: 2, weightDecay: 0 };

describe('IRM penalty', () => {
  // Row [1, 0] with label 0: softmax (0.7310586, 0.2689414), sum_k p_k z_k = 0.7310586, minus z_y = 1
  // gives -0.2689414. Row [0, 1] with label 0: 0.7310586 - 0 = 0.7310586.
  const logits = () => tf.tensor2d([[1, 0], [0, 1]]);
  const labels = () => tf.tensor1d([0, 0], 'int32');

  it('has the dummy-scale gradient d/dw CE(w z, y) at w = 1 in closed form', () => {
    expectClose(irmScaleGradient(tf.tensor2d([[1, 0]]), tf.tensor1d([0], 'int32')), -0.2689414);
    expectClose(irmScaleGradient(logits(), labels()), (-0.2689414 + 0.7310586) / 2);
    // Same as TensorFlow.js's own first-order gradient with respect to the scale.
    const g = tf.grad((w: tf.Scalar) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels(), 2), tf.mul(logits(), w)))(tf.scalar(1));
    expectClose(g, 0.2310586);
  });

  it('is the product of the even-row and odd-row gradients (DomainBed), the square for one row', () => {
    expectClose(irmPenalty(logits(), labels()), -0.2689414 * 0.7310586);
    expectClose(irmPenalty(tf.tensor2d([[0, 1]]), tf.tensor1d([0], 'int32')), 0.7310586 ** 2);
  });

  it('has the right gradient with respect to the logits (what training differentiates)', () => {
    // Central finite differences of the penalty against its autodiff gradient. (Nested tf.grad
    // through tf.losses.softmaxCrossEntropy gets this wrong in TensorFlow.js 4.22: hence the closed form.)
    const z = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4], [-0.7, 0.9, 0.2], [0.05, 0.6, -1.1]];
    const y = tf.tensor1d([2, 0, 1, 1], 'int32');
    const f = (v: number[][]) => tf.tidy(() => irmPenalty(tf.tensor2d(v), y).dataSync()[0]!);
    const grad = tf.grad((t: tf.Tensor2D) => irmPenalty(t, y))(tf.tensor2d(z)).arraySync() as number[][];
    const h = 1e-3;
    z.forEach((row, i) =>
      row.forEach((_, j) => {
        const plus = z.map((r) => [...r]);
        const minus = z.map((r) => [...r]);
        plus[i]![j]! += h;
        minus[i]![j]! -= h;
        expect(grad[i]![j]!).toBeCloseTo((f(plus) - f(minus)) / (2 * h), 3);
      }),
    );
  });
});

describe('IRM and VREx annealing', () => {
  it('IRM uses weight 1 before the anneal step, lambda from it on, and resets Adam there', async () => {
    const irm = new IRM(new LinearNetwork(2, 2), { ...base, irmLambda: 100, irmPenaltyAnnealIters: 2 });
    const batches = [minibatch([[1, 0], [0, 1]], [0, 0], 0), minibatch([[0, 1], [1, 1]], [1, 0], 1)];
    const t = () => irm.getState().scalars['adam/classifier.weight/t'];
    const results: Array<Record<string, number>> = [];
    for (const [step, weight, adamT] of [[0, 1, 1], [1, 1, 2], [2, 100, 1], [3, 100, 2]] as const) {
      expect(irm.penaltyWeight).toBe(weight);
      const r = await irm.update(batches, step);
      expect(r.loss).toBeCloseTo(r.nll! + weight * r.penalty!, 4);
      expect(t()).toBe(adamT);
      results.push(r);
    }
    // First step, zero weights: logits 0, so every scale gradient (sum_k z_k / K - z_y) is 0, and so
    // is the penalty; the CE is ln 2.
    expect(results[0]!.penalty).toBe(0);
    expect(results[0]!.nll).toBeCloseTo(Math.LN2, 6);
    expect(irm.getState().scalars.updateCount).toBe(4);
  });

  it('VREx penalises the variance of the domain risks', async () => {
    // riskVariance([1, 2, 3]): mean 2, variance (1 + 0 + 1) / 3.
    const { mean, variance } = riskVariance(tf.tensor1d([1, 2, 3]));
    expectClose(mean, 2);
    expectClose(variance, 2 / 3);
    // Bias (1, 0), zero weights: logits (1, 0) everywhere. Domain risks: label 0 -> ln(1 + e^-1) =
    // 0.3132617, label 1 -> 1.3132617, and a domain with one of each -> 0.8132617 (their mean).
    const vrex = new VREx(new LinearNetwork(1, 2, [[0, 0]], [1, 0]), { ...base, vrexLambda: 10, vrexPenaltyAnnealIters: 1 });
    const batches = [minibatch([[0]], [0], 0), minibatch([[0]], [1], 1), minibatch([[0], [0]], [0, 1], 2)];
    const r = await vrex.update(batches, 0);
    // mean 0.8132617; deviations -0.5, 0.5, 0 -> variance 1/6.
    expect(r.nll).toBeCloseTo(0.8132617, 5);
    expect(r.penalty).toBeCloseTo(1 / 6, 5);
    expect(r.loss).toBeCloseTo(0.8132617 + 1 / 6, 5);
    const r2 = await vrex.update(batches, 1);
    expect(r2.loss).toBeCloseTo(r2.nll! + 10 * r2.penalty!, 4);
    expect(vrex.getState().scalars['adam/classifier.bias/t']).toBe(1);
  });
});

describe('GroupDRO', () => {
  it('updates q_i <- q_i exp(eta l_i), normalised', () => {
    // From ones, losses (1, 2, 3), eta 0.1: (e^0.1, e^0.2, e^0.3) / 3.6764325.
    const q = groupDroWeights([1, 1, 1], [1, 2, 3], 0.1);
    [0.3006096, 0.3322249, 0.3671655].forEach((v, i) => expect(q[i]).toBeCloseTo(v, 6));
    // Then losses (3, 2, 1): every q_i e^(0.1 l_i) equals e^0.4 / 3.6764325, so q is uniform again.
    groupDroWeights(q, [3, 2, 1], 0.1).forEach((v) => expect(v).toBeCloseTo(1 / 3, 6));
  });

  it('minimises sum_i q_i l_i with q updated from this step\'s losses, and keeps q in its state', async () => {
    // Logits (1, 0): domain 0 (label 0) loss 0.3132617, domain 1 (label 1) loss 1.3132617.
    // q from ones: (1, e^0.01) / (1 + e^0.01) = (0.4975000, 0.5025000).
    const dro = new GroupDRO(new LinearNetwork(1, 2, [[0, 0]], [1, 0]), { ...base, groupdroEta: 0.01 });
    const r = await dro.update([minibatch([[0]], [0], 0), minibatch([[0]], [1], 1)], 0);
    expect(dro.weights[0]).toBeCloseTo(0.4975, 6);
    expect(dro.weights[1]).toBeCloseTo(0.5025, 6);
    expect(r.loss).toBeCloseTo(0.4975 * 0.3132617 + 0.5025 * 1.3132617, 5);
    expect(r.nll).toBeCloseTo((0.3132617 + 1.3132617) / 2, 5);
    const state = dro.getState();
    expect(state.scalars.q).toEqual(dro.weights);
    const other = new GroupDRO(new LinearNetwork(1, 2), { ...base, groupdroEta: 0.01 });
    other.setState(state);
    expect(other.weights).toEqual(dro.weights);
  });
});
