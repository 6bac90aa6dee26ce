// GroupNorm (Wu & He, 2018, arXiv:1803.08494) for NHWC tensors, as PyTorch's nn.GroupNorm:
// per sample, each group of C/G channels is normalised over its channels x H x W with the
// biased variance, then scaled by gamma and shifted by beta per channel.
//
// TensorFlow.js has no GroupNorm. On 'wasm' and 'cpu' it runs as two fused kernels
// (group-norm-kernels.ts); on other backends (tfjs-node) as plain ops. Either way the
// gradient is the analytic one given through tf.customGrad. That gradient is itself not
// differentiable on the fused path (no second derivatives through GroupNorm).
import * as tf from '@tensorflow/tfjs-core';
import { GROUP_NORM, GROUP_NORM_GRAD, registerGroupNormKernels } from './group-norm-kernels';

function hasFusedKernels(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}

/** Plain-ops forward: y, mean and rstd ([N, 1, G, 1]); reductions over axes 1 and 3 of [N, HW, G, C/G], a free reshape of NHWC. */
function forwardOps(x: tf.Tensor4D, numGroups: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number) {
  const [n, h, w, c] = x.shape;
  const xr = tf.reshape(x, [n, h * w, numGroups, c / numGroups]);
  const mean = tf.mean(xr, [1, 3], true);
  const xc = tf.sub(xr, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), [1, 3], true), eps));
  const xhat = tf.mul(xc, rstd);
  const y = tf.add(tf.mul(xhat, tf.reshape(gamma, [1, 1, numGroups, c / numGroups])), tf.reshape(beta, [1, 1, numGroups, c / numGroups]));
  return { y: tf.reshape(y, x.shape) as tf.Tensor4D, mean, rstd };
}

/** Plain-ops backward, same formulas as the fused kernel. */
function backwardOps(dy: tf.Tensor4D, x: tf.Tensor4D, gamma: tf.Tensor1D, mean: tf.Tensor, rstd: tf.Tensor, numGroups: number) {
  const [n, h, w, c] = x.shape;
  const shape = [n, h * w, numGroups, c / numGroups];
  const dyr = tf.reshape(dy, shape);
  const xhat = tf.mul(tf.sub(tf.reshape(x, shape), mean), rstd);
  const dbeta = tf.reshape(tf.sum(dyr, [0, 1]), [c]);
  const dgamma = tf.reshape(tf.sum(tf.mul(dyr, xhat), [0, 1]), [c]);
  const gdy = tf.mul(dyr, tf.reshape(gamma, [1, 1, numGroups, c / numGroups]));
  const a = tf.mean(gdy, [1, 3], true);
  const b = tf.mean(tf.mul(gdy, xhat), [1, 3], true);
  const dx = tf.mul(tf.sub(tf.sub(gdy, a), tf.mul(xhat, b)), rstd);
  return [tf.reshape(dx, x.shape), dgamma, dbeta];
}

/**
 * GroupNorm of an NHWC tensor over `numGroups` groups of channels (PyTorch nn.GroupNorm semantics),
 * with gamma/beta of length C. Differentiable in x, gamma and beta.
 */
export function groupNorm(x: tf.Tensor4D, numGroups: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor4D {
  return groupNormImpl(x, numGroups, gamma, beta, eps, hasFusedKernels() && x.dtype === 'float32');
}

/** groupNorm with the implementation chosen by the caller (tests run the plain-ops path on every backend). */
export function groupNormImpl(x: tf.Tensor4D, numGroups: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, fused: boolean): tf.Tensor4D {
  const { y, mean, rstd } = groupNormStats(x, numGroups, gamma, beta, eps, fused);
  tf.dispose([mean, rstd]);
  return y;
}

/**
 * groupNorm that also returns each (sample, group)'s mean and 1 / sqrt(biased variance + eps), as
 * N x G values in a tensor of N * G elements (BatchNorm's running statistics are made from them).
 * Only y is differentiable. The caller disposes `mean` and `rstd`: they are kept out of every
 * tidy scope, as they leave the forward pass's own.
 */
export function groupNormWithStats(
  x: tf.Tensor4D, numGroups: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5,
): { y: tf.Tensor4D; mean: tf.Tensor; rstd: tf.Tensor } {
  return groupNormStats(x, numGroups, gamma, beta, eps, hasFusedKernels() && x.dtype === 'float32');
}

function groupNormStats(
  x: tf.Tensor4D, numGroups: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, fused: boolean,
): { y: tf.Tensor4D; mean: tf.Tensor; rstd: tf.Tensor } {
  if (x.rank !== 4) throw new Error(`groupNorm: expected an NHWC tensor of rank 4, got rank ${x.rank}.`);
  const c = x.shape[3];
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new Error(`groupNorm: ${c} channels cannot be split into ${numGroups} groups.`);
  }
  if (gamma.size !== c || beta.size !== c) {
    throw new Error(`groupNorm: gamma and beta must have ${c} elements, got ${gamma.size} and ${beta.size}.`);
  }
  if (fused) registerGroupNormKernels();
  // The forward pass runs once, inside customGrad, whose tidy would release the statistics: they
  // leave through this closure, kept. groupNormImpl disposes them; groupNormWithStats's caller does.
  let stats!: { mean: tf.Tensor; rstd: tf.Tensor };
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, gi, bi] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    let y: tf.Tensor4D;
    let mean: tf.Tensor;
    let rstd: tf.Tensor;
    if (fused) {
      [y, mean, rstd] = tf.engine().runKernel(GROUP_NORM, { x: xs, gamma: gi, beta: bi }, { numGroups, epsilon: eps }) as [tf.Tensor4D, tf.Tensor, tf.Tensor];
    } else {
      ({ y, mean, rstd } = forwardOps(xs, numGroups, gi, bi, eps));
    }
    save([xs, gi, mean, rstd]);
    stats = { mean: tf.keep(mean), rstd: tf.keep(rstd) };
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        if (fused) {
          return tf.engine().runKernel(GROUP_NORM_GRAD, { dy, x: sx, gamma: sg, mean: sm, rstd: sr }, { numGroups }) as tf.Tensor[];
        }
        return backwardOps(dy as tf.Tensor4D, sx as tf.Tensor4D, sg as tf.Tensor1D, sm, sr, numGroups);
      },
    };
  });
  const y = f(x, gamma, beta) as tf.Tensor4D;
  return { y, ...stats };
}
