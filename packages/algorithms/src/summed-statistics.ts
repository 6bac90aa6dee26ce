import * as tf from '@tensorflow/tfjs-core';
import type { AllReduce, Minibatch, Network } from '@qtdog/core';
import { perDomainCrossEntropy, poolMinibatches } from './minibatches.js';

/** What a part learns from the exchange, and its share of the loss's gradient. */
export interface SummedLossShare {
  /** Its gradient is this part's share of dF/dθ. */
  surrogate: tf.Scalar;
  /** F at the whole batch's totals. */
  value: number;
  /** Each domain's rows in the whole batch. */
  counts: number[];
  /** The whole batch's sums. */
  sums: Float32Array;
  /** This part's rows over the batch's: the share of F and its terms this part reports. */
  part: number;
}

/**
 * Data-parallel training of a loss F(S, n) whose batch enters only through sums over rows S (CORAL:
 * per-domain feature moments; VREx, GroupDRO: per-domain loss sums) and each domain's row count n.
 * Called inside a part's objective, on the gradient tape: the part's row counts and sums go through
 * `allReduce`, which returns the whole batch's, and the part's surrogate is dF/dS at the totals (a
 * constant) dotted with its own sums. Its gradient is the part's share of dF/dθ; the shares add up
 * to the whole batch's gradient. The exchange holds the counts first, then the sums.
 */
export function shareOfSummedLoss(
  minibatches: Minibatch[],
  partSums: tf.Tensor1D,
  allReduce: AllReduce,
  loss: (sums: tf.Tensor1D, counts: number[]) => tf.Scalar,
): SummedLossShare {
  const domains = minibatches.length;
  const rows = minibatches.map((m) => m.x.shape[0]);
  const partial = new Float32Array(domains + partSums.size);
  partial.set(rows);
  partial.set(partSums.dataSync() as Float32Array, domains);
  const totals = allReduce(partial);
  const counts = Array.from(totals.subarray(0, domains));
  const sums = totals.subarray(domains);
  const { value, grad } = tf.valueAndGrad((s: tf.Tensor) => loss(s as tf.Tensor1D, counts))(tf.tensor1d(sums));
  const surrogate = tf.sum(tf.mul(grad, partSums)) as tf.Scalar;
  const part = rows.reduce((a, b) => a + b, 0) / counts.reduce((a, b) => a + b, 0);
  return { surrogate, value: value.dataSync()[0]!, counts, sums, part };
}

/** Each domain's cross-entropy summed over this part's rows, from the pooled batch's logits. */
export function crossEntropySums(logits: tf.Tensor2D, minibatches: Minibatch[]): tf.Scalar[] {
  return perDomainCrossEntropy(logits, minibatches).map((ce, i) => tf.mul(ce, minibatches[i]!.x.shape[0]) as tf.Scalar);
}

/** Each domain's cross-entropy summed over this part's rows (the sums of VREx and GroupDRO). */
export function domainLossSums(network: Network, minibatches: Minibatch[]): tf.Tensor1D {
  const { x, y } = poolMinibatches(minibatches);
  y.dispose();
  return tf.stack(crossEntropySums(network.predict(x, true), minibatches)) as tf.Tensor1D;
}
