import { definePlugin, NetworkToken, type Network } from '@qtdog/core';
import { gaussianMmd } from './feature-distances.js';
import { FeatureMatching, FeatureMatchingOptions, featureMatchingHParams } from './feature-matching.js';

/**
 * MMD feature matching (Li et al., "Domain Generalization with Adversarial Feature Learning", CVPR
 * 2018, as DomainBed's MMD): Gaussian-kernel MMD summed over seven bandwidths, over domain pairs.
 */
export class MMD extends FeatureMatching {
  constructor(network: Network, hparams: FeatureMatchingOptions) {
    super('MMD', network, hparams, gaussianMmd);
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
