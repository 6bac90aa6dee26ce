import type * as tf from '@tensorflow/tfjs-core';
import type { Algorithm } from './algorithm.js';
import type { EnvironmentData } from './dataset.js';
import type { Network } from './network.js';
import type { Quantizer } from './quantizer.js';

/** Logits of some model on a batch (sync or async); must not leak tensors. */
export type PredictFn = (x: tf.Tensor4D) => tf.Tensor2D | Promise<tf.Tensor2D>;

/**
 * What evaluators and hooks get to measure a model: the data, the DomainBed splits and helpers that
 * evaluate any predictor on every environment with the run's batch size.
 */
export interface EvaluationContext {
  readonly step: number;
  readonly network: Network;
  readonly algorithm: Algorithm;
  readonly quantizer?: Quantizer;
  readonly environments: readonly EnvironmentData[];
  /** Per environment: the `in` (training) and `out` (held-out) example indices. */
  readonly splits: ReadonlyArray<{ in: Int32Array; out: Int32Array }>;
  readonly trainEnvs: readonly number[];
  readonly testEnvs: readonly number[];
  readonly inputShape: readonly [number, number, number];
  readonly evalBatchSize: number;
  readonly outDir: string;
  readonly seed: number;
  /**
   * Accuracy and loss of `predict` on every environment's in/out split, with DomainBed's keys
   * (`env0_in_acc`, `env0_out_loss`, ...).
   */
  evaluateAll(predict: PredictFn): Promise<Record<string, number>>;
}
