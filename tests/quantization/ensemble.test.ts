// EoQ: the ensemble of quantized models averages its members' logits and is evaluated on whole
// test environments.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinModules } from '@qtdog/cli';
import { encodeModel, ensembleRuns, evaluateEnsemble, exportByteSize, LogitEnsemble, restoreRun, runExportHeader, type RestoredRun } from '@qtdog/quantizers';
import { fixtureRun } from './fixture-runs';

const modules = builtinModules();

describe('EoQ over two tiny ERM + LSQ runs (different trial seeds)', () => {
  let dirs: string[];
  let runs: RestoredRun[];

  beforeAll(async () => {
    dirs = [];
    for (const trialSeed of [1, 2]) {
      const r = await fixtureRun({ quantizer: { type: 'LSQ', bits: 7, startStep: 1 }, steps: 6, checkpointFreq: 5, trialSeed });
      dirs.push(r.outDir);
    }
    runs = await Promise.all(dirs.map((d) => restoreRun(d, { modules, checkpoint: 'last' })));
  });

  afterAll(() => runs.forEach((r) => r.dispose()));

  it("predicts the mean of the members' logits", async () => {
    const env = (await runs[0]!.dataset.load())[2]!;
    const b = await env.read(Int32Array.from({ length: env.size }, (_, i) => i), 'eval');
    const x = tf.tensor4d(b.x, [b.n, 8, 8, 1]);
    const ensemble = new LogitEnsemble(runs.map((r) => r.network));
    const mean = ensemble.predict(x);
    const [a, c] = runs.map((r) => r.network.predict(x, false));
    const byHand = tf.div(tf.add(a!, c!), 2);
    const diff = tf.max(tf.abs(tf.sub(mean, byHand))).dataSync()[0]!;
    console.log(`ensemble logits vs (member 1 + member 2) / 2: max abs difference ${diff.toExponential(3)} on ${b.n} examples`);
    expect(diff).toBeLessThanOrEqual(1e-6);
    // The members differ (different seeds), so the ensemble is not one of them.
    expect(tf.max(tf.abs(tf.sub(a!, c!))).dataSync()[0]!).toBeGreaterThan(1e-3);
    tf.dispose([x, mean, a!, c!, byHand]);
  });

  it('reports member and ensemble accuracy on the whole test environment, and the total packed size', async () => {
    const report = await evaluateEnsemble(runs);
    expect(report.testEnvs).toEqual([2]);
    expect(report.members.map((m) => [m.step, m.quantizer, m.bits, m.quantizerActive])).toEqual([
      [5, 'LSQ', 7, true],
      [5, 'LSQ', 7, true],
    ]);
    // The whole test environment: its in and out splits, 60 examples.
    expect(report.ensemble.accuracy.map((a) => [a.env, a.name, a.test, a.n])).toEqual([[2, 'noisier', true, 60]]);
    // The ensemble's accuracy recomputed by hand from the members' logits.
    const env = (await runs[0]!.dataset.load())[2]!;
    const b = await env.read(Int32Array.from({ length: 60 }, (_, i) => i), 'eval');
    const accs = tf.tidy(() => {
      const x = tf.tensor4d(b.x, [60, 8, 8, 1]);
      const y = tf.tensor1d(b.y, 'int32');
      const logits = runs.map((r) => r.network.predict(x, false));
      const acc = (l: tf.Tensor) => tf.mean(tf.cast(tf.equal(tf.argMax(l, 1), y), 'float32')).dataSync()[0]!;
      return [...logits.map(acc), acc(tf.div(tf.add(logits[0]!, logits[1]!), 2))];
    });
    expect(report.members.map((m) => m.accuracy[0]!.acc)).toEqual([expect.closeTo(accs[0]!, 6), expect.closeTo(accs[1]!, 6)]);
    expect(report.ensemble.accuracy[0]!.acc).toBeCloseTo(accs[2]!, 6);
    const sizes = runs.map((r) => exportByteSize(encodeModel(runExportHeader(r), r.network, r.quantizer)));
    expect(report.members.map((m) => m.packedBytes)).toEqual(sizes);
    expect(report.ensemble.packedBytes).toBe(sizes[0]! + sizes[1]!);
    console.log(
      `EoQ of 2: member accuracies ${report.members.map((m) => m.accuracy[0]!.acc.toFixed(3)).join(', ')}, ensemble ${report.ensemble.accuracy[0]!.acc.toFixed(3)}; ` +
        `total packed ${report.ensemble.packedBytes} B = ${report.ensemble.sizeVsOneFloatModel.toFixed(3)}x one float32 model (${report.ensemble.float32Bytes} B)`,
    );
    expect(report.ensemble.sizeVsOneFloatModel).toBeLessThan(2 / 4.3);
  });

  it('restores best checkpoints by default and refuses members of different datasets', async () => {
    const report = await ensembleRuns(dirs, { modules, allEnvs: true });
    expect(report.checkpoint).toBe('best');
    expect(report.ensemble.accuracy.map((a) => a.env)).toEqual([0, 1, 2]);
    const other = await fixtureRun({ steps: 1, checkpointFreq: 1 });
    const cfgPath = `${other.outDir}/config.json`;
    const fs = await import('node:fs');
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    cfg.dataset.testEnvs = [1];
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
    await expect(ensembleRuns([dirs[0]!, other.outDir], { modules })).rejects.toThrow(/ensemble members must share the dataset and test environments/);
  });
});
