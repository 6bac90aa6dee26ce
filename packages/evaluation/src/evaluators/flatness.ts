import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { definePlugin, Rng, seedHash, type EvaluationContext, type Evaluator, type Network, type Param } from '@qtdog/core';
import { mean, sampleStd } from '../stats.js';

export const FlatnessOptions = z.object({
  /** Radii gamma = ||w' - w|| (Euclidean norm over every perturbed parameter). */
  radii: z.array(z.number().min(0)).min(1).default([0.5, 1, 2, 4]),
  /** Random directions per radius (QT-DoG: 100; fewer keeps it affordable on a CPU). */
  samples: z.number().int().positive().default(10),
  /** At most this many examples of each environment's `in` split (a seeded subset). */
  maxExamples: z.number().int().positive().default(1000),
  /**
   * Also perturb the quantizer's own parameters (LSQ step sizes). Off by default: the perturbed
   * weights then live in the same space for float and quantized models, and the quantizer turns
   * them into the weights the model runs with.
   */
  includeQuantizerParams: z.boolean().default(false),
  when: z.enum(['checkpoint', 'end']).default('end'),
});
export type FlatnessOptions = z.output<typeof FlatnessOptions>;

/** A loss to probe: evaluated at the current parameter values. */
export type LossProbe = () => number | Promise<number>;

export interface FlatnessCurve {
  radii: number[];
  /** Per probe and radius: mean over directions of L(w + r d) - L(w). */
  mean: number[][];
  /** Per probe and radius: the deltas of every direction. */
  deltas: number[][][];
  /** Per probe: L(w). */
  base: number[];
}

/** Unit-norm Gaussian direction over the given parameters, drawn from our seeded generator. */
function randomDirection(params: readonly Param[], rng: Rng): Float32Array[] {
  const parts = params.map((p) => {
    const a = new Float32Array(p.variable.size);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    return a;
  });
  let sq = 0;
  for (const a of parts) for (let i = 0; i < a.length; i++) sq += a[i]! * a[i]!;
  const inv = 1 / Math.sqrt(sq);
  for (const a of parts) for (let i = 0; i < a.length; i++) a[i]! *= inv;
  return parts;
}

/**
 * Monte Carlo flatness F(gamma) = E_{||w' - w|| = gamma}[L(w') - L(w)] (QT-DoG, arXiv 2410.06020,
 * Sec. 3.4; the estimate of SWAD, arXiv 2102.08604): for each random direction d (Gaussian over all
 * given parameters, unit norm) and radius r, set w' = w + r d and measure every probe. The same
 * directions serve every radius, so the curves are smooth in r. The parameters are restored to
 * their exact original values afterwards, even when a probe throws.
 */
export async function flatnessCurve(params: readonly Param[], probes: readonly LossProbe[], radii: readonly number[], samples: number, seed: number): Promise<FlatnessCurve> {
  const originals = params.map((p) => tf.clone(p.variable));
  const base: number[] = [];
  for (const probe of probes) base.push(await probe());
  const deltas = probes.map(() => radii.map(() => [] as number[]));
  try {
    for (let s = 0; s < samples; s++) {
      const dir = randomDirection(params, new Rng(seedHash(seed, 'flatness-direction', s))).map((a, k) => tf.tensor(a, params[k]!.variable.shape));
      try {
        for (const [ri, r] of radii.entries()) {
          params.forEach((p, k) => {
            const moved = tf.tidy(() => tf.add(originals[k]!, tf.mul(dir[k]!, r)));
            p.variable.assign(moved);
            moved.dispose();
          });
          for (const [pi, probe] of probes.entries()) deltas[pi]![ri]!.push((await probe()) - base[pi]!);
        }
      } finally {
        tf.dispose(dir);
      }
    }
  } finally {
    params.forEach((p, k) => p.variable.assign(originals[k]!));
    tf.dispose(originals);
  }
  const mean = deltas.map((perRadius) => perRadius.map((d) => d.reduce((a, b) => a + b, 0) / d.length));
  return { radii: [...radii], mean, deltas, base };
}

/** The examples of one environment a probe uses: a seeded subset of its `in` split, read once. */
async function loadProbeData(ctx: EvaluationContext, env: number, maxExamples: number, seed: number): Promise<Array<{ x: tf.Tensor4D; y: tf.Tensor1D; n: number }>> {
  const all = ctx.splits[env]!.in;
  let idx: Int32Array = all;
  if (all.length > maxExamples) {
    const perm = new Rng(seedHash(seed, 'flatness-examples', env)).permutation(all.length);
    idx = new Int32Array(maxExamples);
    for (let i = 0; i < maxExamples; i++) idx[i] = all[perm[i]!]!;
  }
  const [h, w, c] = ctx.inputShape;
  const chunks: Array<{ x: tf.Tensor4D; y: tf.Tensor1D; n: number }> = [];
  for (let start = 0; start < idx.length; start += ctx.evalBatchSize) {
    const b = await ctx.environments[env]!.read(idx.subarray(start, Math.min(idx.length, start + ctx.evalBatchSize)), 'eval');
    chunks.push({ x: tf.tensor4d(b.x, [b.n, h, w, c]), y: tf.tensor1d(b.y, 'int32'), n: b.n });
  }
  return chunks;
}

/** Mean cross-entropy of the network as it runs (quantizer transform included) over the chunks. */
function meanLoss(network: Network, chunks: ReadonlyArray<{ x: tf.Tensor4D; y: tf.Tensor1D; n: number }>): number {
  let sum = 0;
  let n = 0;
  for (const ch of chunks) {
    sum += tf.tidy(() => {
      const logits = network.predict(ch.x, false);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(ch.y, logits.shape[1]), logits, undefined, undefined, tf.Reduction.SUM).dataSync()[0]!;
    });
    n += ch.n;
  }
  return sum / n;
}

/** Flatness of the model at a checkpoint, on training and on test environments. */
export class FlatnessEvaluator implements Evaluator {
  readonly name = 'flatness';
  readonly when: 'checkpoint' | 'end';

  constructor(readonly options: FlatnessOptions) {
    this.when = options.when;
  }

  async evaluate(ctx: EvaluationContext): Promise<Record<string, unknown>> {
    const { network } = ctx;
    const params = network.params.trainable().filter((p) => this.options.includeQuantizerParams || p.role !== 'quantizer');
    const envs = [...ctx.trainEnvs, ...ctx.testEnvs];
    const data = new Map<number, Awaited<ReturnType<typeof loadProbeData>>>();
    try {
      for (const e of envs) data.set(e, await loadProbeData(ctx, e, this.options.maxExamples, ctx.seed));
      const probes = envs.map((e) => () => meanLoss(network, data.get(e)!));
      const curve = await flatnessCurve(params, probes, this.options.radii, this.options.samples, ctx.seed);
      const at = (list: readonly number[]) => list.map((e) => envs.indexOf(e));
      // Per direction, the mean delta over a set of environments; then mean and spread over directions.
      const summarise = (which: number[]) => {
        const perRadius = this.options.radii.map((_, ri) =>
          Array.from({ length: this.options.samples }, (_, s) => mean(which.map((pi) => curve.deltas[pi]![ri]![s]!))),
        );
        return { mean: perRadius.map(mean), std: perRadius.map(sampleStd), base: mean(which.map((pi) => curve.base[pi]!)) };
      };
      const train = summarise(at(ctx.trainEnvs));
      const test = ctx.testEnvs.length ? summarise(at(ctx.testEnvs)) : undefined;
      return {
        radii: curve.radii,
        samples: this.options.samples,
        train: train.mean,
        trainStd: train.std,
        baseTrainLoss: train.base,
        test: test?.mean ?? [],
        testStd: test?.std ?? [],
        baseTestLoss: test?.base ?? null,
        perEnv: Object.fromEntries(envs.map((e, pi) => [String(e), curve.mean[pi]])),
        examples: Object.fromEntries(envs.map((e) => [String(e), data.get(e)!.reduce((a, c) => a + c.n, 0)])),
        parameters: params.reduce((a, p) => a + p.variable.size, 0),
        quantized: ctx.quantizer?.active ?? false,
      };
    } finally {
      for (const chunks of data.values()) for (const c of chunks) tf.dispose([c.x, c.y]);
    }
  }
}

export const flatnessPlugin = definePlugin({
  kind: 'evaluator',
  name: 'flatness',
  description: 'Flatness F(gamma) = E[L(w+gamma d) - L(w)] over random unit directions d, on training and test domains (QT-DoG Sec. 3.4, arXiv 2410.06020)',
  options: FlatnessOptions,
  create: (options) => new FlatnessEvaluator(options),
});
