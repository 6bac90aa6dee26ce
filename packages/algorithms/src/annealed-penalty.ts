import type * as tf from '@tensorflow/tfjs-core';
import type { AlgorithmState, BaseAlgorithmOptions, Minibatch, Network } from '@qtdog/core';
import { AdamAlgorithm } from './adam-algorithm.js';
import type { Objective } from './objective.js';

/**
 * IRM and VREx: loss = risk + w * penalty, with w = 1 for the first `annealIters` updates and
 * `lambda` from then on. Adam is reset at the switch (DomainBed: "it doesn't like the sharp jump in
 * gradient magnitudes that happens at this step"). The update counter is part of the state.
 */
export abstract class AnnealedPenaltyAlgorithm extends AdamAlgorithm {
  protected updateCount = 0;

  constructor(
    network: Network,
    hparams: BaseAlgorithmOptions,
    private readonly lambda: number,
    private readonly annealIters: number,
  ) {
    super(network, hparams);
  }

  /** The penalty weight of the current update. */
  get penaltyWeight(): number {
    return this.weightAt(this.updateCount);
  }

  /** The penalty weight of update `step` (data-parallel parts know the step, not a counter). */
  protected weightAt(step: number): number {
    return step >= this.annealIters ? this.lambda : 1;
  }

  /** The data-parallel update: Adam reset at the switch, as `update` does, then one step. */
  override applyGradients(grads: Record<string, tf.Tensor>, step: number): void {
    if (step === this.annealIters) this.optimizer.reset();
    super.applyGradients(grads, step);
    this.updateCount = step + 1;
  }

  protected abstract objective(minibatches: Minibatch[], penaltyWeight: number): Objective;

  async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    if (this.updateCount === this.annealIters) this.optimizer.reset();
    const losses = this.minimise(this.objective(minibatches, this.penaltyWeight));
    this.updateCount += 1;
    return losses;
  }

  override getState(): AlgorithmState {
    const s = super.getState();
    return { tensors: s.tensors, scalars: { ...s.scalars, updateCount: this.updateCount } };
  }

  override setState(state: AlgorithmState): void {
    super.setState(state);
    this.updateCount = Number(state.scalars.updateCount ?? 0);
  }
}
