import type * as tf from '@tensorflow/tfjs-core';
import {
  Adam,
  disposeAll,
  type AdamOptions,
  type Algorithm,
  type AlgorithmState,
  type BaseAlgorithmOptions,
  type Minibatch,
  type Network,
} from '@qtdog/core';
import { objectiveGradients, type Objective } from './objective.js';
import { samStep } from './sam-step.js';

/**
 * What most DomainBed algorithms share: one Adam over every trainable parameter of the network, an
 * `update` that minimises one objective per step, and `predict` = the network in eval mode.
 * Subclasses do not get `computeGradients`: only algorithms whose loss is a mean of per-example
 * terms may offer data-parallel training, and they say so by implementing it (ERM, Mixup).
 */
export abstract class AdamAlgorithm implements Algorithm {
  abstract readonly name: string;
  protected readonly optimizer: Adam;

  constructor(
    protected readonly network: Network,
    protected readonly hparams: BaseAlgorithmOptions,
    adam: Partial<AdamOptions> = {},
  ) {
    this.optimizer = new Adam({ lr: hparams.lr, weightDecay: hparams.weightDecay, ...adam });
  }

  abstract update(minibatches: Minibatch[], step: number): Promise<Record<string, number>>;

  /**
   * One optimizer step on `objective`, its gradient taken over the parameters trainable NOW (a
   * quantizer's step sizes included from the step they appear). With `rho`, the gradient is SAM's.
   */
  protected minimise(objective: Objective, rho?: number): Record<string, number> {
    const params = this.network.params.trainable();
    const { losses, grads } = rho ? samStep(objective, params, rho) : objectiveGradients(objective, params);
    this.optimizer.apply(params, grads);
    disposeAll(grads);
    return losses;
  }

  /**
   * One optimizer step with given gradients: the second half of a data-parallel step. Only used
   * for subclasses that offer `computeGradients` or `gradientShares` (see supportsDataParallel).
   */
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
