import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, type Minibatch } from '@qtdog/core';

/** Concatenates every environment's minibatch (ERM and friends run one forward pass on the pooled batch). */
export function poolMinibatches(minibatches: Minibatch[]): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.concat(minibatches.map((m) => m.x)) as tf.Tensor4D,
    y: tf.concat(minibatches.map((m) => m.y)) as tf.Tensor1D,
  }));
}

/**
 * Splits rows of a pooled tensor (logits, features) back into one part per minibatch. MNIST_CNN and
 * ResNets with GroupNorm/frozen BatchNorm treat every example on its own, so one pooled pass gives
 * the same per-domain values as DomainBed's per-domain passes, faster.
 */
export function splitByMinibatch<T extends tf.Tensor>(pooled: T, minibatches: Minibatch[]): T[] {
  return splitRows(pooled, minibatches.map((m) => m.x.shape[0]));
}

/**
 * tf.split along rows, safe to differentiate with a single part: tfjs hands the gradient of a
 * one-output split to concat as a bare tensor, which throws "Pass at least one tensor to concat"
 * (a single training domain: CORAL, MMD, Mixup). One part is the tensor itself.
 */
export function splitRows<T extends tf.Tensor>(t: T, sizes: number[]): T[] {
  return sizes.length === 1 ? [t] : (tf.split(t, sizes) as T[]);
}

/** Cross-entropy of each minibatch's part of pooled logits, one scalar per domain. */
export function perDomainCrossEntropy(logits: tf.Tensor2D, minibatches: Minibatch[]): tf.Scalar[] {
  const parts = splitByMinibatch(logits, minibatches);
  return parts.map((l, i) => crossEntropy(l, minibatches[i]!.y));
}
