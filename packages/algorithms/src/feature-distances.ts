import * as tf from '@tensorflow/tfjs-core';

/** The Gaussian kernel bandwidths DomainBed's MMD sums over. */
export const MMD_BANDWIDTHS: readonly number[] = [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];

/** A distance between two sets of feature rows (one domain each). */
export type FeatureDistance = (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Scalar;

/**
 * Squared Euclidean distances between the rows of x and y as ||x||^2 + ||y||^2 - 2 x.y (one matMul),
 * clamped at 1e-30 like DomainBed's `my_cdist`: rounding can make the expansion slightly negative.
 */
export function squaredDistances(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const xx = tf.sum(tf.square(x), 1, true);
    const yy = tf.transpose(tf.sum(tf.square(y), 1, true));
    return tf.maximum(tf.add(tf.sub(xx, tf.mul(tf.matMul(x, y, false, true), 2)), yy), 1e-30) as tf.Tensor2D;
  });
}

/** K(x, y) = sum over bandwidths g of exp(-g ||x - y||^2), for every pair of rows. */
export function gaussianKernel(x: tf.Tensor2D, y: tf.Tensor2D, bandwidths: readonly number[] = MMD_BANDWIDTHS): tf.Tensor2D {
  return tf.tidy(() => {
    const d = squaredDistances(x, y);
    return tf.addN(bandwidths.map((g) => tf.exp(tf.mul(d, -g)))) as tf.Tensor2D;
  });
}

/** Biased MMD^2 estimate with the multi-bandwidth Gaussian kernel: mean Kxx + mean Kyy - 2 mean Kxy. */
export function gaussianMmd(x: tf.Tensor2D, y: tf.Tensor2D, bandwidths: readonly number[] = MMD_BANDWIDTHS): tf.Scalar {
  return tf.tidy(() => {
    const kxx = tf.mean(gaussianKernel(x, x, bandwidths));
    const kyy = tf.mean(gaussianKernel(y, y, bandwidths));
    const kxy = tf.mean(gaussianKernel(x, y, bandwidths));
    return tf.sub(tf.add(kxx, kyy), tf.mul(kxy, 2)) as tf.Scalar;
  });
}

/** Unbiased covariance (divided by n - 1) of the rows of x. */
export function covariance(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const centred = tf.sub(x, tf.mean(x, 0, true));
    return tf.div(tf.matMul(centred, centred, true, false), x.shape[0] - 1) as tf.Tensor2D;
  });
}

/**
 * Deep CORAL's distance (Sun & Saenko, arXiv 1607.01719) as DomainBed computes it: mean of the
 * squared differences of the feature means plus mean of the squared differences of the covariances.
 */
export function coralDistance(x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const meanDiff = tf.mean(tf.square(tf.sub(tf.mean(x, 0), tf.mean(y, 0))));
    const covDiff = tf.mean(tf.square(tf.sub(covariance(x), covariance(y))));
    return tf.add(meanDiff, covDiff) as tf.Scalar;
  });
}

/**
 * A distance averaged over all unordered pairs of domains (DomainBed's AbstractMMD): the penalty of
 * CORAL and MMD. Zero with fewer than two domains.
 */
export function meanOverDomainPairs(features: tf.Tensor2D[], distance: FeatureDistance): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    for (let i = 0; i < features.length; i++) {
      for (let j = i + 1; j < features.length; j++) terms.push(distance(features[i]!, features[j]!));
    }
    return terms.length === 0 ? tf.scalar(0) : (tf.div(tf.addN(terms), terms.length) as tf.Scalar);
  });
}
