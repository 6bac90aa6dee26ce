import type * as tf from '@tensorflow/tfjs-core';

/** One training environment's minibatch for one step. */
export interface Minibatch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
  /** Index of the environment among the training environments. */
  readonly env: number;
}

/** Serializable algorithm state for checkpoints (optimizer moments, counters, extra weights). */
export interface AlgorithmState {
  tensors: Record<string, tf.Tensor>;
  scalars: Record<string, number | number[]>;
}

/** Loss terms and gradients (by parameter name) of one step, before the optimizer update. */
export interface GradientResult {
  losses: Record<string, number>;
  grads: Record<string, tf.Tensor>;
}

/**
 * DomainBed's contract: `update` takes one minibatch per training environment, takes one optimizer
 * step and returns its loss terms; `predict` gives logits.
 */
export interface Algorithm {
  readonly name: string;
  update(minibatches: Minibatch[], step: number): Promise<Record<string, number>>;
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /** Optional asynchronous predict (data-parallel evaluation); preferred by the trainer when present. */
  predictAsync?(x: tf.Tensor4D): Promise<tf.Tensor2D>;
  /**
   * Optional split of `update` for data-parallel training. Only for algorithms whose loss is a mean
   * of per-example terms, so that averaging the gradients of parts of the batch (weighted by their
   * sizes) gives the gradient of the whole batch.
   */
  computeGradients?(minibatches: Minibatch[], step: number): GradientResult;
  applyGradients?(grads: Record<string, tf.Tensor>, step: number): void;
  /**
   * Optional data-parallel split for losses that couple examples only through additive statistics,
   * sums over examples (CORAL: per-domain feature sums and sums of outer products). First pass: every
   * part of the batch returns `partStatistics`, and the trainer adds them up. Second pass: every part
   * returns `gradientsGivenStatistics` with the totals: gradients and losses that are the part's
   * additive share, so the trainer sums them (it does not average them). The sum must equal the
   * whole batch's gradient. Needs `applyGradients`; takes two forward passes per step.
   */
  partStatistics?(minibatches: Minibatch[], step: number): Float32Array;
  gradientsGivenStatistics?(minibatches: Minibatch[], totals: Float32Array, step: number): GradientResult;
  /**
   * Set by sharpness-aware algorithms (SAM) that offer `computeGradients`: data-parallel training
   * then applies the averaged gradient at w + rho g/||g||, g being the averaged gradient at w, and
   * `computeGradients` itself stays the plain gradient at the current weights.
   */
  readonly sharpnessRadius?: number;
  getState?(): AlgorithmState;
  /** Restores from a checkpoint. Copy what you keep: the trainer disposes `state`'s tensors afterwards. */
  setState?(state: AlgorithmState): void;
  dispose?(): void;
}

/** Whether data-parallel training can split this algorithm's step (see `computeGradients`). */
export function supportsDataParallel(a: Algorithm): boolean {
  if (!a.applyGradients) return false;
  return Boolean(a.computeGradients) || Boolean(a.partStatistics && a.gradientsGivenStatistics);
}
