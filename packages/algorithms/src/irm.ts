import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { BaseAlgorithmOptions, baseAlgorithmHParams, definePlugin, log10Uniform, NetworkToken, type Minibatch, type Network } from '@qtdog/core';
import { AnnealedPenaltyAlgorithm } from './annealed-penalty.js';
import { log10UniformInt } from './hparams.js';
import { poolMinibatches, perDomainCrossEntropy, splitByMinibatch } from './minibatches.js';
import { meanOf, type Objective } from './objective.js';

/**
 * Per row, d/dw CE(w * z, y) at w = 1 in closed form: sum_k softmax(z)_k z_k - z_y. IRM's penalty is
 * built from these, and training differentiates it once more with respect to the weights. The closed
 * form needs only first-order autodiff: TensorFlow.js gets the second-order gradient through
 * `tf.losses.softmaxCrossEntropy` (a customGrad op) wrong, so DomainBed's
 * autograd.grad(create_graph=True) cannot be copied literally.
 */
function scaleGradientPerRow(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const expected = tf.sum(tf.mul(tf.softmax(logits), logits), 1);
    const picked = tf.sum(tf.mul(tf.oneHot(labels, logits.shape[1]), logits), 1);
    return tf.sub(expected, picked) as tf.Tensor1D;
  });
}

/** d/dw CE(w * logits, y) at w = 1 for the mean cross-entropy: the mean of the per-row gradients. */
export function irmScaleGradient(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(scaleGradientPerRow(logits, labels)) as tf.Scalar);
}

/**
 * IRMv1's penalty as DomainBed computes it: the product of the dummy-scale gradients of the even
 * and the odd rows, an unbiased estimate of the squared gradient (it can be negative). A batch of
 * one row falls back to the plain square. The halves are taken with masks, not gathers: the
 * gradient of tf.gather needs UnsortedSegmentSum, which the wasm backend lacks.
 */
export function irmPenalty(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const n = logits.shape[0];
    const rows = scaleGradientPerRow(logits, labels);
    if (n < 2) return tf.square(tf.mean(rows)) as tf.Scalar;
    const even = tf.tensor1d(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0)));
    const g1 = tf.div(tf.sum(tf.mul(rows, even)), Math.ceil(n / 2));
    const g2 = tf.div(tf.sum(tf.mul(rows, tf.sub(1, even))), Math.floor(n / 2));
    return tf.mul(g1, g2) as tf.Scalar;
  });
}

export const IrmOptions = BaseAlgorithmOptions.extend({
  /** Penalty weight once annealing is over (DomainBed's irm_lambda). */
  irmLambda: z.number().min(0).default(1e2),
  /** Updates with penalty weight 1 before `irmLambda` applies; Adam is reset at this update. */
  irmPenaltyAnnealIters: z.number().int().min(0).default(500),
});
export type IrmOptions = z.output<typeof IrmOptions>;

/** Invariant Risk Minimization (Arjovsky et al., arXiv 1907.02893), IRMv1 as in DomainBed. */
export class IRM extends AnnealedPenaltyAlgorithm {
  readonly name = 'IRM';

  constructor(network: Network, hparams: IrmOptions) {
    super(network, hparams, hparams.irmLambda, hparams.irmPenaltyAnnealIters);
  }

  /** Mean CE over domains + weight * mean IRM penalty over domains (DomainBed does not rescale by the weight). */
  protected objective(minibatches: Minibatch[], penaltyWeight: number): Objective {
    return (report) => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const logits = this.network.predict(x, true);
      const nll = meanOf(perDomainCrossEntropy(logits, minibatches));
      const penalty = meanOf(splitByMinibatch(logits, minibatches).map((l, i) => irmPenalty(l, minibatches[i]!.y)));
      report('nll', nll);
      report('penalty', penalty);
      return tf.add(nll, tf.mul(penalty, penaltyWeight)) as tf.Scalar;
    };
  }
}

export const irmPlugin = definePlugin({
  kind: 'algorithm',
  name: 'IRM',
  description: 'Invariant Risk Minimization (IRMv1): CE + lambda x squared gradient wrt a dummy classifier scale, annealed (arXiv 1907.02893)',
  options: IrmOptions,
  hparams: { ...baseAlgorithmHParams, irmLambda: log10Uniform(-1, 5), irmPenaltyAnnealIters: log10UniformInt(0, 4) },
  async create(options, ctx) {
    return new IRM(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
