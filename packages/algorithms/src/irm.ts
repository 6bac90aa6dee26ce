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
import { poolMinibatches, perDomainCrossEntropy, splitByMinibatch } from './minibatches.js';
import { meanOf, objectiveGradients, type Objective } from './objective.js';
import { crossEntropySums, shareOfSummedLoss, type SummedLossShare } from './summed-statistics.js';

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
    const [evenSum, oddSum] = halfSums(scaleGradientPerRow(logits, labels), 0);
    return penaltyFromHalfSums(evenSum, oddSum, n);
  });
}

/** Sums of the per-row gradients over the even and the odd rows, rows counted from `firstRow`. */
function halfSums(rows: tf.Tensor1D, firstRow: number): [tf.Scalar, tf.Scalar] {
  const n = rows.shape[0];
  const even = tf.tensor1d(Array.from({ length: n }, (_, i) => ((firstRow + i) % 2 === 0 ? 1 : 0)));
  return [tf.sum(tf.mul(rows, even)), tf.sum(tf.mul(rows, tf.sub(1, even)))];
}

/** The penalty of a domain of n rows from its half sums (n < 2: the square of the mean). */
function penaltyFromHalfSums(evenSum: tf.Scalar, oddSum: tf.Scalar, n: number): tf.Scalar {
  if (n < 2) return tf.square(evenSum) as tf.Scalar;
  return tf.mul(tf.div(evenSum, Math.ceil(n / 2)), tf.div(oddSum, Math.floor(n / 2))) as tf.Scalar;
}

/** The same penalty in plain numbers, from the exchanged totals (for the reported losses). */
function penaltyValue(evenSum: number, oddSum: number, n: number): number {
  return n < 2 ? evenSum * evenSum : (evenSum / Math.ceil(n / 2)) * (oddSum / Math.floor(n / 2));
}

export const IrmOptions = BaseAlgorithmOptions.extend({
  /** Penalty weight once annealing is over (DomainBed's irm_lambda). */
  irmLambda: z.number().min(0).default(1e2),
  /** Updates with penalty weight 1 before `irmLambda` applies; Adam is reset at this update. */
  irmPenaltyAnnealIters: stepOption(z.number().int().min(0), {
    counts: 'step',
    neverReached: 'the penalty keeps weight 1 for the whole run (irmLambda never applies)',
    // A short run with the default schedule is still a meaningful run: warn, do not refuse.
    severity: 'warn',
  }).default(500),
});
export type IrmOptions = z.output<typeof IrmOptions>;

/**
 * Invariant Risk Minimization (Arjovsky et al., arXiv 1907.02893), IRMv1 as in DomainBed.
 * Data-parallel through `gradientShares`.
 */
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

  /** Per domain: row count, then its cross-entropy sum and the even and odd rows' gradient sums. */
  statisticsSize(minibatches: Minibatch[]): number {
    return 4 * minibatches.length;
  }

  /**
   * Data-parallel: the loss depends on the batch only through each domain's cross-entropy sum and
   * the sums of the per-row dummy-scale gradients over its even and its odd rows, so the parts
   * exchange those (summed-statistics.ts). A part's rows are even or odd by their place in the
   * whole domain minibatch (`firstRow`), so the halves are DomainBed's on any split.
   */
  gradientShares(minibatches: Minibatch[], step: number, allReduce: AllReduce): GradientResult {
    const weight = this.weightAt(step);
    const D = minibatches.length;
    let share: SummedLossShare | undefined;
    const result = objectiveGradients(() => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const logits = this.network.predict(x, true);
      const ceSums = crossEntropySums(logits, minibatches);
      const halves = splitByMinibatch(logits, minibatches).map((l, i) => halfSums(scaleGradientPerRow(l, minibatches[i]!.y), minibatches[i]!.firstRow ?? 0));
      const partSums = tf.stack([...ceSums, ...halves.map((h) => h[0]), ...halves.map((h) => h[1])]) as tf.Tensor1D;
      share = shareOfSummedLoss(minibatches, partSums, allReduce, (sums, counts) => {
        const [ce, even, odd] = tf.split(sums, 3) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const nll = tf.mean(tf.div(ce, tf.tensor1d(counts)));
        const [evens, odds] = [tf.unstack(even) as tf.Scalar[], tf.unstack(odd) as tf.Scalar[]];
        const penalties = counts.map((n, d) => penaltyFromHalfSums(evens[d]!, odds[d]!, n));
        return tf.add(nll, tf.mul(meanOf(penalties), weight)) as tf.Scalar;
      });
      return share.surrogate;
    }, this.network.params.trainable());
    // The batch's terms from the totals, split by rows so that the parts' shares add up.
    const { sums, counts, value, part } = share!;
    const nll = counts.reduce((a, n, d) => a + sums[d]! / n, 0) / D;
    const penalty = counts.reduce((a, n, d) => a + penaltyValue(sums[D + d]!, sums[2 * D + d]!, n), 0) / D;
    return { grads: result.grads, losses: { nll: nll * part, penalty: penalty * part, loss: value * part } };
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
