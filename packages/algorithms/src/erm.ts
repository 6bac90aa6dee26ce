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

  async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    const { x, y } = poolMinibatches(minibatches);
    // Taken at every step: parameters a quantizer added since the last step are included.
    const params = this.network.params.trainable();
    const { value, grads } = gradientsOf(() => crossEntropy(this.network.predict(x, true), y), params);
    this.optimizer.apply(params, grads);
    const loss = value.dataSync()[0]!;
    disposeAll(grads);
    value.dispose();
    x.dispose();
    y.dispose();
    return { loss };
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
