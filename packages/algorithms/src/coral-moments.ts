import * as tf from '@tensorflow/tfjs-core';

/**
 * CORAL's penalty through additive moments, so that it can be taken over a batch split across
 * data-parallel workers: each part sends its per-domain feature sums and sums of outer products,
 * the totals give every domain's mean and covariance exactly as the whole batch would.
 */

/** Length of one domain's block of moments for d-dimensional features: Σf (d) then Σ f fᵀ (d·d). */
export function momentBlockSize(d: number): number {
  return d + d * d;
}

/**
 * Per-domain moments of the rows of each features tensor, concatenated: [Σf, Σ f fᵀ] per domain. A
 * domain with no rows in this part contributes zeros.
 */
export function domainMoments(features: tf.Tensor2D[], d: number): tf.Tensor1D {
  return tf.tidy(() => {
    const blocks = features.map((f) =>
      f.shape[0] === 0
        ? tf.zeros([momentBlockSize(d)])
        : tf.concat([tf.sum(f, 0), tf.reshape(tf.matMul(f, f, true, false), [d * d])]),
    );
    return tf.concat(blocks) as tf.Tensor1D;
  });
}

/**
 * CORAL's penalty (coralDistance averaged over domain pairs) from the whole batch's moments and each
 * domain's row count: mean = Σf / n, unbiased covariance = (Σ f fᵀ - Σf Σfᵀ / n) / (n - 1).
 */
export function coralPenaltyFromMoments(moments: tf.Tensor1D, counts: number[], d: number): tf.Scalar {
  return tf.tidy(() => {
    const b = momentBlockSize(d);
    const stats = counts.map((n, i) => {
      const sum = tf.slice(moments, i * b, d);
      const outer = tf.reshape(tf.slice(moments, i * b + d, d * d), [d, d]);
      const s = tf.reshape(sum, [d, 1]);
      const cov = tf.div(tf.sub(outer, tf.div(tf.matMul(s, s, false, true), n)), n - 1);
      return { mean: tf.div(sum, n), cov };
    });
    const terms: tf.Scalar[] = [];
    for (let i = 0; i < stats.length; i++) {
      for (let j = i + 1; j < stats.length; j++) {
        const meanDiff = tf.mean(tf.square(tf.sub(stats[i]!.mean, stats[j]!.mean)));
        const covDiff = tf.mean(tf.square(tf.sub(stats[i]!.cov, stats[j]!.cov)));
        terms.push(tf.add(meanDiff, covDiff) as tf.Scalar);
      }
    }
    // One domain: no pairs, a penalty of 0 that still depends on the moments (times 0), so that
    // its gradient with respect to them exists (zeros) instead of tf.valueAndGrad throwing.
    if (terms.length === 0) return tf.mul(tf.sum(moments), 0) as tf.Scalar;
    return tf.div(tf.addN(terms), terms.length) as tf.Scalar;
  });
}
