import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  Adam,
  BaseAlgorithmOptions,
  baseAlgorithmHParams,
  choice,
  crossEntropy,
  definePlugin,
  disposeAll,
  log10Uniform,
  log2UniformInt,
  NetworkToken,
  Rng,
  RunContextToken,
  seedHash,
  type Algorithm,
  type AlgorithmState,
  type Minibatch,
  type Network,
  type RunContext,
} from '@qtdog/core';
import { poolMinibatches } from './minibatches.js';
import { Mlp, type MlpPass } from './mlp.js';
import { objectiveGradients, type ReportTerm } from './objective.js';

export const DannOptions = BaseAlgorithmOptions.extend({
  /** Weight of the adversarial term in the generator's loss. */
  lambda: z.number().min(0).default(1),
  /** Discriminator updates per generator update (the two alternate). */
  dStepsPerGStep: z.number().int().positive().default(1),
  /** Weight of the penalty on the squared norm of the discriminator's input gradient. */
  gradPenalty: z.number().min(0).default(0),
  /** Adam's beta1 for both optimizers (beta2 is 0.9, as DomainBed). */
  beta1: z.number().min(0).lt(1).default(0.5),
  mlpWidth: z.number().int().positive().default(256),
  mlpDepth: z.number().int().min(2).default(3),
  mlpDropout: z.number().min(0).lt(1).default(0),
  /** Discriminator learning rate (DomainBed's lr_d); defaults to `lr`. */
  lrD: z.number().positive().optional(),
  /** Discriminator weight decay (DomainBed's weight_decay_d). */
  weightDecayD: z.number().min(0).default(0),
});
export type DannOptions = z.output<typeof DannOptions>;

/**
 * Domain-Adversarial Neural Networks (Ganin et al., arXiv 1505.07818) as DomainBed's DANN: an MLP
 * discriminator predicts the training domain from the features; discriminator and generator
 * (featurizer + classifier) steps alternate, each with its own Adam. The discriminator's parameters
 * belong to this algorithm, not to the network (so a quantizer never sees them), and are saved in
 * its state.
 */
export class DANN implements Algorithm {
  readonly name = 'DANN';
  readonly discriminator: Mlp;
  private readonly genOpt: Adam;
  private readonly discOpt: Adam;
  private readonly rng: Rng;
  private updateCount = 0;

  constructor(
    private readonly network: Network,
    private readonly hparams: DannOptions,
    private readonly numDomains: number,
    seed: number,
  ) {
    this.discriminator = new Mlp(
      network.featureDim,
      numDomains,
      { width: hparams.mlpWidth, depth: hparams.mlpDepth, dropout: hparams.mlpDropout },
      seedHash(seed, 'discriminator'),
      'discriminator',
    );
    this.rng = new Rng(seedHash(seed, 'dropout'));
    const betas = { beta1: hparams.beta1, beta2: 0.9 };
    this.genOpt = new Adam({ lr: hparams.lr, weightDecay: hparams.weightDecay, ...betas });
    this.discOpt = new Adam({ lr: hparams.lrD ?? hparams.lr, weightDecay: hparams.weightDecayD, ...betas });
  }

  /**
   * The discriminator's loss on features z: CE against the domain labels, plus gradPenalty times
   * the mean squared norm of d(summed CE)/dz (the backward pass written out: first-order autodiff only).
   */
  discriminatorLoss(z: tf.Tensor2D, domains: tf.Tensor1D, masks: tf.Tensor2D[] | undefined, report: ReportTerm): tf.Scalar {
    return tf.tidy(() => {
      const pass: MlpPass = this.discriminator.forward(z, masks);
      const ce = crossEntropy(pass.logits, domains);
      if (this.hparams.gradPenalty <= 0) return ce;
      const dLogits = tf.sub(tf.softmax(pass.logits), tf.oneHot(domains, this.numDomains)) as tf.Tensor2D;
      const g = this.discriminator.inputGradient(dLogits, pass);
      const penalty = tf.mean(tf.sum(tf.square(g), 1)) as tf.Scalar;
      report('gradPenalty', penalty);
      return tf.add(ce, tf.mul(penalty, this.hparams.gradPenalty)) as tf.Scalar;
    });
  }

  async update(minibatches: Minibatch[]): Promise<Record<string, number>> {
    if (minibatches.length > this.numDomains) {
      throw new Error(`DANN was built for ${this.numDomains} training domains but got ${minibatches.length} minibatches`);
    }
    this.updateCount += 1;
    const d = this.hparams.dStepsPerGStep;
    const discStep = this.updateCount % (1 + d) < d;
    const { x, y } = poolMinibatches(minibatches);
    const domains = tf.tidy(() => tf.concat(minibatches.map((m, i) => tf.fill([m.x.shape[0]], i, 'int32'))) as tf.Tensor1D);
    const masks = this.discriminator.dropoutMasks(x.shape[0], this.rng);
    try {
      if (discStep) {
        // The generator is not updated: its features are constants here.
        const z = tf.tidy(() => this.network.featurize(x, true));
        const { losses, grads } = objectiveGradients(
          (report) => this.discriminatorLoss(z, domains, masks, report),
          this.discriminator.params.trainable(),
        );
        this.discOpt.apply(this.discriminator.params.trainable(), grads);
        disposeAll(grads);
        const cls = tf.tidy(() => crossEntropy(this.network.classify(z, true), y));
        const loss = cls.dataSync()[0]!;
        tf.dispose([z, cls]);
        const { loss: discLoss, ...rest } = losses;
        return { loss, discLoss: discLoss!, ...rest };
      }
      const params = this.network.params.trainable();
      const { losses, grads } = objectiveGradients((report) => {
        const z = this.network.featurize(x, true);
        const cls = crossEntropy(this.network.classify(z, true), y);
        const disc = this.discriminatorLoss(z, domains, masks, report);
        report('classifierLoss', cls);
        report('discLoss', disc);
        return tf.sub(cls, tf.mul(disc, this.hparams.lambda)) as tf.Scalar;
      }, params);
      this.genOpt.apply(params, grads);
      disposeAll(grads);
      const { loss: genLoss, classifierLoss, ...rest } = losses;
      return { ...rest, loss: classifierLoss!, genLoss: genLoss! };
    } finally {
      tf.dispose([x, y, domains, ...(masks ?? [])]);
    }
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return this.network.predict(x, false);
  }

  getState(): AlgorithmState {
    const gen = this.genOpt.getState('adam');
    const disc = this.discOpt.getState('discAdam');
    const weights = Object.fromEntries(this.discriminator.params.all().map((p) => [`discriminator/${p.name}`, p.variable as tf.Tensor]));
    return {
      tensors: { ...gen.tensors, ...disc.tensors, ...weights },
      scalars: { ...gen.scalars, ...disc.scalars, updateCount: this.updateCount, dropoutRng: this.rng.getState() },
    };
  }

  setState(state: AlgorithmState): void {
    this.genOpt.setState(state, 'adam');
    this.discOpt.setState(state, 'discAdam');
    for (const p of this.discriminator.params.all()) {
      const t = state.tensors[`discriminator/${p.name}`];
      if (t) p.variable.assign(t);
    }
    this.updateCount = Number(state.scalars.updateCount ?? 0);
    const rng = state.scalars.dropoutRng;
    if (Array.isArray(rng) && rng.length === 4) this.rng.setState(rng as [number, number, number, number]);
  }

  dispose(): void {
    this.genOpt.dispose();
    this.discOpt.dispose();
    this.discriminator.dispose();
  }
}

export const dannPlugin = definePlugin({
  kind: 'algorithm',
  name: 'DANN',
  description: 'Domain-adversarial training: MLP domain discriminator on the features, alternating discriminator/generator Adam steps (arXiv 1505.07818)',
  options: DannOptions,
  hparams: {
    ...baseAlgorithmHParams,
    lambda: log10Uniform(-2, 2),
    dStepsPerGStep: log2UniformInt(0, 3),
    gradPenalty: log10Uniform(-2, 1),
    beta1: choice([0, 0.5]),
    mlpWidth: log2UniformInt(6, 10),
    mlpDepth: choice([3, 4, 5]),
    mlpDropout: choice([0, 0.1, 0.5]),
    lrD: log10Uniform(-4.5, -2.5),
    weightDecayD: log10Uniform(-6, -2),
  },
  async create(options, ctx) {
    const network = await ctx.container.getAsync<Network>(NetworkToken);
    const run = await ctx.container.getAsync<RunContext>(RunContextToken);
    return new DANN(network, options, run.numTrainEnvs, ctx.seed);
  },
});
