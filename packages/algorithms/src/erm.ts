import type * as tf from '@tensorflow/tfjs-core';
import {
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  crossEntropy,
  definePlugin,
  NetworkToken,
  type GradientResult,
  type Minibatch,
  type Network,
} from '@qtdog/core';
import { AdamAlgorithm } from './adam-algorithm.js';
import { poolMinibatches } from './minibatches.js';
import { objectiveGradients, type Objective } from './objective.js';

/** ERM's objective: mean cross-entropy over the pooled minibatches (also what SAM perturbs). */
export function pooledCrossEntropy(network: Network, minibatches: Minibatch[]): Objective {
  return () => {
    const { x, y } = poolMinibatches(minibatches);
    return crossEntropy(network.predict(x, true), y);
  };
}

/**
 * Empirical Risk Minimization (Vapnik, 1998): minimise the mean cross-entropy over the pooled
 * minibatches of all training environments.
 */
export class ERM extends AdamAlgorithm {
  readonly name: string = 'ERM';

  constructor(network: Network, hparams: BaseAlgorithmOptions) {
    super(network, hparams);
  }

  async update(minibatches: Minibatch[], step: number): Promise<Record<string, number>> {
    const { losses, grads } = this.computeGradients(minibatches, step);
    this.applyGradients(grads, step);
    for (const g of Object.values(grads)) g.dispose();
    return losses;
  }

  /** Mean cross-entropy over the pooled batch: a mean of per-example terms (data-parallel safe). */
  computeGradients(minibatches: Minibatch[], _step?: number): GradientResult {
    // Taken at every step: parameters a quantizer added since the last step are included.
    return objectiveGradients(pooledCrossEntropy(this.network, minibatches), this.network.params.trainable());
  }
}

export const ermPlugin = definePlugin({
  kind: 'algorithm',
  name: 'ERM',
  description: 'Empirical Risk Minimization on the pooled minibatches (DomainBed baseline)',
  options: BaseAlgorithmOptions,
  hparams: baseAlgorithmHParams,
  async create(options, ctx) {
    return new ERM(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
