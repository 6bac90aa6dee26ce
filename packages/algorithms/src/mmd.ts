import * as tf from '@tensorflow/tfjs-core';
import { definePlugin, NetworkToken, type AllReduce, type GradientResult, type Minibatch, type Network } from '@qtdog/core';
import { gaussianMmd, meanOverDomainPairs } from './feature-distances.js';
import { FeatureMatching, FeatureMatchingOptions, featureMatchingHParams } from './feature-matching.js';
import { splitByMinibatch, splitRows } from './minibatches.js';
import { shareOfSummedLoss } from './summed-statistics.js';

/**
 * MMD feature matching (Li et al., "Domain Generalization with Adversarial Feature Learning", CVPR
 * 2018, as DomainBed's MMD): Gaussian-kernel MMD summed over seven bandwidths, over domain pairs.
 *
 * Data-parallel training (`gradientShares`): the kernel couples every pair of rows, so the parts
 * gather the whole batch's features. A part writes its rows' features at their places in the
 * batch (domain by domain, from its `firstRow`) into an otherwise zero array, and the exchange's
 * sum of those arrays is the batch's feature matrix. The penalty's gradient at that matrix is a
 * constant; dotted with the part's own placed features it gives the part's share, and the shares
 * add up to the whole batch's gradient. Each part computes the penalty on the whole batch: at
 * DomainBed's batch (5 x 32 rows of 128 features) that is small beside the network.
 */
export class MMD extends FeatureMatching {
  constructor(network: Network, hparams: FeatureMatchingOptions) {
    super('MMD', network, hparams, gaussianMmd);
  }

  /** The larger exchange: each domain's row count, then every row's features. */
  statisticsSize(minibatches: Minibatch[]): number {
    const rows = minibatches.reduce((a, m) => a + m.x.shape[0], 0);
    return minibatches.length + rows * this.network.featureDim;
  }

  gradientShares(minibatches: Minibatch[], _step: number, allReduce: AllReduce): GradientResult {
    const domains = minibatches.length;
    const rows = minibatches.map((m) => m.x.shape[0]);
    // First exchange: the batch's rows per domain, which place every part's rows.
    const counts = Array.from(allReduce(Float32Array.from(rows)));
    const total = counts.reduce((a, b) => a + b, 0);
    return this.featureMatchingShares(minibatches, (features) => {
      const dim = features.shape[1];
      let start = 0;
      const placed = splitByMinibatch(features, minibatches).map((f, d) => {
        const before = start + (minibatches[d]!.firstRow ?? 0);
        start += counts[d]!;
        return tf.pad(f, [[before, total - before - rows[d]!], [0, 0]]);
      });
      const mine = tf.reshape(placed.length === 1 ? placed[0]! : tf.addN(placed), [-1]) as tf.Tensor1D;
      return shareOfSummedLoss(minibatches, mine, allReduce, (all, n) => {
        if (domains < 2) return tf.mul(tf.sum(all), 0) as tf.Scalar; // no pairs: keep a gradient path
        return meanOverDomainPairs(splitRows(tf.reshape(all, [total, dim]) as tf.Tensor2D, n), gaussianMmd);
      });
    });
  }
}

export const mmdPlugin = definePlugin({
  kind: 'algorithm',
  name: 'MMD',
  description: 'ERM + mmdGamma x Gaussian-kernel MMD (bandwidths 1e-3..1e3) between the features of domain pairs (Li et al., CVPR 2018)',
  options: FeatureMatchingOptions,
  hparams: featureMatchingHParams,
  async create(options, ctx) {
    return new MMD(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
