import type * as tf from '@tensorflow/tfjs-core';
import type { AllReduce } from '../parallel/all-reduce.js';

/** One training environment's minibatch for one step. */
export interface Minibatch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
  /** Index of the environment among the training environments. */
  readonly env: number;
  /**
   * Where these rows start in the step's whole minibatch of this environment: 0 or absent except
   * in a data-parallel part. Algorithms that treat rows by position (IRM's even and odd halves)
   * read it.
   */
  readonly firstRow?: number;
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
   * Optional data-parallel split for losses that couple examples only through sums over examples
   * (CORAL: per-domain feature sums and sums of outer products). Each part of the batch returns its
   * additive share of the whole batch's gradient and losses, and the trainer sums the shares (it
   * does not average them). In its forward pass the part calls `allReduce` with its partial sums,
   * once or more, and gets the whole batch's totals (the same on every part; one thread: its own).
   * Needs `statisticsSize` and `applyGradients`.
   */
  gradientShares?(minibatches: Minibatch[], step: number, allReduce: AllReduce): GradientResult;
  /** The most floats one `allReduce` call of `gradientShares` passes for these minibatches. */
  statisticsSize?(minibatches: Minibatch[]): number;
  /**
   * State beyond the weights that a data-parallel worker's copy of the algorithm needs before each
   * step (GroupDRO: its domain weights). Read on the main thread and sent with every step's
   * request, so workers follow the main thread's copy, after a resume too. Keep it small.
   */
  workerState?(): Record<string, number | number[]>;
  setWorkerState?(state: Record<string, number | number[]>): void;
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
  return Boolean(a.computeGradients) || Boolean(a.gradientShares && a.statisticsSize);
}
