import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { BaseAlgorithmOptions, baseAlgorithmHParams, choice, crossEntropy, definePlugin, disposeAll, NetworkToken, type Minibatch, type Network } from '@qtdog/core';
import { AdamAlgorithm } from './adam-algorithm.js';
import { objectiveGradients } from './objective.js';

export const FishOptions = BaseAlgorithmOptions.extend({
  /** Step of the meta update w += metaLr * (w_inner - w) (DomainBed's meta_lr). */
  metaLr: z.number().positive().default(0.5),
});
export type FishOptions = z.output<typeof FishOptions>;

/**
 * Fish (Shi et al., "Gradient Matching for Domain Generalization", arXiv 2104.09937) as DomainBed:
 * from a copy of the weights, one inner Adam step per training domain in turn, then the meta update
 * w <- w + metaLr (w_inner - w). The inner Adam's state carries over between steps (DomainBed keeps
 * `optimizer_inner_state`); it is this algorithm's only optimizer. Sequential by nature: no
 * data-parallel split.
 */
export class Fish extends AdamAlgorithm {
  readonly name = 'Fish';

  constructor(
    network: Network,
    protected override readonly hparams: FishOptions,
  ) {
    super(network, hparams);
  }

  async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    const params = this.network.params.trainable();
    // The meta weights: a copy taken before the inner loop (the inner loop runs on the network itself).
    const meta = params.map((p) => tf.clone(p.variable));
    let lossSum = 0;
    try {
      for (const m of minibatches) {
        const { losses, grads } = objectiveGradients(() => crossEntropy(this.network.predict(m.x, true), m.y), params);
        this.optimizer.apply(params, grads);
        disposeAll(grads);
        lossSum += losses.loss!;
      }
      const lr = this.hparams.metaLr;
      params.forEach((p, i) => {
        tf.tidy(() => p.variable.assign(tf.add(meta[i]!, tf.mul(tf.sub(p.variable, meta[i]!), lr))));
      });
    } finally {
      tf.dispose(meta);
    }
    return { loss: lossSum / minibatches.length };
  }
}

export const fishPlugin = definePlugin({
  kind: 'algorithm',
  name: 'Fish',
  description: 'Fish: sequential inner Adam steps over the domains, then w += metaLr (w_inner - w) (arXiv 2104.09937)',
  options: FishOptions,
  hparams: { ...baseAlgorithmHParams, metaLr: choice([0.05, 0.1, 0.5]) },
  async create(options, ctx) {
    return new Fish(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
