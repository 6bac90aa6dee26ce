// The full integer model (--int8): ONNX Runtime fuses its convolutions into QLinearConv, and its
// accuracy stays within 0.5 points of the fake-quantized model on a small real RotatedMNIST run;
// a float run gets post-training quantization (the PTQ baseline); trained LSQ activation steps are used.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinModules } from '@qtdog/cli';
import { runExperiment } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { argmaxRows, decodeOnnxModel, nhwcToNchw, onnxModelOfRun } from '@qtdog/deploy';
import { restoreRun, type RestoredRun } from '@qtdog/quantizers';
import { tempDir } from '../helpers';
import { fixtureRun } from '../quantization/fixture-runs';

const modules = builtinModules();

/** Op types of the graph ONNX Runtime runs after its optimisations ('all'). */
async function optimizedOpTypes(bytes: Uint8Array): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'qtdog-opt-')), 'optimized.onnx');
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: file });
  await s.release();
  return decodeOnnxModel(readFileSync(file)).opTypes;
}

/** Predicted classes of the test environments' examples: by ONNX Runtime and by the fake-quantized TF.js model. */
async function predictions(run: RestoredRun, bytes: Uint8Array): Promise<{ onnx: number[]; fakeQuant: number[]; labels: number[] }> {
  const envs = await run.dataset.load();
  const [h, w, c] = run.dataset.inputShape;
  const k = run.dataset.numClasses;
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const out = { onnx: [] as number[], fakeQuant: [] as number[], labels: [] as number[] };
  for (const e of run.config.dataset.testEnvs) {
    const env = envs[e]!;
    for (let start = 0; start < env.size; start += 256) {
      const b = await env.read(Int32Array.from({ length: Math.min(256, env.size - start) }, (_, i) => start + i), 'eval');
      const logits = await session.run({ input: new ort.Tensor('float32', nhwcToNchw(b.x, b.n, h, w, c), [b.n, c, h, w]) });
      out.onnx.push(...argmaxRows(logits.logits!.data as Float32Array, k));
      out.fakeQuant.push(...argmaxRows(tf.tidy(() => run.network.predict(tf.tensor4d(b.x, [b.n, h, w, c]), false).dataSync() as Float32Array), k));
      out.labels.push(...b.y);
    }
  }
  await session.release();
  return out;
}

const accuracy = (p: number[], y: number[]) => p.filter((v, i) => v === y[i]).length / y.length;

describe('ONNX --int8 on a small real RotatedMNIST QT-DoG run', () => {
  let run: RestoredRun;

  beforeAll(async () => {
    await selectBackend('wasm');
    const config = join(tempDir(), 'rmnist.json');
    writeFileSync(
      config,
      JSON.stringify({
        dataset: { type: 'RotatedMNIST', angles: [0, 30, 60], testEnvs: [1], limit: 3000 },
        network: { type: 'MNIST_CNN' },
        algorithm: { type: 'ERM', lr: 0.001, batchSize: 32 },
        quantizer: { type: 'LSQ', bits: 7, perChannel: true, startStep: 60 },
        train: { steps: 121, checkpointFreq: 60, backend: 'wasm', evalBatchSize: 256 },
      }),
    );
    const r = await runExperiment(config, { modules, outDir: tempDir() });
    run = await restoreRun(r.outDir, { modules, checkpoint: 'last' });
    expect(run.quantizer!.active).toBe(true);
  }, 600_000);

  it('fuses QLinearConv and stays within 0.5 points of the fake-quantized accuracy on the test domain', async () => {
    const { bytes, metadata } = await onnxModelOfRun(run, { weights: 'int8', calibration: { batches: 8, batchSize: 64, method: 'percentile', percentile: 99.99 } });
    expect(metadata.layers.filter((l) => l.storage === 'int8').map((l) => l.source)).toEqual(['trained', 'trained', 'trained', 'trained']);
    const ops = await optimizedOpTypes(bytes);
    expect(ops).toContain('QLinearConv');
    expect(ops).not.toContain('Conv');
    const p = await predictions(run, bytes);
    const [int8, fakeQuant] = [accuracy(p.onnx, p.labels), accuracy(p.fakeQuant, p.labels)];
    console.log(`RotatedMNIST test domain (${p.labels.length} images): int8 ${(100 * int8).toFixed(2)}%, fake-quant ${(100 * fakeQuant).toFixed(2)}%`);
    expect(fakeQuant).toBeGreaterThan(0.3); // a trained model (chance is 0.1)
    expect(Math.abs(int8 - fakeQuant)).toBeLessThanOrEqual(0.005);
  });

  it('min/max calibration also fuses and agrees with the fake-quantized model on most images', async () => {
    const { bytes, metadata } = await onnxModelOfRun(run, { weights: 'int8', calibration: { batches: 2, batchSize: 64, method: 'minmax' } });
    expect(metadata.quantization.activations).toContain('min/max');
    const p = await predictions(run, bytes);
    expect(p.onnx.filter((v, i) => v === p.fakeQuant[i]).length / p.onnx.length).toBeGreaterThan(0.97);
  });
});

describe('ONNX --int8 of float runs and of runs with LSQ activations', () => {
  it('quantizes a float ERM run after training (the PTQ baseline): every conv post-training int8', async () => {
    await selectBackend('wasm');
    const r = await fixtureRun({ steps: 6, checkpointFreq: 5 });
    const run = await restoreRun(r.outDir, { modules, checkpoint: 'last' });
    const { bytes, metadata } = await onnxModelOfRun(run, { weights: 'int8', calibration: { batches: 4, batchSize: 32, method: 'percentile' } });
    expect(metadata.layers.map((l) => l.source)).toEqual(['post-training', 'post-training', 'post-training', 'post-training', 'float']);
    expect(await optimizedOpTypes(bytes)).toContain('QLinearConv');
    const p = await predictions(run, bytes);
    expect(p.onnx.filter((v, i) => v === p.fakeQuant[i]).length / p.onnx.length).toBeGreaterThan(0.9);
    run.dispose();
  });

  it('uses the trained LSQ activation step sizes at the ReLU outputs; weight-only refuses such a run', async () => {
    const r = await fixtureRun({ quantizer: { type: 'LSQ', bits: 7, startStep: 2, quantizeActivations: true, activationBits: 8 }, steps: 6, checkpointFreq: 5 });
    const run = await restoreRun(r.outDir, { modules, checkpoint: 'last' });
    await expect(onnxModelOfRun(run, { weights: 'weight-only' })).rejects.toThrow(/export it with --int8/);
    const { bytes, metadata } = await onnxModelOfRun(run, { weights: 'int8', calibration: { batches: 2, batchSize: 32, method: 'minmax' } });
    expect(metadata.quantization.activations).toMatch(/LSQ step sizes at featurizer\.relu1, featurizer\.relu2, featurizer\.relu3, featurizer\.relu4/);
    const step = (run.network.params.get('featurizer.relu1.lsq_act_step').variable.dataSync() as Float32Array)[0]!;
    const model = decodeOnnxModel(bytes);
    expect(model.initializers.find((t) => t.name === 'featurizer.relu1.act_scale')).toBeDefined();
    expect(step).toBeGreaterThan(0);
    const p = await predictions(run, bytes);
    expect(p.onnx.filter((v, i) => v === p.fakeQuant[i]).length / p.onnx.length).toBeGreaterThan(0.9);
    run.dispose();
  });
});
