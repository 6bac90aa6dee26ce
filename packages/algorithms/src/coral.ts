import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, definePlugin, NetworkToken, type GradientResult, type Minibatch, type Network } from '@qtdog/core';
import { coralPenaltyFromMoments, domainMoments, momentFeatureWidth } from './coral-moments.js';
import { coralDistance } from './feature-distances.js';
import { FeatureMatching, FeatureMatchingOptions, featureMatchingHParams } from './feature-matching.js';
import { poolMinibatches, splitByMinibatch } from './minibatches.js';
import { objectiveGradients } from './objective.js';

/**
 * Deep CORAL (Sun & Saenko, arXiv 1607.01719): match feature means and covariances across domains.
 *
 * Data-parallel training: the penalty depends on the batch only through each domain's row count,
 * feature sum and sum of outer products, which add up over parts. `partStatistics` returns them for
 * a part; `gradientsGivenStatistics` returns the part's share of the gradient given the totals:
 * its rows' cross-entropy weighted as in the whole batch's mean over domains, plus mmdGamma times
 * dP/dT . T_part, the penalty's gradient with respect to the totals T (a constant) dotted with the
 * part's own moments. The shares sum to the whole batch's gradient.
 */
export class CORAL extends FeatureMatching {
  constructor(network: Network, hparams: FeatureMatchingOptions) {
    super('CORAL', network, hparams, coralDistance);
  }

  /** [row count of each domain, then each domain's Σf and Σ f fᵀ] of this part's features. */
  partStatistics(minibatches: Minibatch[], _step?: number): Float32Array {
    const moments = tf.tidy(() => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const features = this.network.featurize(x, true);
      return domainMoments(splitByMinibatch(features, minibatches), features.shape[1]);
    });
    const out = new Float32Array(minibatches.length + moments.size);
    minibatches.forEach((m, i) => (out[i] = m.x.shape[0]));
    out.set(moments.dataSync() as Float32Array, minibatches.length);
    moments.dispose();
    return out;
  }

  gradientsGivenStatistics(minibatches: Minibatch[], totals: Float32Array, _step?: number): GradientResult {
    const domains = minibatches.length;
    const counts = Array.from(totals.subarray(0, domains));
    const d = momentFeatureWidth(totals.length - domains, domains);
    const totalMoments = tf.tensor1d(totals.subarray(domains));
    // The penalty at the batch's totals and its gradient there: constants for this part.
    const { value, grad } = tf.valueAndGrad((m: tf.Tensor) => coralPenaltyFromMoments(m as tf.Tensor1D, counts, d))(totalMoments);
    totalMoments.dispose();
    const penalty = value.dataSync()[0]!;
    value.dispose();
    const rows = minibatches.reduce((a, m) => a + m.x.shape[0], 0);
    const batchRows = counts.reduce((a, b) => a + b, 0);
    try {
      const result = objectiveGradients((report) => {
        const { x, y } = poolMinibatches(minibatches);
        y.dispose();
        const features = this.network.featurize(x, true);
        const logits = splitByMinibatch(this.network.classify(features, true), minibatches);
        // Each domain's mean over its whole minibatch, averaged over domains: this part's rows count
        // with weight 1 / (n_domain * domains).
        const nll = tf.addN(logits.map((l, i) => tf.mul(crossEntropy(l, minibatches[i]!.y), minibatches[i]!.x.shape[0] / (counts[i]! * domains))));
        const surrogate = tf.sum(tf.mul(grad, domainMoments(splitByMinibatch(features, minibatches), d)));
        report('nll', nll as tf.Scalar);
        return tf.add(nll, tf.mul(surrogate, this.hparams.mmdGamma)) as tf.Scalar;
      }, this.network.params.trainable());
      // Shares that add up over the parts: the penalty is the batch's, split by rows.
      const nll = result.losses.nll!;
      const penaltyShare = (penalty * rows) / batchRows;
      return { grads: result.grads, losses: { nll, penalty: penaltyShare, loss: nll + this.hparams.mmdGamma * penaltyShare } };
    } finally {
      grad.dispose();
    }
  }

  applyGradients(grads: Record<string, tf.Tensor>, _step?: number): void {
    this.optimizer.apply(this.network.params.trainable(), grads);
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
