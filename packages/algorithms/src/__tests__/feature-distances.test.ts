import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORAL, coralDistance, covariance, gaussianMmd, meanOverDomainPairs, MMD, squaredDistances } from '../index.js';
import { expectClose, LinearNetwork, minibatch } from './test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// x: the corners of a 2x2 square; mean (1, 1); centred rows (+-1, +-1) so the covariance (n - 1 = 3)
// is [[4/3, 0], [0, 4/3]]. y: two points (0,0) and (1,1) twice; mean (0.5, 0.5); centred rows
// +-(0.5, 0.5), covariance 4 x 0.25 / 3 = 1/3 in every entry.
const X = [[0, 0], [2, 0], [0, 2], [2, 2]];
const Y = [[0, 0], [1, 1], [0, 0], [1, 1]];

describe('CORAL distance', () => {
  it('computes covariances with n - 1', () => {
    expectClose(covariance(tf.tensor2d(X)), [[4 / 3, 0], [0, 4 / 3]]);
    expectClose(covariance(tf.tensor2d(Y)), [[1 / 3, 1 / 3], [1 / 3, 1 / 3]]);
  });

  it('is the mean squared difference of means plus that of covariances', () => {
    // means: mean((1 - 0.5)^2, (1 - 0.5)^2) = 0.25;
    // covariances: mean((4/3 - 1/3)^2, (0 - 1/3)^2, (0 - 1/3)^2, (4/3 - 1/3)^2) = (2 + 2/9) / 4 = 5/9.
    expectClose(coralDistance(tf.tensor2d(X), tf.tensor2d(Y)), 0.25 + 5 / 9);
    expectClose(coralDistance(tf.tensor2d(X), tf.tensor2d(X)), 0);
  });
});

describe('Gaussian MMD over the seven bandwidths', () => {
  it('clamps squared distances at 1e-30 and expands them correctly', () => {
    expectClose(squaredDistances(tf.tensor2d([[0, 0], [3, 4]]), tf.tensor2d([[0, 1]])), [[1], [18]]);
  });

  it('is 14 - 2 K(1) for the single points 0 and 1', () => {
    // Kxx = Kyy = 7 (distance 0: exp(0) for each bandwidth); Kxy = sum_g exp(-g) = 0.9990005 +
    // 0.9900498 + 0.9048374 + 0.3678794 + 0.0000454 + ~0 + 0 = 3.2618126; MMD = 14 - 6.5236252.
    expectClose(gaussianMmd(tf.tensor2d([[0]]), tf.tensor2d([[1]])), 7.4763748);
  });

  it('averages kernels over all pairs of rows', () => {
    // x = {(0,0)}, y = {(0,1), (0,-1)}: Kxx = 7; Kyy = (7 + 7 + 2 K(4)) / 4 with K(4) = sum_g exp(-4g)
    // = 0.9960080 + 0.9607894 + 0.6703200 + 0.0183156 + ~0 = 2.6454331, so Kyy = 4.8227166;
    // Kxy = K(1) = 3.2618126. MMD = 7 + 4.8227166 - 6.5236252 = 5.2990914.
    expectClose(gaussianMmd(tf.tensor2d([[0, 0]]), tf.tensor2d([[0, 1], [0, -1]])), 5.2990914);
    expectClose(gaussianMmd(tf.tensor2d(X), tf.tensor2d(X)), 0);
  });
});

describe('penalty over pairs of domains', () => {
  it('is the mean of the distance over unordered pairs, 0 for one domain', () => {
    // Squared difference of means: (0,1) -> 1, (0,3) -> 9, (1,3) -> 4; mean 14/3.
    const d = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.squeeze(tf.square(tf.sub(tf.mean(a), tf.mean(b)))) as tf.Scalar;
    expectClose(meanOverDomainPairs([tf.tensor2d([[0]]), tf.tensor2d([[1]]), tf.tensor2d([[3]])], d), 14 / 3);
    expectClose(meanOverDomainPairs([tf.tensor2d([[5]])], d), 0);
  });
});

describe('CORAL and MMD algorithms', () => {
  it('minimise mean CE over domains + mmdGamma x the pairwise penalty on network.featurize', async () => {
    // Linear network with zero weights: logits 0, CE = ln 2 in every domain. Features = inputs.
    const hp = { lr: 1e-3, batchSize: 4, weightDecay: 0, mmdGamma: 2 };
    const coral = new CORAL(new LinearNetwork(2, 2), hp);
    const batches = [minibatch(X, [0, 1, 0, 1], 0), minibatch(Y, [1, 0, 1, 0], 1)];
    const r = await coral.update(batches, 0);
    expect(r.nll).toBeCloseTo(Math.LN2, 6);
    expect(r.penalty).toBeCloseTo(0.25 + 5 / 9, 5);
    expect(r.loss).toBeCloseTo(Math.LN2 + 2 * (0.25 + 5 / 9), 5);

    const mmd = new MMD(new LinearNetwork(1, 2), hp);
    const r2 = await mmd.update([minibatch([[0]], [0]), minibatch([[1]], [1], 1)], 0);
    expect(r2.penalty).toBeCloseTo(7.4763748, 5);
    for (const b of batches) tf.dispose([b.x, b.y]);
  });
});
