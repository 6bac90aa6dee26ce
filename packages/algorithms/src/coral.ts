import { definePlugin, NetworkToken, type AllReduce, type GradientResult, type Minibatch, type Network } from '@qtdog/core';
import { coralPenaltyFromMoments, domainMoments, momentBlockSize } from './coral-moments.js';
import { coralDistance } from './feature-distances.js';
import { FeatureMatching, FeatureMatchingOptions, featureMatchingHParams } from './feature-matching.js';
import { splitByMinibatch } from './minibatches.js';
import { shareOfSummedLoss } from './summed-statistics.js';

/**
 * Deep CORAL (Sun & Saenko, arXiv 1607.01719): match feature means and covariances across domains.
 *
 * Data-parallel training (`gradientShares`): the penalty depends on the batch only through each
 * domain's row count, feature sum and sum of outer products, which add up over parts. In the middle
 * of its forward pass a part exchanges them for the batch's totals T, then its share of the loss is
 * its rows' cross-entropy, weighted as in the whole batch's mean over domains, plus mmdGamma times
 * dP/dT . T_part: the penalty's gradient at the totals (a constant) dotted with the part's own
 * moments. Summed over the parts, the shares' gradients are the whole batch's gradient.
 */
export class CORAL extends FeatureMatching {
  constructor(network: Network, hparams: FeatureMatchingOptions) {
    super('CORAL', network, hparams, coralDistance);
  }

  /** Row count of each domain, then each domain's Σf and Σ f fᵀ. */
  statisticsSize(minibatches: Minibatch[]): number {
    return minibatches.length * (1 + momentBlockSize(this.network.featureDim));
  }

  gradientShares(minibatches: Minibatch[], _step: number, allReduce: AllReduce): GradientResult {
    return this.featureMatchingShares(minibatches, (features) => {
      const d = features.shape[1];
      const moments = domainMoments(splitByMinibatch(features, minibatches), d);
      return shareOfSummedLoss(minibatches, moments, allReduce, (m, counts) => coralPenaltyFromMoments(m, counts, d));
    });
  }
}

export const coralPlugin = definePlugin({
  kind: 'algorithm',
  name: 'CORAL',
  description: 'Deep CORAL: ERM + mmdGamma x squared differences of feature means and covariances over domain pairs (arXiv 1607.01719)',
  options: FeatureMatchingOptions,
  hparams: featureMatchingHParams,
  async create(options, ctx) {
    return new CORAL(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
