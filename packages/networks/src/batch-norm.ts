import * as tf from '@tensorflow/tfjs-core';

/** The four tensors of one BatchNorm layer (torchvision's weight, bias, running_mean, running_var). */
export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

export interface BatchNormMode {
  /** Training forward pass: batch statistics and a running-statistics update (unless frozen). */
  training: boolean;
  /** Frozen BatchNorm (DomainBed's freeze_bn, SWAD, QT-DoG): running statistics always, never updated. */
  frozen: boolean;
  /** PyTorch's momentum: running = (1 - momentum) running + momentum batch. */
  momentum: number;
  eps: number;
}

export const PYTORCH_BN: Pick<BatchNormMode, 'momentum' | 'eps'> = { momentum: 0.1, eps: 1e-5 };

/**
 * BatchNorm2d over the N, H, W axes of an NHWC tensor, as PyTorch computes it: in training, the
 * batch mean and biased variance normalise, and the running statistics move towards the batch mean
 * and the unbiased variance (n / (n - 1)); in evaluation (or frozen) the running statistics
 * normalise. The result is x * scale + shift with per-channel scale and shift, differentiable in x,
 * gamma and beta.
 *
 * The running update assigns to the variables inside the forward pass. It is not part of the loss,
 * so a gradient tape around the call leaves it out of the gradients (its ops are not on a path to the
 * loss, and the tape's saved tensors are released when the gradient returns); the assigned values
 * stay owned by the variables, and everything else is released by the enclosing tidy.
 */
export function batchNorm2d(x: tf.Tensor4D, p: BatchNormParams, mode: BatchNormMode): tf.Tensor4D {
  return tf.tidy(() => {
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (mode.training && !mode.frozen) {
      const m = tf.moments(x, [0, 1, 2]);
      mean = m.mean;
      variance = m.variance;
      const n = x.shape[0] * x.shape[1] * x.shape[2];
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      const keep = 1 - mode.momentum;
      p.runningMean.assign(tf.add(tf.mul(p.runningMean, keep), tf.mul(mean, mode.momentum)));
      p.runningVar.assign(tf.add(tf.mul(p.runningVar, keep), tf.mul(unbiased, mode.momentum)));
    } else {
      mean = p.runningMean;
      variance = p.runningVar;
    }
    const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(variance, mode.eps)));
    const shift = tf.sub(p.beta, tf.mul(mean, scale));
    return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  });
}
