import { definePlugin, NetworkToken, type Network } from '@qtdog/core';
import { coralDistance } from './feature-distances.js';
import { FeatureMatching, FeatureMatchingOptions, featureMatchingHParams } from './feature-matching.js';

/** Deep CORAL (Sun & Saenko, arXiv 1607.01719): match feature means and covariances across domains. */
export class CORAL extends FeatureMatching {
  constructor(network: Network, hparams: FeatureMatchingOptions) {
    super('CORAL', network, hparams, coralDistance);
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
