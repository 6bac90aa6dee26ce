import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { BaseAlgorithmOptions, baseAlgorithmHParams, log10Uniform, type Minibatch, type Network } from '@qtdog/core';
import { AdamAlgorithm } from './adam-algorithm.js';
import { meanOverDomainPairs, type FeatureDistance } from './feature-distances.js';
import { poolMinibatches, perDomainCrossEntropy, splitByMinibatch } from './minibatches.js';
import { meanOf, type Objective } from './objective.js';

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
}
