import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  definePlugin,
  log10Uniform,
  NetworkToken,
  stepOption,
  type AllReduce,
  type GradientResult,
  type Minibatch,
  type Network,
} from '@qtdog/core';
import { AnnealedPenaltyAlgorithm } from './annealed-penalty.js';
import { log10UniformInt } from './hparams.js';
import { poolMinibatches, perDomainCrossEntropy } from './minibatches.js';
import { objectiveGradients, type Objective } from './objective.js';
import { domainLossSums, shareOfSummedLoss, type SummedLossShare } from './summed-statistics.js';

/** Mean of the per-domain risks and their variance (population variance: mean squared deviation). */
export function riskVariance(risks: tf.Tensor1D): { mean: tf.Scalar; variance: tf.Scalar } {
  return tf.tidy(() => {
    const mean = tf.mean(risks) as tf.Scalar;
    return { mean, variance: tf.mean(tf.square(tf.sub(risks, mean))) as tf.Scalar };
  });
}

export const VrexOptions = BaseAlgorithmOptions.extend({
  /** Weight of the variance of risks once annealing is over (DomainBed's vrex_lambda). */
  vrexLambda: z.number().min(0).default(1e1),
  /** Updates with penalty weight 1 before `vrexLambda` applies; Adam is reset at this update. */
  vrexPenaltyAnnealIters: stepOption(z.number().int().min(0), {
    counts: 'step',
    neverReached: 'the penalty keeps weight 1 for the whole run (vrexLambda never applies)',
    // A short run with the default schedule is still a meaningful run: warn, do not refuse.
    severity: 'warn',
  }).default(500),
});
export type VrexOptions = z.output<typeof VrexOptions>;

/**
 * Variance Risk Extrapolation, V-REx (Krueger et al., arXiv 2003.00688): mean risk + lambda x variance
 * of the domain risks. Data-parallel: the risks are per-domain loss sums over row counts, so the
 * parts exchange those sums (`gradientShares`, see summed-statistics.ts).
 */
export class VREx extends AnnealedPenaltyAlgorithm {
  readonly name = 'VREx';

  constructor(network: Network, hparams: VrexOptions) {
    super(network, hparams, hparams.vrexLambda, hparams.vrexPenaltyAnnealIters);
  }

  protected objective(minibatches: Minibatch[], penaltyWeight: number): Objective {
    return (report) => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const risks = tf.stack(perDomainCrossEntropy(this.network.predict(x, true), minibatches)) as tf.Tensor1D;
      const { mean, variance } = riskVariance(risks);
      report('nll', mean);
      report('penalty', variance);
      return tf.add(mean, tf.mul(variance, penaltyWeight)) as tf.Scalar;
    };
  }

  /** Row count and loss sum of each domain. */
  statisticsSize(minibatches: Minibatch[]): number {
    return 2 * minibatches.length;
  }

  gradientShares(minibatches: Minibatch[], step: number, allReduce: AllReduce): GradientResult {
    const weight = this.weightAt(step);
    let share: SummedLossShare | undefined;
    const result = objectiveGradients(() => {
      share = shareOfSummedLoss(minibatches, domainLossSums(this.network, minibatches), allReduce, (sums, counts) => {
        const { mean, variance } = riskVariance(tf.div(sums, tf.tensor1d(counts)) as tf.Tensor1D);
        return tf.add(mean, tf.mul(variance, weight)) as tf.Scalar;
      });
      return share.surrogate;
    }, this.network.params.trainable());
    // The batch's terms from the totals, split by rows so that the parts' shares add up.
    const { sums, counts, value, part } = share!;
    const risks = counts.map((n, i) => sums[i]! / n);
    const mean = risks.reduce((a, b) => a + b, 0) / risks.length;
    const variance = risks.reduce((a, r) => a + (r - mean) ** 2, 0) / risks.length;
    return { grads: result.grads, losses: { nll: mean * part, penalty: variance * part, loss: value * part } };
  }
}

export const vrexPlugin = definePlugin({
  kind: 'algorithm',
  name: 'VREx',
  description: 'V-REx: mean domain risk + lambda x variance of the domain risks, annealed (arXiv 2003.00688)',
  options: VrexOptions,
  hparams: { ...baseAlgorithmHParams, vrexLambda: log10Uniform(-1, 5), vrexPenaltyAnnealIters: log10UniformInt(0, 4) },
  async create(options, ctx) {
    return new VREx(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
