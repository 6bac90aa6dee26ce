import * as tf from '@tensorflow/tfjs-core';
import {
  Adam,
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  crossEntropy,
  definePlugin,
  disposeAll,
  gradientsOf,
  NetworkToken,
  type Algorithm,
  type AlgorithmState,
  type GradientResult,
  type Minibatch,
  type Network,
} from '@qtdog/core';

/** Concatenates every environment's minibatch (ERM and friends train on the pooled batch). */
export function poolMinibatches(minibatches: Minibatch[]): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.concat(minibatches.map((m) => m.x)) as tf.Tensor4D,
    y: tf.concat(minibatches.map((m) => m.y)) as tf.Tensor1D,
  }));
}

/**
 * Empirical Risk Minimization (Vapnik, 1998): minimise the mean cross-entropy over the pooled
 * minibatches of all training environments.
 */
export class ERM implements Algorithm {
  readonly name: string = 'ERM';
  protected readonly optimizer: Adam;

  constructor(
    protected readonly network: Network,
    protected readonly hparams: BaseAlgorithmOptions,
  ) {
    this.optimizer = new Adam({ lr: hparams.lr, weightDecay: hparams.weightDecay });
  }

  async update(minibatches: Minibatch[], step: number): Promise<Record<string, number>> {
    const { losses, grads } = this.computeGradients(minibatches);
    this.applyGradients(grads, step);
    disposeAll(grads);
    return losses;
  }

  /** Mean cross-entropy over the pooled batch: a mean of per-example terms (data-parallel safe). */
  computeGradients(minibatches: Minibatch[]): GradientResult {
    const { x, y } = poolMinibatches(minibatches);
    // Taken at every step: parameters a quantizer added since the last step are included.
    const params = this.network.params.trainable();
    const { value, grads } = gradientsOf(() => crossEntropy(this.network.predict(x, true), y), params);
    const loss = value.dataSync()[0]!;
    value.dispose();
    x.dispose();
    y.dispose();
    return { losses: { loss }, grads };
  }

  applyGradients(grads: Record<string, tf.Tensor>, _step?: number): void {
    this.optimizer.apply(this.network.params.trainable(), grads);
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return this.network.predict(x, false);
  }

  getState(): AlgorithmState {
    return this.optimizer.getState();
  }

  setState(state: AlgorithmState): void {
    this.optimizer.setState(state);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

export const ermPlugin = definePlugin({
  kind: 'algorithm',
  name: 'ERM',
  description: 'Empirical Risk Minimization on the pooled minibatches (DomainBed baseline)',
  options: BaseAlgorithmOptions,
  hparams: baseAlgorithmHParams,
  async create(options, ctx) {
    return new ERM(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
