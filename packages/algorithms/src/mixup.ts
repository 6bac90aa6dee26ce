import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  crossEntropy,
  definePlugin,
  log10Uniform,
  NetworkToken,
  Rng,
  seedHash,
  type GradientResult,
  type Minibatch,
  type Network,
} from '@qtdog/core';
import { sampleBeta } from './beta-sampler.js';
import { ERM } from './erm.js';
import { objectiveGradients, type Objective } from './objective.js';
import { splitRows } from './minibatches.js';

/** DomainBed's random_pairs_of_minibatches: a random cyclic order of the domains, each paired with the next. */
export function randomDomainPairs(n: number, rng: Rng): Array<[number, number]> {
  const perm = rng.permutation(n);
  return Array.from(perm, (d, i) => [d, perm[(i + 1) % n]!] as [number, number]);
}

/**
 * Inter-domain Mixup's loss for given pairs and mixing weights: for each pair (i, j) with weight lam,
 * x = lam x_i + (1 - lam) x_j (rows truncated to the smaller minibatch) and the loss is
 * lam CE(f(x), y_i) + (1 - lam) CE(f(x), y_j); averaged over the pairs. One forward pass for all pairs.
 */
export function mixupObjective(network: Network, minibatches: Minibatch[], pairs: Array<[number, number]>, lams: number[]): Objective {
  return () => {
    const sizes = pairs.map(([i, j]) => Math.min(minibatches[i]!.x.shape[0], minibatches[j]!.x.shape[0]));
    const rows = <T extends tf.Tensor>(t: T, n: number): T => tf.slice(t, 0, n) as T;
    const mixed = pairs.map(([i, j], p) =>
      tf.add(tf.mul(rows(minibatches[i]!.x, sizes[p]!), lams[p]!), tf.mul(rows(minibatches[j]!.x, sizes[p]!), 1 - lams[p]!)),
    );
    const logits = splitRows(network.predict(tf.concat(mixed) as tf.Tensor4D, true) as tf.Tensor2D, sizes);
    const terms = pairs.map(([i, j], p) =>
      tf.add(
        tf.mul(crossEntropy(logits[p]!, rows(minibatches[i]!.y, sizes[p]!)), lams[p]!),
        tf.mul(crossEntropy(logits[p]!, rows(minibatches[j]!.y, sizes[p]!)), 1 - lams[p]!),
      ),
    );
    return tf.div(tf.addN(terms), pairs.length) as tf.Scalar;
  };
}

export const MixupOptions = BaseAlgorithmOptions.extend({
  /** Mixing weights ~ Beta(alpha, alpha) (DomainBed's mixup_alpha). */
  mixupAlpha: z.number().positive().default(0.2),
});
export type MixupOptions = z.output<typeof MixupOptions>;

/**
 * Inter-domain Mixup (arXiv 2001.00677 and 1912.01805, the papers DomainBed cites) as in DomainBed.
 * Pairs and weights are drawn from an Rng seeded by (plugin seed, step): every data-parallel worker
 * draws the same ones, so the loss stays a mean of per-example terms and the gradient can be split
 * across workers; resuming repeats the same draws.
 */
export class Mixup extends ERM {
  override readonly name = 'Mixup';

  constructor(
    network: Network,
    protected override readonly hparams: MixupOptions,
    private readonly seed: number,
  ) {
    super(network, hparams);
  }

  /** The pairs and mixing weights of a step. */
  draw(numDomains: number, step: number): { pairs: Array<[number, number]>; lams: number[] } {
    const rng = new Rng(seedHash(this.seed, 'mixup', step));
    const pairs = randomDomainPairs(numDomains, rng);
    return { pairs, lams: pairs.map(() => sampleBeta(rng, this.hparams.mixupAlpha, this.hparams.mixupAlpha)) };
  }

  override computeGradients(minibatches: Minibatch[], step = 0): GradientResult {
    const { pairs, lams } = this.draw(minibatches.length, step);
    return objectiveGradients(mixupObjective(this.network, minibatches, pairs, lams), this.network.params.trainable());
  }
}

export const mixupPlugin = definePlugin({
  kind: 'algorithm',
  name: 'Mixup',
  description: 'Inter-domain Mixup: mix minibatches of random domain pairs with lambda ~ Beta(alpha, alpha) (arXiv 2001.00677)',
  options: MixupOptions,
  hparams: { ...baseAlgorithmHParams, mixupAlpha: log10Uniform(-1, 1) },
  async create(options, ctx) {
    return new Mixup(await ctx.container.getAsync<Network>(NetworkToken), options, ctx.seed);
  },
});
