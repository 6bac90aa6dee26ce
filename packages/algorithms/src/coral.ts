import * as tf from '@tensorflow/tfjs-core';
import { definePlugin, NetworkToken, type AllReduce, type GradientResult, type Minibatch, type Network } from '@qtdog/core';
import { coralPenaltyFromMoments, domainMoments, momentBlockSize } from './coral-moments.js';
import { coralDistance } from './feature-distances.js';
import { FeatureMatching, FeatureMatchingOptions, featureMatchingHParams } from './feature-matching.js';
import { perDomainCrossEntropy, poolMinibatches, splitByMinibatch } from './minibatches.js';
import { objectiveGradients } from './objective.js';
import { shareOfSummedLoss, type SummedLossShare } from './summed-statistics.js';

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
    const domains = minibatches.length;
    let share: SummedLossShare | undefined;
    const result = objectiveGradients((report) => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const features = this.network.featurize(x, true);
      const d = features.shape[1];
      const moments = domainMoments(splitByMinibatch(features, minibatches), d);
      share = shareOfSummedLoss(minibatches, moments, allReduce, (m, counts) => coralPenaltyFromMoments(m, counts, d));
      const { counts } = share;
      // Each domain's mean over its whole minibatch, averaged over domains: this part's rows count
      // with weight 1 / (n_domain * domains).
      const ce = perDomainCrossEntropy(this.network.classify(features, true), minibatches);
      const nll = tf.addN(ce.map((l, i) => tf.mul(l, minibatches[i]!.x.shape[0] / (counts[i]! * domains))));
      report('nll', nll as tf.Scalar);
      return tf.add(nll, tf.mul(share.surrogate, this.hparams.mmdGamma)) as tf.Scalar;
    }, this.network.params.trainable());
    // Shares that add up over the parts: the penalty is the batch's, split by rows.
    const nll = result.losses.nll!;
    const penaltyShare = share!.value * share!.part;
    return { grads: result.grads, losses: { nll, penalty: penaltyShare, loss: nll + this.hparams.mmdGamma * penaltyShare } };
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
