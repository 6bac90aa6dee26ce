import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadWeights, readResults, runExperiment } from '@qtdog/core';
import { BUILTIN_MODULE_PACKAGES, builtinModules } from '@qtdog/cli';
import { tempDir } from './helpers';

function config(network: string, workers: number, steps = 4, algorithm = 'ERM', options = '', domains = 3, batch = 8): string {
  const p = join(tempDir('qtdog-dp-'), 'run.yaml');
  writeFileSync(
    p,
    [
      `dataset: { type: SyntheticDomains, numDomains: ${domains}, testEnvs: [${domains - 1}], examplesPerDomain: 40, imageSize: 16, channels: 1 }`,
      `network: { type: ${network} }`,
      `algorithm: { type: ${algorithm}, lr: 0.003, batchSize: ${batch}${options} }`,
      `train: { steps: ${steps}, checkpointFreq: 3, backend: wasm, evalBatchSize: 40, workers: ${workers} }`,
    ].join('\n'),
  );
  return p;
}

const run = (cfg: string) => runExperiment(cfg, { modules: builtinModules(), moduleSpecifiers: BUILTIN_MODULE_PACKAGES, outDir: tempDir() });

describe('data-parallel training (2 worker threads) against one thread', () => {
  it('MNIST_CNN (GroupNorm): the same losses and accuracies up to float rounding', async () => {
    const one = await run(config('MNIST_CNN', 1));
    const two = await run(config('MNIST_CNN', 2));
    expect(two.workers).toBe(2);
    const a = readResults(join(one.outDir, 'results.jsonl'));
    const b = readResults(join(two.outDir, 'results.jsonl'));
    for (const [x, y] of a.map((r, i) => [r, b[i]!] as const)) {
      expect(y.loss as number).toBeCloseTo(x.loss as number, 4);
      expect(y.env2_in_acc).toBe(x.env2_in_acc);
    }
  });

  it('SAM: both passes split, perturbed with the averaged gradient; the same losses as one thread', async () => {
    const one = await run(config('MNIST_CNN', 1, 4, 'SAM'));
    const two = await run(config('MNIST_CNN', 2, 4, 'SAM'));
    expect(two.workers).toBe(2);
    const a = readResults(join(one.outDir, 'results.jsonl'));
    const b = readResults(join(two.outDir, 'results.jsonl'));
    expect(b.length).toBe(a.length);
    for (const [x, y] of a.map((r, i) => [r, b[i]!] as const)) {
      expect(y.loss as number).toBeCloseTo(x.loss as number, 4);
      // The loss at w + e: it differs from the loss at w, and both threads agree on it.
      expect(y.perturbedLoss as number).toBeCloseTo(x.perturbedLoss as number, 4);
      expect(y.perturbedLoss).not.toBe(y.loss);
      expect(y.env2_in_acc).toBe(x.env2_in_acc);
    }
  });

  // Losses of sums: the parts exchange them mid-pass. VREx's and IRM's anneals (step 2) reset Adam in
  // between. GroupDRO's domain weights reach the workers with every step (workerState). IRM with 6
  // rows per domain: the worker's part starts at row 3, so its even and odd halves need firstRow.
  // MMD gathers the batch's features (each part's rows placed by firstRow) in a second exchange.
  for (const [algorithm, options, batch] of [
    ['CORAL', '', 8],
    ['VREx', ', vrexPenaltyAnnealIters: 2, vrexLambda: 5', 8],
    ['GroupDRO', ', groupdroEta: 0.5', 8],
    ['IRM', ', irmPenaltyAnnealIters: 2, irmLambda: 5', 6],
    ['MMD', '', 6],
  ] as const) {
    it(`${algorithm}: sums exchanged mid-pass, gradient shares summed; the same losses as one thread`, async () => {
      const one = await run(config('MNIST_CNN', 1, 4, algorithm, options, 3, batch));
      const two = await run(config('MNIST_CNN', 2, 4, algorithm, options, 3, batch));
      expect(two.workers).toBe(2);
      const a = readResults(join(one.outDir, 'results.jsonl'));
      const b = readResults(join(two.outDir, 'results.jsonl'));
      expect(b.length).toBe(a.length);
      // Past the first step, IRM's and MMD's two sides drift apart more than rounding alone: both
      // agree on the first step's losses to 1e-7, but their first gradients differ by float
      // rounding at the 1e-5 level (IRM's products of sums; MMD's seven kernels, exp(-d / 1e-3)
      // among them), and Adam's first steps move every weight by about lr whatever the size of its
      // gradient, so a weight whose gradient is rounding noise moves either way. By the fourth step
      // that reaches 4e-4 relative (IRM) and 2.5e-3 (MMD); those steps are held to 2e-3 and 5e-3.
      // A part that placed its rows from its own row 0 instead of firstRow is 12% off (IRM) in the
      // first step's penalty.
      const drift: Record<string, number> = { IRM: 2e-3, MMD: 5e-3 };
      const close = (got: number, want: number, i: number) =>
        drift[algorithm] && i > 0 ? expect(Math.abs(got - want)).toBeLessThan(drift[algorithm]! * Math.abs(want)) : expect(got).toBeCloseTo(want, 4);
      a.forEach((x, i) => {
        const y = b[i]!;
        if (algorithm !== 'GroupDRO') {
          expect(Math.abs(x.penalty as number)).toBeGreaterThan(1e-7); // IRM's can be negative
          close(y.penalty as number, x.penalty as number, i);
        }
        close(y.nll as number, x.nll as number, i);
        close(y.loss as number, x.loss as number, i);
        if (!drift[algorithm] || i === 0) expect(y.env2_in_acc).toBe(x.env2_in_acc);
      });
    });
  }

  it.each(['CORAL', 'MMD'])('%s with a single training domain (no pairs, penalty 0) runs with 2 workers as with one', async (algorithm) => {
    const one = await run(config('MNIST_CNN', 1, 2, algorithm, '', 2));
    const two = await run(config('MNIST_CNN', 2, 2, algorithm, '', 2));
    expect(two.workers).toBe(2);
    const a = readResults(join(one.outDir, 'results.jsonl'));
    const b = readResults(join(two.outDir, 'results.jsonl'));
    expect(b.length).toBe(a.length);
    for (const [x, y] of a.map((r, i) => [r, b[i]!] as const)) {
      expect(y.penalty).toBe(0);
      expect(y.loss as number).toBeCloseTo(x.loss as number, 4);
    }
  });

  it('ResNet18: BatchNorm running means come back from the workers', async () => {
    // One step: both start from the same weights, so the merged statistics must equal one thread's.
    // (Over more steps they drift apart: BatchNorm in training mode normalises each part by its own
    // batch statistics, as PyTorch DDP without SyncBatchNorm does.)
    const one = await run(config('ResNet18', 1, 1));
    const two = await run(config('ResNet18', 2, 1));
    const w1 = loadWeights(join(one.outDir, 'checkpoints/last')).tensors;
    const w2 = loadWeights(join(two.outDir, 'checkpoints/last')).tensors;
    const name = 'featurizer.bn1.runningMean';
    expect(w1[name]).toBeDefined();
    const m1 = w1[name]!.dataSync();
    const m2 = w2[name]!.dataSync();
    // Moved away from its initial zeros, and the same as with one thread.
    expect(Math.max(...Array.from(m1, Math.abs))).toBeGreaterThan(1e-3);
    let diff = 0;
    for (let i = 0; i < m1.length; i++) diff = Math.max(diff, Math.abs(m1[i]! - m2[i]!));
    const scale = Math.max(...Array.from(m1, Math.abs));
    console.log(`ResNet18 ${name}: max |1 thread - 2 threads| = ${diff.toExponential(2)} (largest value ${scale.toExponential(2)})`);
    expect(diff).toBeLessThan(1e-5 * Math.max(1, scale));
    tf.dispose([...Object.values(w1), ...Object.values(w2)]);
  });
});
