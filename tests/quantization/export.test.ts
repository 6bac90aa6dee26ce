// k-bit export: bit-packed quantized convolutions + float32 rest, a loader that rebuilds the network,
// and a TensorFlow.js layers-model export loadable with tf.loadLayersModel.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfjs from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinModules } from '@qtdog/cli';
import { evaluateAccuracy, splitEnvironment } from '@qtdog/core';
import { MnistCnn } from '@qtdog/networks';
import {
  encodeModel,
  exportByteSize,
  exportRun,
  loadExportedModel,
  LsqOptions,
  LsqQuantizer,
  readExport,
  registerQtdogLayers,
  restoreRun,
  type RestoredRun,
} from '@qtdog/quantizers';
import { tempDir } from '../helpers';
import { fixtureRun } from './fixture-runs';

const modules = builtinModules();
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** The first 48 examples of every environment of a restored run, as one batch. */
async function batchOf(run: RestoredRun): Promise<tf.Tensor4D> {
  const envs = await run.dataset.load();
  const [h, w, c] = run.dataset.inputShape;
  const parts = await Promise.all(envs.map((e) => e.read(Int32Array.from({ length: 48 }, (_, i) => i), 'eval')));
  return tf.tidy(() => tf.concat(parts.map((p) => tf.tensor4d(p.x, [p.n, h, w, c]))) as tf.Tensor4D);
}

/** tf.loadLayersModel over TensorFlow.js's HTTP loader (as a browser would), served from the folder. */
function loadFromFolder(dir: string) {
  const fetchFunc = async (url: string) => new Response(readFileSync(join(dir, new URL(url).pathname.slice(1))));
  return tfjs.loadLayersModel(tfjs.io.http('http://qtdog.test/model.json', { fetchFunc }));
}

describe('qtdog export of an ERM + LSQ 7-bit run', () => {
  let runDir: string;
  let run: RestoredRun;
  let x: tf.Tensor4D;
  let fakeQuantLogits: tf.Tensor2D;

  beforeAll(async () => {
    const r = await fixtureRun({ quantizer: { type: 'LSQ', bits: 7, startStep: 2 }, steps: 6, checkpointFreq: 5 });
    runDir = r.outDir;
    run = await restoreRun(runDir, { modules, checkpoint: 'last' });
    expect(run.step).toBe(5);
    expect(run.quantizer!.active).toBe(true);
    x = await batchOf(run);
    fakeQuantLogits = run.network.predict(x, false);
  });

  afterAll(() => {
    tf.dispose([x, fakeQuantLogits]);
    run.dispose();
  });

  it('restores the fake-quantized model exactly as training evaluated it', async () => {
    // The last checkpoint's accuracies and losses in results.jsonl, recomputed from the restored model.
    const envs = await run.dataset.load();
    const record = JSON.parse(readFileSync(join(runDir, 'results.jsonl'), 'utf8').trim().split('\n').pop()!);
    expect([record.step, record.quantized]).toEqual([5, true]);
    for (const [i, env] of envs.entries()) {
      const split = splitEnvironment(env.size, run.config.dataset.holdoutFraction, run.config.trialSeed, i);
      for (const part of ['in', 'out'] as const) {
        const r = await evaluateAccuracy((b) => run.network.predict(b, false), env, split[part], run.dataset.inputShape, 32);
        expect(r.acc).toBe(record[`env${i}_${part}_acc`]);
        expect(r.loss).toBeCloseTo(record[`env${i}_${part}_loss`], 5);
      }
    }
  });

  it('writes packed 7-bit convolutions; the loaded model gives the fake-quantized logits', async () => {
    const out = join(tempDir(), 'export');
    const r = await exportRun(runDir, { modules, checkpoint: 'last', out });
    expect(r.packed).toEqual(['conv1', 'conv2', 'conv3', 'conv4'].map((c) => ({ name: `featurizer.${c}.weight`, bits: 7 })));
    for (const f of r.files) expect(statSync(f.file).size).toBe(f.bytes);
    const { manifest } = readExport(out);
    const conv2 = manifest.tensors.find((t) => t.name === 'featurizer.conv2.weight')!;
    expect(conv2).toMatchObject({ dtype: 'int', bits: 7, qn: -64, qp: 63, shape: [3, 3, 64, 128], byteLength: (3 * 3 * 64 * 128 * 7) / 8 });
    expect(manifest.tensors.some((t) => t.name.includes('lsq_step'))).toBe(false);

    const loaded = await loadExportedModel(out);
    expect(loaded.network.weightTransform).toBeNull();
    const logits = loaded.network.predict(x, false);
    const diff = maxAbsDiff(logits, fakeQuantLogits);
    const floatOut = join(tempDir(), 'export-float32');
    const f = await exportRun(runDir, { modules, checkpoint: 'last', out: floatOut, float32: true });
    expect(f.packed).toEqual([]);
    expect(f.totalBytes).toBe(r.float32Bytes);
    const loadedFloat = await loadExportedModel(floatOut);
    const floatDiff = maxAbsDiff(loadedFloat.network.predict(x, false), fakeQuantLogits);
    const ratio = f.totalBytes / r.totalBytes;
    console.log(
      `export (FixtureStripes, MNIST_CNN 8x8x1, 2 classes, LSQ 7 bits): max |logits(loaded 7-bit export) - logits(fake-quantized)| = ${diff.toExponential(3)} ` +
        `on ${x.shape[0]} examples; float32 export of the same model: ${floatDiff.toExponential(3)}\n` +
        `  sizes: ${r.files.map((x) => `${x.file.split('/').pop()} ${x.bytes} B`).join(', ')} = ${r.totalBytes} B packed; ` +
        `float32 export ${f.totalBytes} B (${f.files.map((x) => `${x.file.split('/').pop()} ${x.bytes} B`).join(', ')}); ratio ${ratio.toFixed(3)}x`,
    );
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(floatDiff).toBeLessThanOrEqual(1e-5);
    expect(ratio).toBeGreaterThanOrEqual(4.3);
    tf.dispose(logits);
    loaded.dispose();
    loadedFloat.dispose();
  });

  it('writes a TensorFlow.js layers model that tf.loadLayersModel loads, with the same logits', async () => {
    const out = join(tempDir(), 'tfjs');
    const r = await exportRun(runDir, { modules, checkpoint: 'last', out, format: 'tfjs' });
    expect(r.files.map((f) => f.file.split('/').pop())).toEqual(['model.json', 'group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(JSON.stringify(json.modelTopology)).toContain('"class_name":"GroupNormalization"');
    registerQtdogLayers();
    const model = await loadFromFolder(out);
    const logits = model.predict(x) as tf.Tensor;
    const diff = maxAbsDiff(logits, fakeQuantLogits);
    console.log(`tfjs layers model: max |logits - logits(fake-quantized)| = ${diff.toExponential(3)}; model.json ${r.files[0]!.bytes} B, weights ${r.files[1]!.bytes} B`);
    expect(diff).toBeLessThanOrEqual(1e-4);
    tf.dispose(logits);
    model.dispose();
  });
});

describe('export sizes and other quantizers', () => {
  it('MNIST_CNN on RotatedMNIST shapes (28x28x1, 10 classes) at 7 bits is at least 4.3x smaller than float32', () => {
    const network = new MnistCnn([28, 28, 1], 10, 0);
    const q = new LsqQuantizer(network, LsqOptions.parse({ bits: 7, startStep: 0 }));
    q.onStep(0, network);
    const header = { network: { type: 'MNIST_CNN', options: { groups: 8 } }, inputShape: [28, 28, 1] as const, numClasses: 10, source: {} };
    const packed = encodeModel(header, network, q);
    const float = encodeModel(header, network, q, true);
    const ratio = exportByteSize(float) / exportByteSize(packed);
    const convWeights = network.layers.filter((l) => l.type === 'conv').reduce((a, l) => a + network.params.get(l.weight).variable.size, 0);
    console.log(
      `MNIST_CNN 28x28x1/10 at 7 bits: ${exportByteSize(packed)} B (weights.bin ${packed.bin.byteLength} B) vs float32 ${exportByteSize(float)} B ` +
        `(weights.bin ${float.bin.byteLength} B): ${ratio.toFixed(3)}x; ${convWeights} conv weights, bound for them 32/7 = ${(32 / 7).toFixed(3)}x`,
    );
    expect(ratio).toBeGreaterThanOrEqual(4.3);
    expect(ratio).toBeLessThan(32 / 7);
    network.dispose();
  });

  it('exports a MinMax run (scales from the weights) with the same logits', async () => {
    const r = await fixtureRun({ quantizer: { type: 'MinMax', bits: 6, startStep: 1, perChannel: false }, steps: 3, checkpointFreq: 2 });
    const run = await restoreRun(r.outDir, { modules, checkpoint: 'last' });
    const out = join(tempDir(), 'export');
    const e = await exportRun(r.outDir, { modules, checkpoint: 'last', out });
    expect(e.packed.map((p) => p.bits)).toEqual([6, 6, 6, 6]);
    const loaded = await loadExportedModel(out);
    const x = await batchOf(run);
    const diff = maxAbsDiff(loaded.network.predict(x, false), run.network.predict(x, false));
    console.log(`MinMax 6-bit per-tensor export: max abs logit difference ${diff.toExponential(3)}, ${e.totalBytes} B vs float32 ${e.float32Bytes} B`);
    expect(diff).toBeLessThanOrEqual(1e-5);
    tf.dispose(x);
    loaded.dispose();
    run.dispose();
  });
});
