import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  definePlugin,
  saveWeights,
  stepOption,
  type CheckpointInfo,
  type EvaluationContext,
  type Network,
  type TrainingHook,
} from '@qtdog/core';
import { LossValley } from './loss-valley.js';

export const SwadOptions = z.object({
  /** Checkpoints whose losses decide where the loss valley starts; fewer checkpoints and SWAD never averages. */
  nConverge: stepOption(z.number().int().positive(), {
    counts: 'checkpoint',
    neverReached: 'SWAD would never find the loss valley and average nothing',
    severity: 'error',
  }).default(3),
  nTolerance: z.number().int().positive().default(6),
  toleranceRatio: z.number().min(0).default(0.3),
  /** Stop training when the loss valley ends (SWAD does). */
  earlyStop: z.boolean().default(true),
});
export type SwadOptions = z.output<typeof SwadOptions>;

/** Parameter values by name, copied out of the backend (segments are kept off the tensor engine). */
type Weights = Map<string, { values: Float32Array; shape: number[] }>;

interface Segment {
  startStep: number;
  endStep: number;
  weights: Weights;
}

/** Mean `out` loss over the training environments of a checkpoint record (`env{i}_out_loss`, test envs excluded). */
export function trainOutLoss(record: Record<string, unknown>): number {
  const config = record.config as { dataset?: { testEnvs?: number[] } } | undefined;
  const testEnvs = new Set(config?.dataset?.testEnvs ?? []);
  const losses: number[] = [];
  for (const [key, value] of Object.entries(record)) {
    const m = /^env(\d+)_out_loss$/.exec(key);
    if (m && !testEnvs.has(Number(m[1])) && typeof value === 'number') losses.push(value);
  }
  return losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN;
}

/**
 * SWAD (Cha et al., arXiv 2102.08604) as a training hook around any algorithm: a dense running
 * average of every network parameter after every step, cut into segments at checkpoints; each
 * segment goes to the loss-valley detector with the checkpoint's mean `out` loss over the training
 * environments. The final model is the uniform average of the accepted segments (SWAD averages the
 * segment averages); `onEnd` evaluates it on every environment, saves it to
 * `checkpoints/swad` and returns its accuracies (final.json). Parameters that appear during training
 * (a quantizer's step sizes) are averaged over the steps and segments that have them. Networks with
 * BatchNorm would need their statistics re-estimated after averaging; MNIST_CNN uses GroupNorm.
 */
export class SwadHook implements TrainingHook {
  readonly name = 'SWAD';
  readonly valley: LossValley<Segment>;
  private readonly running = new Map<string, { avg: tf.Variable; count: number }>();
  private segmentStart = 0;
  private lastStep = -1;
  private last: Segment | undefined;
  private readonly sum = new Map<string, { values: Float64Array; shape: number[]; count: number }>();
  /** Step ranges of the accepted segments (their weights are summed into `sum`, not kept). */
  private accepted: Array<{ startStep: number; endStep: number }> = [];

  constructor(readonly options: SwadOptions) {
    this.valley = new LossValley<Segment>(options);
  }

  afterStep(step: number, network: Network): void {
    for (const p of network.params.all()) {
      const r = this.running.get(p.name);
      if (!r) {
        this.running.set(p.name, { avg: tf.variable(tf.clone(p.variable), false), count: 1 });
      } else if (r.count === 0) {
        r.avg.assign(p.variable);
        r.count = 1;
      } else {
        r.count += 1;
        const n = r.count;
        tf.tidy(() => r.avg.assign(tf.add(r.avg, tf.div(tf.sub(p.variable, r.avg), n))));
      }
    }
    this.lastStep = step;
  }

  onCheckpoint(info: CheckpointInfo): void | 'stop' {
    const segment = this.closeSegment(info.step);
    if (!segment) return;
    for (const s of this.valley.push(segment, trainOutLoss(info.record))) this.accept(s);
    if (this.valley.dead && this.options.earlyStop) return 'stop';
  }

  /** The averaged weights: accepted segments; before convergence, the last segment (as SWAD). */
  finalWeights(): { weights: Weights; converged: boolean } {
    for (const s of this.valley.finish()) this.accept(s);
    if (this.accepted.length > 0) {
      const weights: Weights = new Map();
      for (const [name, s] of this.sum) weights.set(name, { values: Float32Array.from(s.values, (v) => v / s.count), shape: s.shape });
      return { weights, converged: true };
    }
    this.closeSegment(this.lastStep);
    return { weights: this.last?.weights ?? new Map(), converged: false };
  }

  async onEnd(network: Network, ctx: EvaluationContext): Promise<Record<string, unknown>> {
    const { weights, converged } = this.finalWeights();
    const originals: Array<[tf.Variable, tf.Tensor]> = [];
    let accuracies: Record<string, number>;
    try {
      for (const [name, w] of weights) {
        if (!network.params.has(name)) continue;
        const v = network.params.get(name).variable;
        originals.push([v, tf.clone(v)]);
        tf.tidy(() => v.assign(tf.tensor(w.values, w.shape)));
      }
      accuracies = await ctx.evaluateAll((x) => network.predict(x, false));
    } finally {
      for (const [v, t] of originals) {
        v.assign(t);
        t.dispose();
      }
    }
    const first = this.accepted[0];
    const lastAccepted = this.accepted[this.accepted.length - 1];
    const summary = {
      converged,
      valleyEnded: this.valley.dead,
      segments: this.accepted.length,
      startStep: first?.startStep ?? null,
      endStep: lastAccepted?.endStep ?? null,
      threshold: this.valley.threshold ?? null,
    };
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, w] of weights) tensors[name] = tf.tensor(w.values, w.shape);
    try {
      saveWeights(`${ctx.outDir}/checkpoints/swad`, tensors, { network: network.name, swad: summary });
    } finally {
      tf.dispose(Object.values(tensors));
    }
    const trainOut = ctx.trainEnvs.map((i) => accuracies[`env${i}_out_acc`] ?? NaN);
    return { ...accuracies, trainDomainValAcc: trainOut.reduce((a, b) => a + b, 0) / trainOut.length, ...summary };
  }

  private closeSegment(endStep: number): Segment | undefined {
    const weights: Weights = new Map();
    for (const [name, r] of this.running) {
      if (r.count === 0) continue;
      weights.set(name, { values: Float32Array.from(r.avg.dataSync() as Float32Array), shape: r.avg.shape });
      r.count = 0;
    }
    if (weights.size === 0) return undefined;
    const segment = { startStep: this.segmentStart, endStep, weights };
    this.segmentStart = endStep + 1;
    this.last = segment;
    return segment;
  }

  private accept(segment: Segment): void {
    this.accepted.push({ startStep: segment.startStep, endStep: segment.endStep });
    for (const [name, w] of segment.weights) {
      let s = this.sum.get(name);
      if (!s) {
        s = { values: new Float64Array(w.values.length), shape: w.shape, count: 0 };
        this.sum.set(name, s);
      }
      const acc = s.values;
      w.values.forEach((v, i) => (acc[i] = acc[i]! + v));
      s.count += 1;
    }
  }

  /**
   * The hook's state at a checkpoint (the trainer calls it right after onCheckpoint, when the running
   * segment has just been closed): the last segment, the accepted sum (float64, kept exact as a
   * float32 high part plus a float32 remainder), the valley's queued segments and its threshold.
   * The returned tensors are new: the caller disposes them.
   */
  getState(): { tensors: Record<string, tf.Tensor>; scalars: Record<string, number | number[]> } {
    const tensors: Record<string, tf.Tensor> = {};
    const scalars: Record<string, number | number[]> = {
      segmentStart: this.segmentStart,
      lastStep: this.lastStep,
      accepted: this.accepted.flatMap((a) => [a.startStep, a.endStep]),
    };
    const putSegment = (prefix: string, seg: Segment) => {
      scalars[`${prefix}/steps`] = [seg.startStep, seg.endStep];
      for (const [name, w] of seg.weights) tensors[`${prefix}/${name}`] = tf.tensor(w.values, w.shape);
    };
    if (this.last) putSegment('last', this.last);
    for (const [name, sum] of this.sum) {
      const hi = Float32Array.from(sum.values);
      const lo = Float32Array.from(sum.values, (v, i) => v - hi[i]!);
      tensors[`sumhi/${name}`] = tf.tensor(hi, sum.shape);
      tensors[`sumlo/${name}`] = tf.tensor(lo, sum.shape);
      scalars[`sumcount/${name}`] = sum.count;
    }
    const valley = this.valley.snapshot();
    scalars.valley = [valley.threshold ?? NaN, valley.dead ? 1 : 0, valley.recent.length, valley.pending.length].map((v) => (Number.isNaN(v) ? -1 : v));
    scalars.valleyHasThreshold = valley.threshold === null ? 0 : 1;
    for (const [kind, entries] of [['recent', valley.recent], ['pending', valley.pending]] as const) {
      entries.forEach((e, k) => {
        putSegment(`${kind}${k}`, e.segment);
        // JSON has no Infinity: a non-finite loss is kept as a flag.
        scalars[`${kind}${k}/loss`] = Number.isFinite(e.loss) ? [e.loss, 0] : [0, 1];
      });
    }
    return { tensors, scalars };
  }

  setState(state: { tensors: Record<string, tf.Tensor>; scalars: Record<string, number | number[]> }): void {
    const { tensors, scalars } = state;
    const segment = (prefix: string): Segment => {
      const [startStep, endStep] = scalars[`${prefix}/steps`] as number[];
      const weights: Weights = new Map();
      for (const [key, t] of Object.entries(tensors)) {
        if (key.startsWith(`${prefix}/`)) weights.set(key.slice(prefix.length + 1), { values: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape });
      }
      return { startStep: startStep!, endStep: endStep!, weights };
    };
    this.segmentStart = scalars.segmentStart as number;
    this.lastStep = scalars.lastStep as number;
    const acc = (scalars.accepted as number[]) ?? [];
    this.accepted = [];
    for (let i = 0; i < acc.length; i += 2) this.accepted.push({ startStep: acc[i]!, endStep: acc[i + 1]! });
    this.last = scalars['last/steps'] ? segment('last') : undefined;
    this.sum.clear();
    for (const [key, hi] of Object.entries(tensors)) {
      if (!key.startsWith('sumhi/')) continue;
      const name = key.slice('sumhi/'.length);
      const h = hi.dataSync() as Float32Array;
      const l = tensors[`sumlo/${name}`]!.dataSync() as Float32Array;
      this.sum.set(name, { values: Float64Array.from(h, (v, i) => v + l[i]!), shape: hi.shape, count: scalars[`sumcount/${name}`] as number });
    }
    const [threshold, dead, nRecent, nPending] = scalars.valley as number[];
    const entries = (kind: string, n: number) =>
      Array.from({ length: n }, (_, k) => {
        const [loss, inf] = scalars[`${kind}${k}/loss`] as number[];
        return { segment: segment(`${kind}${k}`), loss: inf ? Infinity : loss! };
      });
    this.valley.restore({
      recent: entries('recent', nRecent!),
      pending: entries('pending', nPending!),
      threshold: scalars.valleyHasThreshold ? threshold! : null,
      dead: dead === 1,
    });
    // The running averages start afresh at the next step (a segment was just closed).
    for (const r of this.running.values()) r.count = 0;
  }

  dispose(): void {
    for (const r of this.running.values()) r.avg.dispose();
    this.running.clear();
  }
}

export const swadPlugin = definePlugin({
  kind: 'hook',
  name: 'SWAD',
  description: 'SWAD: dense per-step weight averaging over the loss valley found on the training domains\' out loss; evaluates and saves the average (arXiv 2102.08604)',
  options: SwadOptions,
  create(options) {
    return new SwadHook(options);
  },
});
