import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { readFloats, weightedSum } from '@qtdog/engine';
import { supportsDataParallel, type Algorithm, type AlgorithmState, type GradientResult, type Minibatch } from '../api/algorithm.js';
import type { Network } from '../api/network.js';
import { RunError } from '../errors.js';
import { disposeAll } from '../training/gradients.js';
import { partMinibatches, type Part, type WorkerInit, type WorkerReply, type WorkerRequest, type WorkerTimings } from './protocol.js';
import { abortReduce, createReduceBlock, ExchangeAbortedError, sharedAllReduce, type ReduceBlock } from './all-reduce.js';
import { layoutShared, sharedView, sharedViews, type SharedFloats } from './shared-floats.js';
import { gradientWorkerPath } from './worker-path.js';

/** Omit that distributes over a union of request kinds. */
type RequestBody = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };

class WorkerHandle {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly ready: Promise<void>;
  private terminating = false;
  /** Version of the weights this worker holds. */
  version = -1;
  numTensors = 0;

  constructor(init: WorkerInit, index: number) {
    this.worker = new Worker(gradientWorkerPath(), { workerData: init });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.worker.on('message', (m: WorkerReply) => {
      if (m.id === 0) {
        if (m.kind === 'ready') readyResolve();
        else if (m.kind === 'error') readyReject(new RunError(`data-parallel worker ${index}: ${m.message}`));
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.kind === 'error') p.reject(new RunError(`data-parallel worker ${index}: ${m.message}`));
      else p.resolve(m);
    });
    const fail = (e: Error) => {
      const err = new RunError(`data-parallel worker ${index} failed: ${e.message}`);
      readyReject(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      // terminate() ends a worker with code 1; that is not a failure.
      if (code !== 0 && !this.terminating) fail(new Error(`exited with code ${code}`));
    });
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  request(req: RequestBody, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const id = this.nextId++;
    const reply = new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
    // Marked handled: when this thread's own part throws first, nobody awaits the reply, and its
    // rejection must not end the process as an unhandled one (the step's own error is reported).
    reply.catch(() => {});
    return reply;
  }

  terminate(): Promise<number> {
    this.terminating = true;
    return this.worker.terminate();
  }
}

/** A step's minibatches as plain arrays, with the rows [start, end) of each part (0 = this thread). */
interface Split {
  shape: [number, number, number];
  data: Array<{ x: Float32Array; y: Int32Array; n: number; env: number }>;
  /** ranges[environment][part]. */
  ranges: Array<Array<[number, number]>>;
  /** Rows of each part over all environments, and their total. */
  counts: number[];
  total: number;
}

/** Rows [start, end) of a minibatch as plain arrays. */
function sliceRows(x: Float32Array, y: Int32Array, rowSize: number, start: number, end: number): { x: Float32Array; y: Int32Array } {
  return { x: x.slice(start * rowSize, end * rowSize), y: y.slice(start, end) };
}

/**
 * weights[0] * own + the sum over i of weights[i + 1] * others[i], as a new tensor (the caller
 * owns it; `own` is left alone). Each worker's array is copied into the backend (on wasm a memcpy
 * into its heap) and added by one fused kernel (engine's weightedSum: a single SIMD pass on wasm).
 */
export function sumParts(own: tf.Tensor, others: readonly Float32Array[], weights: readonly number[], what: string): tf.Tensor {
  if (others.length + 1 !== weights.length) throw new RunError(`data-parallel: ${others.length + 1} parts with ${weights.length} weights`);
  let acc: tf.Tensor | undefined;
  others.forEach((v, i) => {
    if (v.length !== own.size) {
      acc?.dispose();
      throw new RunError(`data-parallel worker ${i + 1}'s ${what} has ${v.length} elements, expected ${own.size}`);
    }
    // On cpu the tensor keeps the shared array itself, which the kernel reads before anything
    // rewrites it; the tensor is gone when this returns.
    const t = tf.tensor(v, own.shape);
    const next = acc ? weightedSum(acc, t, 1, weights[i + 1]!) : weightedSum(own, t, weights[0]!, weights[1]!);
    t.dispose();
    acc?.dispose();
    acc = next;
  });
  return acc ?? tf.mul(own, weights[0]!);
}

/** Sum of squares of the elements (SAM's gradient norm), accumulated in double precision. */
export function sumOfSquaresOf(a: Float32Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * a[j]!;
  return s;
}

/** Splits n rows into k nearly equal consecutive ranges. */
export function splitRanges(n: number, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const len = Math.floor(n / k) + (i < n % k ? 1 : 0);
    out.push([start, start + len]);
    start += len;
  }
  return out;
}

/**
 * Data-parallel training over worker threads, each with its own backend instance: every training
 * environment's minibatch is split into one part per worker (the main thread computes part 0), the
 * gradients are averaged weighted by part sizes, and the wrapped algorithm applies one optimizer
 * update. For algorithms whose loss is a mean over examples this equals single-worker training up
 * to float rounding. Evaluation batches are split the same way. An algorithm with a
 * `sharpnessRadius` (SAM) gets two such passes per step: at w, then at w + rho g/||g||.
 */
export class DataParallelAlgorithm implements Algorithm {
  readonly name: string;
  private readonly workers: WorkerHandle[];
  private version = 0;
  /** The weights of `sharedVersion`, which every worker reads from in place. */
  private shared?: SharedFloats;
  private sharedVersion = -1;
  /** Each worker's own timings in its latest gradient request (tools/bench/data-parallel-phases.mjs). */
  lastWorkerTimings: WorkerTimings[] = [];
  /** This thread's latest step after its own gradients, in ms: waiting for the workers, summing. */
  lastMergeTimings = { wait: 0, sum: 0 };
  /** The exchange of gradientShares algorithms (CORAL), kept while it is large enough. */
  private reduce?: ReduceBlock;

  private constructor(
    private readonly inner: Algorithm,
    private readonly network: Network,
    init: WorkerInit,
    extraWorkers: number,
  ) {
    this.name = inner.name;
    this.workers = Array.from({ length: extraWorkers }, (_, i) => new WorkerHandle(init, i + 1));
  }

  static async create(inner: Algorithm, network: Network, init: WorkerInit, workers: number): Promise<DataParallelAlgorithm> {
    if (!supportsDataParallel(inner)) {
      throw new RunError(
        `algorithm ${inner.name} does not support data-parallel training (it has neither computeGradients nor gradientShares/statisticsSize, with applyGradients)`,
      );
    }
    const dp = new DataParallelAlgorithm(inner, network, init, workers - 1);
    try {
      await Promise.all(dp.workers.map((w) => w.whenReady()));
    } catch (e) {
      dp.dispose();
      throw e;
    }
    return dp;
  }

  get numWorkers(): number {
    return this.workers.length + 1;
  }

  /** Largest live tensor count reported by a worker (leak checks). */
  get workerNumTensors(): number {
    return Math.max(0, ...this.workers.map((w) => w.numTensors));
  }

  /**
   * The shared weights when this worker's copy is stale. They are rewritten only here, at the start
   * of a step or evaluation batch, when every worker has answered its previous request.
   */
  private paramsFor(w: WorkerHandle): SharedFloats | undefined {
    if (w.version === this.version) return undefined;
    if (this.sharedVersion !== this.version) {
      // Laid out again each time: a quantizer may add parameters when it switches on.
      const params = this.network.params.all();
      this.shared = layoutShared(
        params.map((p) => ({ name: p.name, shape: p.variable.shape })),
        this.shared?.buffer,
      );
      const block = this.shared;
      params.forEach((p, i) => sharedView(block, block.entries[i]!).set(readFloats(p.variable)));
      this.sharedVersion = this.version;
    }
    w.version = this.version;
    return this.shared;
  }

  async update(minibatches: Minibatch[], step: number): Promise<Record<string, number>> {
    const split = this.split(minibatches);
    if (split.ranges.some((r) => r.some(([s, t]) => t === s))) {
      // A domain's minibatch smaller than the number of parts: this step on this thread alone.
      const losses = await this.inner.update(minibatches, step);
      this.version++;
      return losses;
    }
    if (!this.inner.computeGradients) {
      // Coupled through sums (CORAL): each part's share, the sums exchanged mid-pass.
      const capacity = this.inner.statisticsSize!(minibatches);
      if (!this.reduce || this.reduce.capacity < capacity) this.reduce = createReduceBlock(this.numWorkers, capacity);
      const shares = await this.gradientPass(split, step, this.reduce);
      return this.finish(shares.losses, shares.grads, step);
    }
    const rho = this.inner.sharpnessRadius;
    const first = await this.gradientPass(split, step);
    if (!rho) return this.finish(first.losses, first.grads, step);
    // SAM: the gradient of the whole batch at w + e, e = rho g / ||g||, with g the first pass's
    // averaged gradient. The weights move here; the next pass sends them to the workers.
    const params = this.network.params.trainable().filter((p) => first.grads[p.name]);
    const scale = rho / (Math.sqrt(first.sumOfSquares) + 1e-12);
    const saved = params.map((p) => {
      const w = tf.clone(p.variable);
      tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.mul(first.grads[p.name]!, scale))));
      return w;
    });
    disposeAll(first.grads);
    this.version++;
    let second: Awaited<ReturnType<DataParallelAlgorithm['gradientPass']>>;
    try {
      second = await this.gradientPass(split, step);
    } finally {
      // Restored from copies, as the one-thread samStep does, so no rounding drift accumulates.
      params.forEach((p, i) => p.variable.assign(saved[i]!));
      tf.dispose(saved);
      this.version++;
    }
    return this.finish({ ...first.losses, perturbedLoss: second.losses.loss! }, second.grads, step);
  }

  /** The optimizer update with the averaged gradients, which it disposes. */
  private finish(losses: Record<string, number>, grads: Record<string, tf.Tensor>, step: number): Record<string, number> {
    this.inner.applyGradients!(grads, step);
    disposeAll(grads);
    this.version++;
    return losses;
  }

  /** Every training environment's minibatch as plain arrays, and its rows for each part. */
  private split(minibatches: Minibatch[]): Split {
    const [, h, w, c] = minibatches[0]!.x.shape;
    const data = minibatches.map((m) => ({ x: m.x.dataSync() as Float32Array, y: m.y.dataSync() as Int32Array, n: m.x.shape[0], env: m.env }));
    const ranges = data.map((d) => splitRanges(d.n, this.numWorkers));
    const counts = ranges[0]!.map((_, i) => ranges.reduce((a, r) => a + r[i]![1] - r[i]![0], 0));
    return { shape: [h, w, c], data, ranges, counts, total: counts.reduce((a, b) => a + b, 0) };
  }

  /** Part `i` (1 and up: a worker's) of every environment's minibatch, for a request. */
  private partsFor(split: Split, i: number): { parts: Part[]; transfer: ArrayBuffer[] } {
    const rowSize = split.shape[0] * split.shape[1] * split.shape[2];
    const parts: Part[] = split.data.map((d, e) => {
      const [s, t] = split.ranges[e]![i]!;
      return { ...sliceRows(d.x, d.y, rowSize, s, t), n: t - s, env: d.env, firstRow: s };
    });
    return { parts, transfer: parts.flatMap((p) => [p.x.buffer as ArrayBuffer, p.y.buffer as ArrayBuffer]) };
  }

  /** This thread's part (part 0) as tensors; the caller disposes them. */
  private ownPart(split: Split): Minibatch[] {
    return partMinibatches(this.partsFor(split, 0).parts, split.shape);
  }

  /**
   * Gradients of the whole step's batch at the current weights, with their sum of squares; the
   * parts' BatchNorm statistics are merged too. Without `reduce`, each part's gradients (of its mean
   * loss) are averaged weighted by its size; with it, they are the parts' additive shares
   * (`gradientShares`, exchanging sums through `reduce`), and are summed.
   */
  private async gradientPass(
    split: Split,
    step: number,
    reduce?: ReduceBlock,
  ): Promise<{ losses: Record<string, number>; grads: Record<string, tf.Tensor>; sumOfSquares: number }> {
    // Parts for the helpers are sent first so they compute while the main thread does its own part.
    const algorithmState = this.inner.workerState?.();
    const replies = this.workers.map((w, i) => {
      const { parts, transfer } = this.partsFor(split, i + 1);
      return w.request(
        { kind: 'grads', step, version: this.version, params: this.paramsFor(w), parts, shape: split.shape, algorithmState, reduce, part: i + 1 },
        transfer,
      );
    });
    const mine = this.ownPart(split);
    let local: GradientResult;
    try {
      // With `reduce`, this thread blocks at the exchange until every worker reaches it.
      local = reduce ? this.inner.gradientShares!(mine, step, sharedAllReduce(reduce, 0)) : this.inner.computeGradients!(mine, step);
    } catch (e) {
      if (reduce) {
        // Workers waiting at the exchange fail at once; the next step gets a fresh exchange.
        abortReduce(reduce, 0);
        this.reduce = undefined;
        // When a worker failed first, its own error is the one to report.
        if (e instanceof ExchangeAbortedError) {
          const first = (await Promise.allSettled(replies)).find((r) => r.status === 'rejected');
          if (first) throw first.reason;
        }
      }
      throw e;
    } finally {
      for (const m of mine) tf.dispose([m.x, m.y]);
    }
    const { counts, total } = split;
    const weights = reduce ? counts.map(() => 1) : counts.map((n) => n / total);
    const t0 = performance.now();
    let results: Array<Extract<WorkerReply, { kind: 'grads' }>>;
    try {
      results = (await Promise.all(replies)) as typeof results;
    } catch (e) {
      disposeAll(local.grads);
      // A worker failed: its exchange may hold a half-finished round, so the next step gets a fresh one.
      if (reduce) this.reduce = undefined;
      throw e;
    }
    const t1 = performance.now();
    const losses: Record<string, number> = {};
    // Losses like gradients: each part's mean weighted by its size, or the parts' shares summed.
    for (const [name, v] of Object.entries(local.losses)) losses[name] = v * weights[0]!;
    // The weighted sum of this thread's gradients and the workers' (read in place from their
    // shared buffers), one kernel per parameter and worker.
    const gradViews = results.map((r) => sharedViews(r.grads));
    const summed: Record<string, tf.Tensor> = {};
    let sumOfSquares = 0;
    try {
      for (const [name, g] of Object.entries(local.grads)) {
        const others = gradViews.map((views, i) => {
          const v = views.get(name);
          if (!v) throw new RunError(`data-parallel worker ${i + 1} returned no gradient for ${name}`);
          return v;
        });
        summed[name] = sumParts(g, others, weights, `gradient for ${name}`);
        if (this.inner.sharpnessRadius) sumOfSquares += sumOfSquaresOf(readFloats(summed[name]!));
      }
    } catch (e) {
      disposeAll(summed);
      throw e;
    } finally {
      disposeAll(local.grads);
    }
    results.forEach((r, i) => {
      this.workers[i]!.numTensors = r.numTensors;
      for (const [name, v] of Object.entries(r.losses)) losses[name] = (losses[name] ?? 0) + v * weights[i + 1]!;
    });
    this.lastWorkerTimings = results.map((r) => r.ms);
    // Non-trainable state that forward passes update (BatchNorm running statistics, EMA ranges):
    // the average over the parts, weighted by their sizes. For running means this equals the
    // single-worker value; running variances miss the spread between the parts' means.
    const sizeWeights = counts.map((n) => n / total);
    const bufferViews = results.map((r) => sharedViews(r.buffers));
    for (const p of this.network.params.all()) {
      if (p.trainable) continue;
      const parts = bufferViews.map((views) => views.get(p.name));
      if (!parts.every((v): v is Float32Array => v !== undefined)) continue;
      const merged = sumParts(p.variable, parts, sizeWeights, `buffer ${p.name}`);
      p.variable.assign(merged);
      merged.dispose();
    }
    this.lastMergeTimings = { wait: t1 - t0, sum: performance.now() - t1 };
    return { losses, grads: summed, sumOfSquares };
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return this.inner.predict(x);
  }

  /** Logits with the batch split across the workers. */
  async predictAsync(x: tf.Tensor4D): Promise<tf.Tensor2D> {
    const [n, h, w, c] = x.shape;
    const k = this.numWorkers;
    if (n < 2 * k) return this.inner.predict(x);
    const ranges = splitRanges(n, k);
    const all = x.dataSync() as Float32Array;
    const rowSize = h * w * c;
    const replies = this.workers.map((wk, i) => {
      const [s, t] = ranges[i + 1]!;
      const part = all.slice(s * rowSize, t * rowSize);
      return wk.request(
        { kind: 'predict', version: this.version, params: this.paramsFor(wk), x: part, n: t - s, shape: [h, w, c] },
        [part.buffer as ArrayBuffer],
      );
    });
    const [s0, t0] = ranges[0]!;
    const mine = tf.tidy(() => this.inner.predict(tf.slice(x, [s0, 0, 0, 0], [t0 - s0, h, w, c])));
    const results = (await Promise.all(replies)) as Array<Extract<WorkerReply, { kind: 'predict' }>>;
    results.forEach((r, i) => (this.workers[i]!.numTensors = r.numTensors));
    return tf.tidy(() => {
      const parts = [mine, ...results.map((r) => tf.tensor2d(r.logits, [r.logits.length / r.classes, r.classes]))];
      const out = tf.concat(parts) as tf.Tensor2D;
      mine.dispose();
      return out;
    });
  }

  getState(): AlgorithmState {
    return this.inner.getState?.() ?? { tensors: {}, scalars: {} };
  }

  setState(state: AlgorithmState): void {
    this.inner.setState?.(state);
    this.version++;
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
    this.inner.dispose?.();
  }
}
