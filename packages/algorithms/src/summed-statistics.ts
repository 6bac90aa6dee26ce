import * as tf from '@tensorflow/tfjs-core';
import type { AllReduce } from '@qtdog/core';

/**
 * Data-parallel training of a loss F(T) whose batch enters only through sums over rows, T (CORAL:
 * per-domain feature moments; VREx: per-domain loss sums). Called inside a part's objective, on the
 * gradient tape: this part's sums go through `allReduce`, which returns the whole batch's totals,
 * and the part's surrogate is dF/dT at the totals (a constant) dotted with its own sums. Its
 * gradient is the part's share of dF/dθ; the shares add up to the whole batch's gradient. Entries
 * that do not depend on the weights (row counts) may ride along: they get no gradient.
 */
export function shareOfSummedLoss(
  partSums: tf.Tensor1D,
  allReduce: AllReduce,
  loss: (totals: tf.Tensor1D, values: Float32Array) => tf.Scalar,
): { surrogate: tf.Scalar; value: number; totals: Float32Array } {
  const totals = allReduce(partSums.dataSync() as Float32Array);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => loss(t as tf.Tensor1D, totals))(tf.tensor1d(totals));
  const surrogate = tf.sum(tf.mul(grad, partSums)) as tf.Scalar;
  return { surrogate, value: value.dataSync()[0]!, totals };
}
