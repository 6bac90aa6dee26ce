import * as tf from '@tensorflow/tfjs-core';

/** The fake-quantized forward value shared by every quantizer: `round(clamp(w / s, qn, qp)) * s`. */
export function gridRound(w: tf.Tensor, s: tf.Tensor, qn: number, qp: number): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.round(tf.clipByValue(tf.div(w, s), qn, qp)), s));
}

/** Signed integer range of b bits: [-2^(b-1), 2^(b-1) - 1] (7 bits: [-64, 63]). */
export function signedRange(bits: number): { qn: number; qp: number } {
  return { qn: -(2 ** (bits - 1)), qp: 2 ** (bits - 1) - 1 };
}

/**
 * LSQ fake quantization (Esser et al., 2020, arXiv 1902.08153): `round(clamp(w / s, qn, qp)) * s`.
 * Gradients: straight-through for round (w gets dy where w/s is inside the range, 0 outside);
 * for s, per element `-w/s + round(w/s)` inside and `qn` or `qp` outside, summed to the shape of s
 * and multiplied by `gradScale` = 1 / sqrt(qp * numel(W)).
 * `s` broadcasts against `w` (per output channel: shape [1, 1, 1, cout] for a conv weight).
 */
export function lsqFakeQuantize(w: tf.Tensor, s: tf.Tensor, qn: number, qp: number, gradScale: number): tf.Tensor {
  const fn = (wIn: tf.Tensor, sIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([wIn, sIn]);
    const value = gridRound(wIn, sIn, qn, qp);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ws, ss] = saved as [tf.Tensor, tf.Tensor];
        return tf.tidy(() => {
          const v = tf.div(ws, ss);
          const below = tf.lessEqual(v, qn);
          const above = tf.greaterEqual(v, qp);
          const inside = tf.logicalNot(tf.logicalOr(below, above));
          const dw = tf.mul(dy, tf.cast(inside, 'float32'));
          const dsElem = tf.where(below, tf.fill(v.shape, qn), tf.where(above, tf.fill(v.shape, qp), tf.sub(tf.round(v), v)));
          const axes = reductionAxes(ws.shape, ss.shape);
          const ds = tf.reshape(tf.mul(tf.sum(tf.mul(dy, dsElem), axes), gradScale), ss.shape);
          return [dw, ds];
        });
      },
    };
  };
  const op = tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(w, s);
}

/** Axes of `full` that `part` broadcasts over (size 1 or missing in `part`). */
function reductionAxes(full: number[], part: number[]): number[] {
  const offset = full.length - part.length;
  const axes: number[] = [];
  for (let i = 0; i < full.length; i++) {
    const p = i - offset >= 0 ? part[i - offset]! : 1;
    if (p === 1) axes.push(i);
  }
  return axes;
}

/** LSQ's step size initialisation: 2 * mean(|w|) / sqrt(qp), per output channel (last axis) or per tensor. */
export function initStepSize(w: tf.Tensor, qp: number, perChannel: boolean): tf.Tensor {
  return tf.tidy(() => {
    const axes = perChannel ? w.shape.slice(0, -1).map((_, i) => i) : undefined;
    const m = tf.mean(tf.abs(w), axes, perChannel);
    const s = tf.div(tf.mul(m, 2), Math.sqrt(qp));
    // An all-zero channel would give s = 0 and a division by zero.
    return tf.maximum(s, 1e-8);
  });
}
