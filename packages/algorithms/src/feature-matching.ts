import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { BaseAlgorithmOptions, baseAlgorithmHParams, log10Uniform, type GradientResult, type Minibatch, type Network } from '@qtdog/core';
import { AdamAlgorithm } from './adam-algorithm.js';
import { meanOverDomainPairs, type FeatureDistance } from './feature-distances.js';
import { poolMinibatches, perDomainCrossEntropy, splitByMinibatch } from './minibatches.js';
import { meanOf, objectiveGradients, type Objective } from './objective.js';
import type { SummedLossShare } from './summed-statistics.js';

export const FeatureMatchingOptions = BaseAlgorithmOptions.extend({
  /** Weight of the feature-matching penalty (DomainBed's mmd_gamma). */
  mmdGamma: z.number().min(0).default(1),
});
export type FeatureMatchingOptions = z.output<typeof FeatureMatchingOptions>;

export const featureMatchingHParams = { ...baseAlgorithmHParams, mmdGamma: log10Uniform(-1, 1) };

/**
 * DomainBed's AbstractMMD: ERM on every domain plus `mmdGamma` times a distance between the
 * features of every pair of training domains, averaged over the pairs. CORAL and MMD differ only in
 * the distance. Both train data-parallel: CORAL exchanges per-domain moments, which add up over
 * parts; MMD's kernel couples every pair of rows, so it gathers the batch's features (mmd.ts).
 */
export class FeatureMatching extends AdamAlgorithm {
  constructor(
    readonly name: string,
    network: Network,
    protected override readonly hparams: FeatureMatchingOptions,
    private readonly distance: FeatureDistance,
  ) {
    super(network, hparams);
  }

  /** Mean cross-entropy over domains + mmdGamma * mean pairwise distance; reports nll and penalty. */
  objective(minibatches: Minibatch[]): Objective {
    return (report) => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const features = this.network.featurize(x, true);
      const nll = meanOf(perDomainCrossEntropy(this.network.classify(features, true), minibatches));
      const penalty = meanOverDomainPairs(splitByMinibatch(features, minibatches), this.distance);
      report('nll', nll);
      report('penalty', penalty);
      return tf.add(nll, tf.mul(penalty, this.hparams.mmdGamma)) as tf.Scalar;
    };
  }

  async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    return this.minimise(this.objective(minibatches));
  }

  /**
   * A data-parallel part's share of the loss (CORAL's and MMD's `gradientShares`): its rows'
   * cross-entropy, weighted as in the whole batch's mean over domains, plus mmdGamma times the
   * penalty's share that `penaltyShare` gets from the part's features through the exchange. The
   * reported penalty and loss are the batch's, split by rows, so that the parts' shares add up.
   */
  protected featureMatchingShares(minibatches: Minibatch[], penaltyShare: (features: tf.Tensor2D) => SummedLossShare): GradientResult {
    const domains = minibatches.length;
    let share: SummedLossShare | undefined;
    const result = objectiveGradients((report) => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const features = this.network.featurize(x, true);
      share = penaltyShare(features);
      const { counts } = share;
      // Each domain's mean over its whole minibatch, averaged over domains: this part's rows count
      // with weight 1 / (n_domain * domains).
      const ce = perDomainCrossEntropy(this.network.classify(features, true), minibatches);
      const nll = tf.addN(ce.map((l, i) => tf.mul(l, minibatches[i]!.x.shape[0] / (counts[i]! * domains))));
      report('nll', nll as tf.Scalar);
      return tf.add(nll, tf.mul(share.surrogate, this.hparams.mmdGamma)) as tf.Scalar;
    }, this.network.params.trainable());
    const nll = result.losses.nll!;
    const penalty = share!.value * share!.part;
    return { grads: result.grads, losses: { nll, penalty, loss: nll + this.hparams.mmdGamma * penalty } };
  }
}
