import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../api/network.js';

/**
 * Value and gradients of a scalar loss with respect to the given parameters, keyed by parameter name
 * (tf variable names carry a per-model prefix so two models can live in one process).
 * The caller disposes `value` and the gradients.
 */
export function gradientsOf(loss: () => tf.Scalar, params: Param[]): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const { value, grads } = tf.variableGrads(loss, params.map((p) => p.variable));
  const byName: Record<string, tf.Tensor> = {};
  for (const p of params) {
    const g = grads[p.variable.name];
    if (g) byName[p.name] = g;
  }
  // Gradients of variables that are not ours (none expected) are released.
  const ours = new Set(params.map((p) => p.variable.name));
  for (const [k, g] of Object.entries(grads)) if (!ours.has(k)) g.dispose();
  return { value, grads: byName };
}

export function disposeAll(tensors: Record<string, tf.Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

/** Mean softmax cross-entropy of logits against integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar);
}
