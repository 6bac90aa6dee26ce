// ONNX export checked by the real ONNX Runtime (onnxruntime-node): the weight-only model reproduces
// the trained model's fake-quantized evaluation; storage types, int4, metadata and sizes.
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinModules } from '@qtdog/cli';
import { selectBackend } from '@qtdog/engine';
import { decodeOnnxModel, nhwcToNchw, onnxModelOfRun, OnnxDataType, parseMetadataProps } from '@qtdog/deploy';
import { restoreRun, type RestoredRun } from '@qtdog/quantizers';
import { fixtureRun } from '../quantization/fixture-runs';

const modules = builtinModules();

/** The first 32 examples of every environment, NHWC values and count. */
async function examples(run: RestoredRun): Promise<{ x: Float32Array; n: number }> {
  const envs = await run.dataset.load();
  const parts = await Promise.all(envs.map((e) => e.read(Int32Array.from({ length: 32 }, (_, i) => i), 'eval')));
  const x = new Float32Array(parts.reduce((a, p) => a + p.x.length, 0));
  let at = 0;
  for (const p of parts) (x.set(p.x, at), (at += p.x.length));
  return { x, n: parts.reduce((a, p) => a + p.n, 0) };
}

/** ONNX Runtime's logits at the optimisation level the runtime ships ('all'). */
async function ortLogits(bytes: Uint8Array, run: RestoredRun, ex: { x: Float32Array; n: number }): Promise<Float32Array> {
  const [h, w, c] = run.dataset.inputShape;
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const out = await session.run({ input: new ort.Tensor('float32', nhwcToNchw(ex.x, ex.n, h, w, c), [ex.n, c, h, w]) });
  await session.release();
  return out.logits!.data as Float32Array;
}

function tfjsLogits(run: RestoredRun, ex: { x: Float32Array; n: number }): Float32Array {
  const [h, w, c] = run.dataset.inputShape;
  return tf.tidy(() => run.network.predict(tf.tensor4d(ex.x, [ex.n, h, w, c]), false).dataSync() as Float32Array);
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe.each([
  { bits: 7, storage: OnnxDataType.INT8 },
  { bits: 4, storage: OnnxDataType.INT4 },
])('ONNX export of an ERM + LSQ $bits-bit run', ({ bits, storage }) => {
  let run: RestoredRun;
  let ex: { x: Float32Array; n: number };

  beforeAll(async () => {
    await selectBackend('wasm');
    const r = await fixtureRun({ quantizer: { type: 'LSQ', bits, startStep: 2 }, steps: 6, checkpointFreq: 5 });
    run = await restoreRun(r.outDir, { modules, checkpoint: 'last' });
    expect(run.quantizer!.active).toBe(true);
    ex = await examples(run);
  });
  afterAll(() => run?.dispose());

  it('weight-only: ONNX Runtime logits equal the fake-quantized evaluation (max abs diff <= 1e-4)', async () => {
    const { bytes } = await onnxModelOfRun(run, { weights: 'weight-only' });
    const expected = tfjsLogits(run, ex);
    const got = await ortLogits(bytes, run, ex);
    expect(got.length).toBe(expected.length);
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4);
  });

  it(`stores the four convs as ${bits <= 4 ? 'int4' : 'int8'} codes behind DequantizeLinear, and describes itself`, async () => {
    const { bytes, metadata } = await onnxModelOfRun(run, { weights: 'weight-only' });
    const model = decodeOnnxModel(bytes);
    expect(model.opset).toBe(21);
    const codes = model.initializers.filter((t) => t.name.endsWith('.weight.codes'));
    expect(codes.map((t) => t.name)).toEqual([1, 2, 3, 4].map((i) => `featurizer.conv${i}.weight.codes`));
    expect(codes.every((t) => t.dataType === storage)).toBe(true);
    const [h, w, c] = run.dataset.inputShape;
    expect(codes[0]!.dims).toEqual([64, c, 3, 3]); // OIHW
    expect(model.opTypes).toContain('DequantizeLinear');
    const m = parseMetadataProps(model.metadata)!;
    expect(m).toEqual(metadata);
    expect(m.layers.filter((l) => l.bits === bits).map((l) => l.layer)).toEqual([1, 2, 3, 4].map((i) => `featurizer.conv${i}`));
    expect(m.source).toMatchObject({ run: run.runDir, checkpoint: 'last', step: 5, finished: true });
    expect(m.domains.test).toEqual([run.dataset.environments[2]]);
    expect(m.domains.train).toEqual(run.dataset.environments.slice(0, 2));
    expect(m.classNames).toHaveLength(run.dataset.numClasses);
    expect(m.input).toEqual({ name: 'input', shape: [c, h, w], layout: 'NCHW', dtype: 'float32' });
  });

  it('is smaller than the float32 ONNX model by about 32 / storage bits', async () => {
    const q = (await onnxModelOfRun(run, { weights: 'weight-only' })).bytes.length;
    const f = (await onnxModelOfRun(run, { weights: 'float32' })).bytes.length;
    expect(q / f).toBeLessThanOrEqual(bits <= 4 ? 0.2 : 0.3);
  });
});
