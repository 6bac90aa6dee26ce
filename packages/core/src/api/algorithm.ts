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

/**
 * DomainBed's contract: `update` takes one minibatch per training environment, takes one optimizer
 * step and returns its loss terms; `predict` gives logits.
 */
export interface Algorithm {
  readonly name: string;
  update(minibatches: Minibatch[], step: number): Promise<Record<string, number>>;
  predict(x: tf.Tensor4D): tf.Tensor2D;
  getState?(): AlgorithmState;
  setState?(state: AlgorithmState): void;
  dispose?(): void;
}
