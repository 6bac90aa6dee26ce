// ResNet-18 as ONNX with every BatchNorm folded into its conv: ONNX Runtime's logits equal the
// TF.js evaluation, in float and with LSQ 7-bit weights (the fold scales the per-channel scales only).
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemIOHandler, ResNet, TfjsBackbone } from '@qtdog/networks';
import { buildModelGraph, decodeOnnxModel, encodeOnnxModel, networkGraphWriter, nhwcToNchw } from '@qtdog/deploy';
import { LsqOptions, LsqQuantizer, modelExportTensors } from '@qtdog/quantizers';

const SHAPE = [32, 32, 3] as const;

/** Running statistics and affine parameters away from (1, 0), so a wrong fold shows. */
function randomizeBatchNorms(net: ResNet, rng: Rng): void {
  for (const p of net.params.all()) {
    const v = p.name.endsWith('.runningVar') || p.name.endsWith('.gamma') ? () => 0.5 + rng.next() : p.name.endsWith('.runningMean') || p.name.endsWith('.beta') ? () => rng.next() - 0.5 : undefined;
    if (v) p.variable.assign(tf.tensor(Float32Array.from({ length: p.variable.size }, v), p.variable.shape));
  }
}

async function onnxVsTfjs(net: ResNet, quantizer: LsqQuantizer | undefined, weights: 'float32' | 'weight-only'): Promise<{ diff: number; scale: number; bytes: Uint8Array }> {
  const spec = { network: { type: net.name, options: {} }, inputShape: SHAPE, numClasses: 5, tensors: modelExportTensors(net, quantizer, weights === 'float32') };
  const w = buildModelGraph(spec, weights, { kind: 'float' });
  const bytes = encodeOnnxModel(w.g, { graphName: 'resnet18', producerVersion: 'test', metadata: {} });
  const n = 3;
  const rng = new Rng(7);
  const x = Float32Array.from({ length: n * 32 * 32 * 3 }, () => rng.normal());
  const expected = tf.tidy(() => net.predict(tf.tensor4d(x, [n, ...SHAPE]), false).dataSync() as Float32Array);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const got = (await session.run({ input: new ort.Tensor('float32', nhwcToNchw(x, n, 32, 32, 3), [n, 3, 32, 32]) })).logits!.data as Float32Array;
  await session.release();
  return { diff: got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0), scale: expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0), bytes };
}

describe('ResNet-18 and ResNet-50 as ONNX, BatchNorm folded', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each([18, 50] as const)('float ResNet-%i: ONNX Runtime logits equal the evaluation; no BatchNormalization node is left', async (depth) => {
    const net = new ResNet(SHAPE, 5, 0, { depth, freezeBN: false, dropout: 0 });
    randomizeBatchNorms(net, new Rng(1));
    const { diff, scale, bytes } = await onnxVsTfjs(net, undefined, 'float32');
    expect(scale).toBeGreaterThan(0.01);
    expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    const ops = decodeOnnxModel(bytes).opTypes;
    expect(ops).not.toContain('BatchNormalization');
    expect(ops).toEqual(expect.arrayContaining(['Conv', 'Relu', 'MaxPool', 'Add', 'GlobalAveragePool', 'Gemm']));
    net.dispose();
  });

  it('LSQ 7-bit weight-only: int8 codes with folded per-channel scales reproduce the fake-quantized evaluation', async () => {
    const net = new ResNet(SHAPE, 5, 0, { depth: 18, freezeBN: false, dropout: 0 });
    randomizeBatchNorms(net, new Rng(2));
    const q = new LsqQuantizer(net, LsqOptions.parse({ bits: 7, startStep: 0 }));
    q.onStep(0, net);
    const { diff, scale, bytes } = await onnxVsTfjs(net, q, 'weight-only');
    expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    expect(decodeOnnxModel(bytes).initializers.filter((t) => t.name.endsWith('.weight.codes'))).toHaveLength(20);
    q.dispose?.();
    net.dispose();
  });

  it('refuses TfjsBackbone naming the first layer it would have to translate', () => {
    const backbone = { featurizerLayers: [{ name: 'input_1', className: 'InputLayer' }, { name: 'block1_conv1', className: 'Conv2D' }] };
    expect(() => networkGraphWriter('TfjsBackbone', backbone)).toThrow(
      "export --format onnx: network 'TfjsBackbone' is not supported yet: its layer 'block1_conv1' (Conv2D) has no ONNX translation (no TfjsBackbone layer is translated); export MNIST_CNN, ResNet18 or ResNet50 runs, or use the qtdog / tfjs formats",
    );
    expect(() => networkGraphWriter('LeNet')).toThrow("no ONNX graph for network 'LeNet' (known: MNIST_CNN, ResNet18, ResNet50)");
  });

  it('a real TfjsBackbone lists its layers, so the error names its first conv', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const h = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(input) as tfl.SymbolicTensor;
    const dir = mkdtempSync(join(tmpdir(), 'qtdog-backbone-'));
    const model = tfl.model({ inputs: input, outputs: h });
    await model.save(fileSystemIOHandler(dir));
    model.dispose();
    const net = await TfjsBackbone.load([8, 8, 3], 2, 0, { model: dir, freezeBN: true, dropout: 0 });
    expect(() => networkGraphWriter('TfjsBackbone', net)).toThrow("its layer 'conv_a' (Conv2D) has no ONNX translation");
    net.dispose();
  });
});
