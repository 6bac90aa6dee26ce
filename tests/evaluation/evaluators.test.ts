import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamSet, Rng, type EvaluationContext } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { InMemoryEnvironment } from '@qtdog/datasets';
import { MnistCnn } from '@qtdog/networks';
import { LsqQuantizer } from '@qtdog/quantizers';
import { compressionStats, flatnessCurve, FlatnessEvaluator, FlatnessOptions } from '@qtdog/evaluation';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('flatnessCurve (Monte Carlo over random unit directions)', () => {
  it('is exactly r^2 for L(w) = ||w - c||^2 at its minimum, for every direction', async () => {
    const params = new ParamSet();
    const c = [0.5, -1, 2, 0.25, 3, -0.75];
    const w = params.add({ name: 'w', layer: 'l', role: 'dense', variable: tf.variable(tf.tensor2d(c, [2, 3])) });
    const loss = () => tf.tidy(() => tf.sum(tf.square(tf.sub(w.variable, tf.tensor2d(c, [2, 3])))).dataSync()[0]!);
    const curve = await flatnessCurve([w], [loss], [0, 0.5, 2], 7, 123);
    expect(curve.base).toEqual([0]);
    curve.deltas[0]!.forEach((perDir, i) => perDir.forEach((d) => expect(d).toBeCloseTo([0, 0.25, 4][i]!, 5)));
    curve.mean[0]!.forEach((m, i) => expect(m).toBeCloseTo([0, 0.25, 4][i]!, 5));
    params.dispose();
  });

  it('is the Monte Carlo mean of 2r d.(w - c) + r^2 away from the minimum (mean near r^2)', async () => {
    const params = new ParamSet();
    const n = 4000;
    const w = params.add({ name: 'w', layer: 'l', role: 'dense', variable: tf.variable(tf.fill([n], 0.01)) });
    const loss = () => tf.tidy(() => tf.sum(tf.square(w.variable)).dataSync()[0]!);
    const curve = await flatnessCurve([w], [loss], [1], 50, 7);
    // d.(w) has standard deviation ||w|| / sqrt(n) = 0.01: the mean over 50 directions is 1 +/- 0.003.
    expect(Math.abs(curve.mean[0]![0]! - 1)).toBeLessThan(0.02);
    params.dispose();
  });
});

/** Two environments of random 8x8 images for MNIST_CNN (2 classes). */
function context(network: MnistCnn): EvaluationContext {
  const rng = new Rng(5);
  const envs = [0, 1].map((e) => {
    const x = new Float32Array(40 * 64).map(() => rng.normal());
    const y = new Int32Array(40).map(() => rng.int(2));
    return new InMemoryEnvironment(`e${e}`, x, y);
  });
  const all = Int32Array.from({ length: 40 }, (_, i) => i);
  return {
    step: 10,
    network,
    algorithm: { name: 'stub', update: async () => ({}), predict: (x) => network.predict(x, false) },
    environments: envs,
    splits: envs.map(() => ({ in: all.subarray(0, 32), out: all.subarray(32) })),
    trainEnvs: [0],
    testEnvs: [1],
    inputShape: [8, 8, 1],
    evalBatchSize: 16,
    outDir: '/nowhere',
    seed: 99,
    evaluateAll: async () => ({}),
  };
}

describe('the flatness evaluator', () => {
  it('reports 0 at radius 0 and a change elsewhere, restores the weights exactly and leaks nothing', async () => {
    const network = new MnistCnn([8, 8, 1], 2, 3);
    const ctx = context(network);
    const before = network.params.all().map((p) => p.variable.dataSync().slice());
    const tensors = tf.memory().numTensors;
    const ev = new FlatnessEvaluator(FlatnessOptions.parse({ radii: [0, 20], samples: 2, maxExamples: 20 }));
    expect(ev.when).toBe('end');
    const out = (await ev.evaluate(ctx)) as { train: number[]; test: number[]; examples: Record<string, number>; radii: number[] };
    expect(out.radii).toEqual([0, 20]);
    expect(out.train[0]).toBe(0);
    expect(out.test[0]).toBe(0);
    // An untrained network on random labels may get better or worse when moved; it must change.
    expect(Math.abs(out.train[1]!)).toBeGreaterThan(1e-4);
    expect(Number.isFinite(out.test[1]!)).toBe(true);
    expect(out.examples).toEqual({ '0': 20, '1': 20 });
    expect(tf.memory().numTensors).toBe(tensors);
    network.params.all().forEach((p, i) => expect(p.variable.dataSync()).toEqual(before[i]));
    // Seeded: the same context gives the same numbers.
    expect(await ev.evaluate(ctx)).toEqual(out);
    network.dispose();
  });

  it('perturbs the float weights of a quantized model, not its step sizes, and runs them through the quantizer', async () => {
    const network = new MnistCnn([8, 8, 1], 2, 3);
    const q = new LsqQuantizer(network, { bits: 2, perChannel: true, startStep: 0 });
    q.onStep(0, network);
    const ctx = { ...context(network), quantizer: q };
    const steps = network.params.all().filter((p) => p.role === 'quantizer');
    expect(steps.length).toBe(4);
    const out = (await new FlatnessEvaluator(FlatnessOptions.parse({ radii: [0, 10], samples: 2, maxExamples: 16 })).evaluate(ctx)) as Record<string, unknown>;
    expect(out.quantized).toBe(true);
    expect(out.parameters).toBe(network.params.trainable().filter((p) => p.role !== 'quantizer').reduce((a, p) => a + p.variable.size, 0));
    expect((out.train as number[])[0]).toBe(0);
    network.dispose();
  });
});

describe('compression (MNIST_CNN, 28x28x1, 10 classes; numbers worked out by hand)', () => {
  // conv weights 3*3*1*64 + 3*3*64*128 + 2 * 3*3*128*128 = 576 + 73728 + 294912 = 369216;
  // conv biases 64 + 3*128 = 448; GroupNorm gamma+beta 2 * 448 = 896; classifier 128*10 + 10 = 1290.
  // Float: 371850 params * 4 = 1487400 bytes.
  // 7 bits: 369216 * 7 / 8 = 323064 bytes, 448 per-channel float scales = 1792 bytes,
  // the rest (448 + 896 + 1290) * 4 = 10536 bytes: 335392 bytes, ratio 1487400 / 335392 = 4.4348.
  it('per-channel 7-bit LSQ', () => {
    const network = new MnistCnn([28, 28, 1], 10, 1);
    const q = new LsqQuantizer(network, { bits: 7, perChannel: true, startStep: 0 });
    expect(compressionStats(network, q)).toMatchObject({ floatBytes: 1487400, packedBytes: 1487400, ratio: 1, bits: 32 });
    q.onStep(0, network);
    const s = compressionStats(network, q);
    expect(s.floatBytes).toBe(1487400);
    expect(s.packedBytes).toBe(335392);
    expect(s.ratio).toBeCloseTo(4.43481, 5);
    expect(s.quantizedWeightRatio).toBeCloseTo(32 / 7, 12);
    expect(s.layers.map((l) => [l.layer, l.bits, l.weights, l.scales, l.bytes])).toEqual([
      ['featurizer.conv1', 7, 576, 64, 504 + 256],
      ['featurizer.conv2', 7, 73728, 128, 64512 + 512],
      ['featurizer.conv3', 7, 147456, 128, 129024 + 512],
      ['featurizer.conv4', 7, 147456, 128, 129024 + 512],
      ['classifier', 32, 1280, 0, 5120],
    ]);
    network.dispose();
  });

  it('per-tensor 4-bit LSQ: one scale per layer', () => {
    const network = new MnistCnn([28, 28, 1], 10, 1);
    const q = new LsqQuantizer(network, { bits: 4, perChannel: false, startStep: 0 });
    q.onStep(0, network);
    // 369216 / 2 = 184608 bytes + 4 scales * 4 bytes + 10536.
    expect(compressionStats(network, q).packedBytes).toBe(184608 + 16 + 10536);
    network.dispose();
  });
});
