import * as ort from 'onnxruntime-node';
import { Rng, type DomainDataset } from '@qtdog/core';
import { nhwcToNchw } from '../runtime/tensor-layout.js';
import type { ActivationScale } from './activation-policy.js';

export type CalibrationMethod = 'minmax' | 'percentile';

export interface CalibrationOptions {
  /** Number of batches of training-domain data (round-robin over the training environments). */
  batches: number;
  batchSize: number;
  method: CalibrationMethod;
  /** For `percentile`: the range covers this percentile of |x| (default 99.99). */
  percentile?: number;
  seed?: number;
}

/** At most this many values per point and batch are kept for the percentile (a strided sample). */
const SAMPLE = 1 << 18;

/** Observed range of one activation point. */
class PointStats {
  min = Infinity;
  max = -Infinity;
  readonly samples: Float32Array[] = [];

  add(v: Float32Array, keepSamples: boolean): void {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
    }
    if (keepSamples) {
      const stride = Math.max(1, Math.floor(v.length / SAMPLE));
      this.samples.push(stride === 1 ? v.slice() : Float32Array.from({ length: Math.floor(v.length / stride) }, (_, i) => v[i * stride]!));
    }
  }

  /** [lo, hi]: the observed range, or both ends cut at the percentile of each side. */
  range(method: CalibrationMethod, percentile: number): [number, number] {
    if (method === 'minmax') return [this.min, this.max];
    const all = Float32Array.from(this.samples.flatMap((s) => Array.from(s))).sort();
    const at = (q: number) => all[Math.min(all.length - 1, Math.max(0, Math.round(q * (all.length - 1))))]!;
    return [at(1 - percentile / 100), at(percentile / 100)];
  }
}

/** uint8 affine parameters covering [lo, hi] (widened to hold 0, so zero is exact, as ONNX requires of padding). */
export function uint8Scale(lo: number, hi: number): ActivationScale {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  const scale = b > a ? (b - a) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-a / scale))) };
}

/** Training-domain examples, eval mode, NCHW: `batches` batches drawn round-robin from the training environments. */
export async function* trainingDomainBatches(dataset: DomainDataset, testEnvs: readonly number[], opts: CalibrationOptions): AsyncGenerator<{ x: Float32Array; n: number }> {
  const envs = await dataset.load();
  const train = envs.filter((_, i) => !testEnvs.includes(i));
  const [h, w, c] = dataset.inputShape;
  const orders = train.map((e, i) => new Rng((opts.seed ?? 0) * 1000 + i).permutation(e.size));
  for (let b = 0; b < opts.batches; b++) {
    const k = b % train.length;
    const env = train[k]!;
    const start = Math.floor(b / train.length) * opts.batchSize;
    const idx = Array.from({ length: Math.min(opts.batchSize, env.size) }, (_, i) => orders[k]![(start + i) % env.size]!);
    const batch = await env.read(idx, 'eval');
    yield { x: nhwcToNchw(batch.x, batch.n, h, w, c), n: batch.n };
  }
}

/**
 * Runs a probe model (the float model with every activation point as an extra output) on
 * training-domain batches and returns a uint8 scale per point: min/max, or a percentile of each
 * side. Points named in `unsigned` (ReLU outputs) start at 0.
 */
export async function calibrateActivations(
  probeModel: Uint8Array,
  probes: ReadonlyMap<string, string>,
  dataset: DomainDataset,
  testEnvs: readonly number[],
  opts: CalibrationOptions,
): Promise<Map<string, ActivationScale>> {
  const session = await ort.InferenceSession.create(probeModel, { graphOptimizationLevel: 'all' });
  const stats = new Map([...probes.keys()].map((p) => [p, new PointStats()]));
  const [h, w, c] = dataset.inputShape;
  try {
    for await (const { x, n } of trainingDomainBatches(dataset, testEnvs, opts)) {
      const out = await session.run({ input: new ort.Tensor('float32', x, [n, c, h, w]) }, [...probes.values()]);
      for (const [point, name] of probes) stats.get(point)!.add(out[name]!.data as Float32Array, opts.method === 'percentile');
    }
  } finally {
    await session.release();
  }
  return new Map([...stats].map(([p, s]) => [p, uint8Scale(...s.range(opts.method, opts.percentile ?? 99.99))]));
}
