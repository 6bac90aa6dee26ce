import * as tf from '@tensorflow/tfjs-core';
import type { Network, Quantizer } from '@qtdog/core';

/**
 * A quantized layer weight as integers and scales: `weight = codes * scales` (scales broadcast
 * against the weight: per output channel [1, 1, 1, cout] for a conv, or [] per tensor). What
 * `qtdog export` bit-packs.
 */
export interface IntegerWeights {
  layer: string;
  /** Name of the weight parameter. */
  weight: string;
  bits: number;
  qn: number;
  qp: number;
  shape: number[];
  /** Row-major, in [qn, qp]. */
  codes: Int32Array;
  scaleShape: number[];
  scales: Float32Array;
}

/** A quantizer whose quantized weights lie on an integer grid times a scale (LSQ, MinMax). */
export interface IntegerQuantizer extends Quantizer {
  /** Codes and scales of every layer it quantizes; empty while it is not active. */
  integerWeights(network: Network): IntegerWeights[];
}

export function isIntegerQuantizer(q: Quantizer | undefined | null): q is IntegerQuantizer {
  return !!q && typeof (q as Partial<IntegerQuantizer>).integerWeights === 'function';
}

/**
 * The integers `round(clamp(w / s, qn, qp))`, computed with the same ops as the fake-quantizing
 * forward pass, so `codes * s` reproduces its weights bit for bit.
 */
export function integerCodes(w: tf.Tensor, s: tf.Tensor, qn: number, qp: number): Int32Array {
  const k = tf.tidy(() => tf.round(tf.clipByValue(tf.div(w, s), qn, qp)));
  const codes = Int32Array.from(k.dataSync() as Float32Array);
  k.dispose();
  return codes;
}
