// EoQ as one ONNX graph: ONNX Runtime's logits equal the mean of the members' fake-quantized logits.
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { builtinModules } from '@qtdog/cli';
import { selectBackend } from '@qtdog/engine';
import { decodeOnnxModel, ensembleOnnxModel, nhwcToNchw, parseMetadataProps } from '@qtdog/deploy';
import { LogitEnsemble, restoreRun } from '@qtdog/quantizers';
import { fixtureRun } from '../quantization/fixture-runs';

describe('qtdog ensemble --export onnx', () => {
  it('one graph whose logits are the mean of the members\' (max abs diff <= 1e-4)', async () => {
    await selectBackend('wasm');
    const modules = builtinModules();
    const runs = [];
    for (const trialSeed of [0, 1, 2]) {
      const r = await fixtureRun({ quantizer: { type: 'LSQ', bits: 7, startStep: 2 }, steps: 6, checkpointFreq: 5, trialSeed });
      runs.push(await restoreRun(r.outDir, { modules, checkpoint: 'last' }));
    }
    const { bytes, metadata } = ensembleOnnxModel(runs);
    const model = decodeOnnxModel(bytes);
    expect(model.opTypes).toContain('Mean');
    expect(parseMetadataProps(model.metadata)!.ensemble!.map((m) => m.run)).toEqual(runs.map((r) => r.runDir));
    expect(metadata.layers.filter((l) => l.bits === 7)).toHaveLength(12);

    const envs = await runs[0]!.dataset.load();
    const b = await envs[2]!.read(Int32Array.from({ length: 20 }, (_, i) => i), 'eval');
    const [h, w, c] = runs[0]!.dataset.inputShape;
    const expected = tf.tidy(() => new LogitEnsemble(runs.map((r) => r.network)).predict(tf.tensor4d(b.x, [b.n, h, w, c])).dataSync() as Float32Array);
    const one = tf.tidy(() => runs[0]!.network.predict(tf.tensor4d(b.x, [b.n, h, w, c]), false).dataSync() as Float32Array);
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    const got = (await session.run({ input: new ort.Tensor('float32', nhwcToNchw(b.x, b.n, h, w, c), [b.n, c, h, w]) })).logits!.data as Float32Array;
    await session.release();
    const diff = (a: Float32Array, e: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - e[i]!)), 0);
    expect(diff(got, expected)).toBeLessThanOrEqual(1e-4);
    expect(diff(got, one)).toBeGreaterThan(1e-3); // the members differ: the mean is not one member
    for (const r of runs) r.dispose();
  });
});
