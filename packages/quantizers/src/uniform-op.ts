import * as tf from '@tensorflow/tfjs-core';
import { gridRound } from './lsq-op.js';

/**
 * Uniform fake quantization with a fixed (not learned) scale: `round(clamp(w / s, qn, qp)) * s`.
 * Straight-through estimator (Bengio et al., 2013, arXiv 1308.3432): w gets dy where w/s lies in
 * [qn, qp] and 0 where it was clamped; the scale gets no gradient (a range taken from the weights is
 * treated as a constant, as in min-max quantization-aware training).
 */
export function steFakeQuantize(w: tf.Tensor, s: tf.Tensor, qn: number, qp: number): tf.Tensor {
  const fn = (wIn: tf.Tensor, sIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([wIn, sIn]);
    const value = gridRound(wIn, sIn, qn, qp);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ws, ss] = saved as [tf.Tensor, tf.Tensor];
        return tf.tidy(() => {
          const v = tf.div(ws, ss);
          const inside = tf.logicalAnd(tf.greaterEqual(v, qn), tf.lessEqual(v, qp));
          return [tf.mul(dy, tf.cast(inside, 'float32')), tf.zerosLike(ss)];
        });
      },
    };
  };
  const op = tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(w, s);
}

/**
 * Largest |w| per output channel (last axis, kept as [1, ..., 1, cout]) or over the whole tensor
 * (a scalar): the symmetric range of min-max quantization, max(|min|, |max|).
 */
export function maxAbs(w: tf.Tensor, perChannel: boolean): tf.Tensor {
  return tf.tidy(() => {
    const axes = perChannel ? w.shape.slice(0, -1).map((_, i) => i) : undefined;
    return tf.max(tf.abs(w), axes, perChannel);
  });
}

/** Scale of a symmetric range [-r, r] on the grid {qn..qp}: r / qp (an all-zero range gets a tiny scale, never 0). */
export function rangeToScale(range: tf.Tensor, qp: number): tf.Tensor {
  return tf.tidy(() => tf.maximum(tf.div(range, qp), 1e-8));
}
