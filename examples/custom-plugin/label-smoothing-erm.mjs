// LabelSmoothingERM: ERM whose cross-entropy targets are smoothed (Szegedy et al., "Rethinking the
// Inception Architecture", arXiv 1512.00567, section 7). With K classes and smoothing e, the target
// of an example of class c is (1 - e) on c plus e / K on every class, so the model is never pushed
// towards infinitely confident logits: a mild regularizer that often helps on unseen domains.
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs-core';
import {
  Adam,
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  definePlugin,
  disposeAll,
  gradientsOf,
  NetworkToken,
  uniform,
} from '@qtdog/core';

// Options = every algorithm's lr, batchSize, weightDecay (BaseAlgorithmOptions, DomainBed's
// defaults) plus our own key. Each key has a default, so a config may name only `type:`. The range
// check is what turns `smoothing: 1.5` into a one-line config error naming `algorithm.smoothing`.
export const LabelSmoothingOptions = BaseAlgorithmOptions.extend({
  /** Probability mass spread uniformly over all classes (0 = plain ERM). Must stay below 1. */
  smoothing: z.number().min(0).lt(1).default(0.1),
});

/**
 * Mean label-smoothed cross-entropy of logits against integer labels, and the plain cross-entropy
 * (nll) next to it for the record. Written with functional tf ops only (chained ops are not
 * registered when only @tensorflow/tfjs-core is loaded).
 */
export function labelSmoothedCrossEntropy(logits, labels, smoothing) {
  const k = logits.shape[1];
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(labels, k);
  const target = tf.add(tf.mul(onehot, 1 - smoothing), smoothing / k);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, logp), 1)));
  const nll = tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1)));
  return { loss, nll };
}

/**
 * Implements the Algorithm interface of @qtdog/core (packages/core/src/api/algorithm.ts):
 * `update(minibatches, step)` takes one optimizer step and returns its loss terms, `predict(x)`
 * gives logits. The loss is a mean of per-example terms, so it also offers the optional
 * computeGradients/applyGradients split, which lets `train.workers` > 1 run it data-parallel.
 */
export class LabelSmoothingERM {
  name = 'LabelSmoothingERM';

  constructor(network, options) {
    this.network = network;
    this.smoothing = options.smoothing;
    // Adam keyed by parameter name: parameters that appear later (LSQ's step sizes) get fresh
    // state while the weights keep theirs, which is what QT-DoG needs at the quantizer's switch.
    this.optimizer = new Adam({ lr: options.lr, weightDecay: options.weightDecay });
  }

  async update(minibatches, step) {
    const { losses, grads } = this.computeGradients(minibatches, step);
    this.applyGradients(grads, step);
    disposeAll(grads);
    return losses;
  }

  computeGradients(minibatches) {
    // Taken over the parameters trainable NOW: once a quantizer switches on, its step sizes are in
    // this list and train with the weights. Never cache this list in the constructor.
    const params = this.network.params.trainable();
    let nll;
    const { value, grads } = gradientsOf(() => {
      // Pool the training environments' minibatches into one batch, as DomainBed's ERM does.
      const x = tf.concat(minibatches.map((m) => m.x));
      const y = tf.concat(minibatches.map((m) => m.y));
      const terms = labelSmoothedCrossEntropy(this.network.predict(x, true), y, this.smoothing);
      nll = tf.keep(terms.nll); // survives the gradient's tidy; disposed below
      return terms.loss;
    }, params);
    const losses = { loss: value.dataSync()[0], nll: nll.dataSync()[0] };
    tf.dispose([value, nll]);
    return { losses, grads };
  }

  applyGradients(grads) {
    this.optimizer.apply(this.network.params.trainable(), grads);
  }

  predict(x) {
    return this.network.predict(x, false);
  }

  // Optimizer moments go into checkpoints, so a killed run resumes exactly.
  getState() {
    return this.optimizer.getState();
  }

  setState(state) {
    this.optimizer.setState(state);
  }

  dispose() {
    this.optimizer.dispose();
  }
}

export const labelSmoothingErmPlugin = definePlugin({
  kind: 'algorithm',
  name: 'LabelSmoothingERM',
  description: 'ERM with label-smoothed cross-entropy: targets (1 - smoothing) one-hot + smoothing / K (arXiv 1512.00567; example plugin)',
  options: LabelSmoothingOptions,
  // Random-search distributions for `qtdog sweep` draws > 0 (shown by `qtdog list` as `search ...`).
  hparams: { ...baseAlgorithmHParams, smoothing: uniform(0, 0.2) },
  async create(options, ctx) {
    // The network is resolved from the run's container: the algorithm never builds it, so any
    // network plugin (and any quantizer attached to it) works with this algorithm.
    return new LabelSmoothingERM(await ctx.container.getAsync(NetworkToken), options);
  },
});
