import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  definePlugin,
  log10Uniform,
  NetworkToken,
  type AlgorithmState,
  type AllReduce,
  type GradientResult,
  type Minibatch,
  type Network,
} from '@qtdog/core';
import { AdamAlgorithm } from './adam-algorithm.js';
import { poolMinibatches, perDomainCrossEntropy } from './minibatches.js';
import { objectiveGradients, type Objective } from './objective.js';
import { domainLossSums, shareOfSummedLoss, type SummedLossShare } from './summed-statistics.js';

/** GroupDRO's exponentiated-gradient step on the group weights: q_i <- q_i exp(eta l_i), then normalised. */
export function groupDroWeights(q: readonly number[], losses: readonly number[], eta: number): number[] {
  const w = q.map((qi, i) => qi * Math.exp(eta * losses[i]!));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

export const GroupDroOptions = BaseAlgorithmOptions.extend({
  /** Step size of the group-weight update (DomainBed's groupdro_eta). */
  groupdroEta: z.number().min(0).default(1e-2),
});
export type GroupDroOptions = z.output<typeof GroupDroOptions>;

/**
 * Group DRO (Sagawa et al., arXiv 1911.08731, Algorithm 1): minimise sum_i q_i l_i where the domain
 * weights q follow an exponentiated-gradient ascent on the domain losses. q starts at ones (as
 * DomainBed) and is part of the state.
 */
export class GroupDRO extends AdamAlgorithm {
  readonly name = 'GroupDRO';
  private q: number[] = [];

  constructor(
    network: Network,
    protected override readonly hparams: GroupDroOptions,
  ) {
    super(network, hparams);
  }

  /** Current domain weights (a copy). */
  get weights(): number[] {
    return [...this.q];
  }

  /**
   * Updates q from the domain losses of the first evaluation only, so the objective stays a function
   * of the weights when SAM evaluates it a second time.
   */
  objective(minibatches: Minibatch[]): Objective {
    if (this.q.length !== minibatches.length) this.q = minibatches.map(() => 1);
    let updated = false;
    return (report) => {
      const { x, y } = poolMinibatches(minibatches);
      y.dispose();
      const losses = tf.stack(perDomainCrossEntropy(this.network.predict(x, true), minibatches)) as tf.Tensor1D;
      if (!updated) {
        this.q = groupDroWeights(this.q, Array.from(losses.dataSync()), this.hparams.groupdroEta);
        updated = true;
      }
      report('nll', tf.mean(losses) as tf.Scalar);
      return tf.sum(tf.mul(losses, tf.tensor1d(this.q))) as tf.Scalar;
    };
  }

  async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    return this.minimise(this.objective(minibatches));
  }

  /** Row count and loss sum of each domain. */
  statisticsSize(minibatches: Minibatch[]): number {
    return 2 * minibatches.length;
  }

  /** Workers follow the main thread's domain weights (they update their own copy the same way). */
  workerState(): Record<string, number | number[]> {
    return { q: [...this.q] };
  }

  setWorkerState(state: Record<string, number | number[]>): void {
    if (Array.isArray(state.q)) this.q = [...state.q];
  }

  /**
   * Data-parallel: the domain losses are loss sums over row counts, exchanged mid-pass; every part
   * takes the same q step from the same totals, and its share of the gradient of sum_i q_i l_i.
   */
  gradientShares(minibatches: Minibatch[], _step: number, allReduce: AllReduce): GradientResult {
    if (this.q.length !== minibatches.length) this.q = minibatches.map(() => 1);
    let q = this.q;
    let share: SummedLossShare | undefined;
    const result = objectiveGradients(() => {
      share = shareOfSummedLoss(minibatches, domainLossSums(this.network, minibatches), allReduce, (sums, counts) => {
        // q is a constant of the objective (DomainBed updates it outside autograd).
        const values = sums.dataSync();
        q = groupDroWeights(this.q, counts.map((n, i) => values[i]! / n), this.hparams.groupdroEta);
        return tf.sum(tf.mul(sums, tf.tensor1d(q.map((qi, i) => qi / counts[i]!)))) as tf.Scalar;
      });
      return share.surrogate;
    }, this.network.params.trainable());
    this.q = q;
    const { sums, counts, part } = share!;
    const losses = counts.map((n, i) => sums[i]! / n);
    const nll = losses.reduce((a, b) => a + b, 0) / losses.length;
    const loss = losses.reduce((a, l, i) => a + q[i]! * l, 0);
    return { grads: result.grads, losses: { nll: nll * part, loss: loss * part } };
  }

  override getState(): AlgorithmState {
    const s = super.getState();
    return { tensors: s.tensors, scalars: { ...s.scalars, q: [...this.q] } };
  }

  override setState(state: AlgorithmState): void {
    super.setState(state);
    const q = state.scalars.q;
    this.q = Array.isArray(q) ? [...q] : [];
  }
}

export const groupDroPlugin = definePlugin({
  kind: 'algorithm',
  name: 'GroupDRO',
  description: 'Group DRO: minimise the q-weighted domain losses, q updated by exponentiated gradient with step eta (arXiv 1911.08731)',
  options: GroupDroOptions,
  hparams: { ...baseAlgorithmHParams, groupdroEta: log10Uniform(-3, -1) },
  async create(options, ctx) {
    return new GroupDRO(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
