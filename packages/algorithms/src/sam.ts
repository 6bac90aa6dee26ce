import { z } from 'zod';
import { BaseAlgorithmOptions, baseAlgorithmHParams, choice, definePlugin, NetworkToken, type Minibatch, type Network } from '@qtdog/core';
import { ERM, pooledCrossEntropy } from './erm.js';

export const SamOptions = BaseAlgorithmOptions.extend({
  /** Radius of the ascent step e = rho g / ||g||. */
  rho: z.number().positive().default(0.05),
});
export type SamOptions = z.output<typeof SamOptions>;

/**
 * Sharpness-Aware Minimization (Foret et al., arXiv 2010.01412) around ERM's objective: Adam steps
 * with the gradient taken at w + rho g/||g|| (two forward and backward passes per step). `samStep`
 * wraps other algorithms' objectives the same way (see the package README). Data-parallel training
 * splits both passes: ERM's `computeGradients` is the plain gradient, and `sharpnessRadius` tells
 * the trainer to perturb with the whole batch's averaged gradient between them.
 */
export class SAM extends ERM {
  override readonly name = 'SAM';

  constructor(
    network: Network,
    protected override readonly hparams: SamOptions,
  ) {
    super(network, hparams);
  }

  get sharpnessRadius(): number {
    return this.hparams.rho;
  }

  override async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    return this.minimise(pooledCrossEntropy(this.network, minibatches), this.hparams.rho);
  }
}

export const samPlugin = definePlugin({
  kind: 'algorithm',
  name: 'SAM',
  description: 'Sharpness-Aware Minimization around ERM: gradient at w + rho g/||g||, two passes per step (arXiv 2010.01412)',
  options: SamOptions,
  hparams: { ...baseAlgorithmHParams, rho: choice([0.01, 0.02, 0.05, 0.1]) },
  async create(options, ctx) {
    return new SAM(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
