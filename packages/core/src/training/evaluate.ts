import * as tf from '@tensorflow/tfjs-core';
import type { EnvironmentData } from '../api/dataset.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

export interface EvalResult {
  acc: number;
  loss: number;
  n: number;
}

/** Logits of a model on a batch of NHWC examples; must not leak tensors. */
export type Predictor = (x: tf.Tensor4D) => tf.Tensor2D | Promise<tf.Tensor2D>;

/** Accuracy and mean cross-entropy of `predict` over the given examples of one environment. */
export async function evaluateAccuracy(
  predict: Predictor,
  env: EnvironmentData,
  indices: Int32Array,
  inputShape: readonly [number, number, number],
  batchSize: number,
): Promise<EvalResult> {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const idx = indices.subarray(start, Math.min(indices.length, start + batchSize));
    const batch = await env.read(idx, 'eval');
    const x = tf.tensor4d(batch.x, [batch.n, inputShape[0], inputShape[1], inputShape[2]]);
    const y = tf.tensor1d(batch.y, 'int32');
    const logits = await predict(x);
    const [c, l] = tf.tidy(() => {
      const hit = tf.sum(tf.equal(tf.argMax(logits, 1), y));
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, logits.shape[1]), logits, undefined, undefined, tf.Reduction.SUM);
      return [hit.dataSync()[0]!, loss.dataSync()[0]!];
    });
    tf.dispose([x, y, logits]);
    correct += c;
    lossSum += l;
    await yieldToEventLoop();
  }
  const n = indices.length;
  return { acc: n ? correct / n : NaN, loss: n ? lossSum / n : NaN, n };
}
