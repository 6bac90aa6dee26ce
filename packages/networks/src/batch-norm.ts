import * as tf from '@tensorflow/tfjs-core';
import { groupNormWithStats } from '@qtdog/engine';

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
    if (mode.training && !mode.frozen) return batchNormTraining(x, p, mode);
    const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(p.runningVar, mode.eps)));
    const shift = tf.sub(p.beta, tf.mul(p.runningMean, scale));
    return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  });
}

/**
 * Training-mode BatchNorm as GroupNorm of one sample with one channel per group: NHWC reshaped
 * (for free) to [1, N*H, W, C] and normalised per channel over N*H*W is exactly BatchNorm's batch
 * normalisation, so it runs in the engine's fused GroupNorm kernels (forward and analytic backward
 * in one pass each on wasm and cpu) instead of about twenty small ops per layer.
 */
function batchNormTraining(x: tf.Tensor4D, p: BatchNormParams, mode: BatchNormMode): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const { y, mean: m, rstd } = groupNormWithStats(tf.reshape(x, [1, n * h, w, c]), c, p.gamma as tf.Tensor1D, p.beta as tf.Tensor1D, mode.eps);
  const mean = tf.reshape(m, [c]);
  // Biased variance back from 1 / sqrt(var + eps); the running statistics use the unbiased one.
  const variance = tf.sub(tf.reciprocal(tf.square(tf.reshape(rstd, [c]))), mode.eps);
  tf.dispose([m, rstd]);
  const count = n * h * w;
  const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
  const keep = 1 - mode.momentum;
  p.runningMean.assign(tf.add(tf.mul(p.runningMean, keep), tf.mul(mean, mode.momentum)));
  p.runningVar.assign(tf.add(tf.mul(p.runningVar, keep), tf.mul(unbiased, mode.momentum)));
  return tf.reshape(y, x.shape) as tf.Tensor4D;
}
