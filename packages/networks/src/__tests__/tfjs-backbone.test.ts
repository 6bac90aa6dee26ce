import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import { ConfigError, DataError, gradientsOf, RunContextToken, type RunContext } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { fileSystemIOHandler } from '../file-io-handler.js';
import { TfjsBackbone } from '../tfjs-backbone.js';
import { tfjsBackbonePlugin } from '../tfjs-backbone-plugin.js';

const dirs: string[] = [];
let modelDir: string;
let reference: tfl.LayersModel;

/** A small Keras-style model: conv, BN, ReLU, strided conv, global pooling, dense "logits". */
function buildModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  let h = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.batchNormalization({ name: 'bn_a' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.activation({ activation: 'relu', name: 'relu_a' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'conv_b' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 10, name: 'logits' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const x = () => tf.tensor4d(Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.sin(i * 0.7)), [2, 8, 8, 3]);
const opts = (extra = {}) => ({ model: modelDir, cutLayer: 'conv_b', freezeBN: true, dropout: 0, ...extra });

beforeAll(async () => {
  await selectBackend('wasm');
  modelDir = mkdtempSync(join(tmpdir(), 'qtdog-tfjs-model-'));
  dirs.push(modelDir);
  reference = buildModel();
  // Moving statistics away from 0/1 so that frozen BN is visible in the outputs.
  const bn = reference.getLayer('bn_a');
  bn.setWeights([tf.fill([4], 1.5), tf.fill([4], 0.1), tf.fill([4], 0.2), tf.fill([4], 2)]);
  await reference.save(fileSystemIOHandler(modelDir));
});
afterAll(() => {
  reference.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('fileSystemIOHandler', () => {
  it('writes model.json and weights.bin that load back with the same weights', async () => {
    const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const back = await tfl.loadLayersModel(fileSystemIOHandler(join(modelDir, 'model.json')));
    const a = reference.getWeights().map((w) => Array.from(w.dataSync()));
    const b = back.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    back.dispose();
  });

  it('names a missing model.json, a missing shard and a truncated shard', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'qtdog-tfjs-empty-'));
    dirs.push(empty);
    await expect(fileSystemIOHandler(empty).load!()).rejects.toThrow(`${join(empty, 'model.json')}: missing file`);
    const broken = mkdtempSync(join(tmpdir(), 'qtdog-tfjs-broken-'));
    dirs.push(broken);
    writeFileSync(join(broken, 'model.json'), readFileSync(join(modelDir, 'model.json')));
    await expect(fileSystemIOHandler(broken).load!()).rejects.toThrow(/weight shard .*weights\.bin is missing/);
    const bin = readFileSync(join(modelDir, 'weights.bin'));
    writeFileSync(join(broken, 'weights.bin'), bin.subarray(0, bin.length - 4));
    const e = await fileSystemIOHandler(broken).load!().catch((err: Error) => err);
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(new RegExp(`hold ${bin.length - 4} bytes, the manifest's weights need ${bin.length}`));
    writeFileSync(join(broken, 'model.json'), '{"hello": 1}');
    await expect(fileSystemIOHandler(broken).load!()).rejects.toThrow(/not a TensorFlow.js layers model/);
  });
});

describe('TfjsBackbone', () => {
  it('cuts at the named layer: features are the pooled conv_b output of the saved model; its weights are ParamSet entries', async () => {
    const net = await TfjsBackbone.load([8, 8, 3], 5, 0, opts());
    expect(net.featureDim).toBe(6);
    const names = net.params.all().map((p) => [p.name, p.role, p.trainable]);
    expect(names).toEqual([
      ['featurizer.conv_a.kernel', 'conv', true],
      ['featurizer.conv_a.bias', 'bias', true],
      ['featurizer.bn_a.gamma', 'norm', true],
      ['featurizer.bn_a.beta', 'norm', true],
      ['featurizer.bn_a.moving_mean', 'norm', false],
      ['featurizer.bn_a.moving_variance', 'norm', false],
      ['featurizer.conv_b.kernel', 'conv', true],
      ['featurizer.conv_b.bias', 'bias', true],
      ['classifier.weight', 'dense', true],
      ['classifier.bias', 'bias', true],
    ]);
    expect(net.layers.map((l) => l.name)).toEqual(['featurizer.conv_a', 'featurizer.conv_b', 'classifier']);
    const input = x();
    const cut = tfl.model({ inputs: reference.inputs, outputs: reference.getLayer('conv_b').output as tfl.SymbolicTensor });
    const want = tf.mean(cut.predict(input) as tf.Tensor, [1, 2]);
    const got = net.featurize(input, false);
    const w = want.dataSync();
    const g = got.dataSync();
    for (let i = 0; i < w.length; i++) expect(g[i]).toBeCloseTo(w[i]!, 5);
    expect(net.predict(input).shape).toEqual([2, 5]);
    tf.dispose([input, want, got]);
    net.dispose();
  });

  it('routes conv kernels through weightTransform during its forward pass only', async () => {
    const net = await TfjsBackbone.load([8, 8, 3], 5, 0, opts());
    const seen: Array<[string, boolean]> = [];
    net.weightTransform = (layer, w, training) => {
      seen.push([layer.name, training]);
      return layer.type === 'conv' ? tf.mul(w, 0) : w;
    };
    const input = x();
    const f = net.featurize(input, true);
    expect(seen).toEqual([
      ['featurizer.conv_a', true],
      ['featurizer.conv_b', true],
    ]);
    // Zero kernels: the features are conv_b's bias alone.
    const bias = net.params.get('featurizer.conv_b.bias').variable.dataSync();
    const fv = f.dataSync();
    for (let i = 0; i < fv.length; i++) expect(fv[i]).toBeCloseTo(bias[i % 6]!, 6);
    // Outside our forward pass the layer reads the raw kernel (saving, getWeights).
    seen.length = 0;
    net.params.get('featurizer.conv_a.kernel').variable.dataSync();
    expect(seen).toEqual([]);
    tf.dispose([input, f]);
    net.dispose();
  });

  it('trains its layers: gradients reach the backbone, an update changes its output, BN stays frozen, nothing leaks', async () => {
    const net = await TfjsBackbone.load([8, 8, 3], 3, 1, opts());
    const input = x();
    const y = tf.tensor1d([0, 2], 'int32');
    const moving = () => Array.from(net.params.get('featurizer.bn_a.moving_mean').variable.dataSync());
    const m0 = moving();
    const step = () => {
      const params = net.params.trainable();
      const { value, grads } = gradientsOf(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), net.predict(input, true)) as tf.Scalar, params);
      expect(Object.keys(grads).sort()).toEqual(params.map((p) => p.name).sort());
      for (const p of params) tf.tidy(() => p.variable.assign(tf.sub(p.variable, tf.mul(grads[p.name]!, 0.1))));
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    const before = net.featurize(input, false);
    const l0 = step();
    const n0 = tf.memory().numTensors;
    step();
    const l2 = step();
    expect(tf.memory().numTensors).toBe(n0);
    expect(l2).toBeLessThan(l0);
    const after = net.featurize(input, false);
    expect(Array.from(after.dataSync())).not.toEqual(Array.from(before.dataSync()));
    expect(moving()).toEqual(m0);
    tf.dispose([before, after, input, y]);
    net.dispose();
  });

  it('without freezeBN, training passes update the moving statistics', async () => {
    const net = await TfjsBackbone.load([8, 8, 3], 3, 1, opts({ freezeBN: false }));
    const m0 = Array.from(net.params.get('featurizer.bn_a.moving_mean').variable.dataSync());
    const input = x();
    net.predict(input, true).dispose();
    expect(Array.from(net.params.get('featurizer.bn_a.moving_mean').variable.dataSync())).not.toEqual(m0);
    input.dispose();
    net.dispose();
  });

  it('disposes every variable of the loaded model, cut or not', async () => {
    const n0 = tf.memory().numTensors;
    const net = await TfjsBackbone.load([8, 8, 3], 3, 1, opts());
    net.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('explains a wrong cutLayer, a wrong input shape and a missing model; the plugin resolves paths against the config', async () => {
    const bad = await TfjsBackbone.load([8, 8, 3], 3, 1, opts({ cutLayer: 'conv_c' })).catch((e: Error) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toMatch(/cutLayer 'conv_c' is not a layer of the model; its layers are: .*conv_a, bn_a, relu_a, conv_b, gap, logits/);
    await expect(TfjsBackbone.load([16, 16, 3], 3, 1, opts())).rejects.toThrow(/takes inputs of shape \[any, 8, 8, 3\], the dataset gives \[batch, 16, 16, 3\]/);
    await expect(TfjsBackbone.load([8, 8, 3], 3, 1, opts({ model: '/no/such/model' }))).rejects.toThrow(DataError);

    const container = new Container();
    container.bind(RunContextToken).toConstantValue({ inputShape: [8, 8, 3], numClasses: 4 } as unknown as RunContext);
    const logs: string[] = [];
    const ctx = { container, seed: 3, baseDir: dirname(modelDir), log: (m: string) => logs.push(m) };
    const net = (await tfjsBackbonePlugin.create(tfjsBackbonePlugin.options.parse({ model: basename(modelDir), cutLayer: 'gap' }), ctx)) as TfjsBackbone;
    expect(net.featureDim).toBe(6);
    expect(logs[0]).toMatch(/cut at 'gap', 6 features, 2 kernels reachable by quantizers/);
    net.dispose();
  });
});
