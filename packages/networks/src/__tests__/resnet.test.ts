import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import { DataError, RunContextToken, saveWeights, type RunContext } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { ResNet } from '../resnet.js';
import { loadFeaturizerWeights, resnet18Plugin } from '../resnet-plugin.js';

const dirs: string[] = [];
beforeAll(async () => {
  await selectBackend('wasm');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const input = (n: number, s: number, c = 3, seed = 1) =>
  tf.tensor4d(Array.from({ length: n * s * s * c }, (_, i) => Math.sin(i * 0.37 + seed)), [n, s, s, c]);
const count = (net: ResNet, f: (name: string) => boolean) =>
  net.params.all().filter((p) => p.trainable && f(p.name)).reduce((s, p) => s + p.variable.size, 0);

describe('ResNet-18 and ResNet-50 (torchvision layout)', () => {
  it('have torchvision\'s parameter counts, every convolution in `layers`, and the right output shapes', () => {
    const r18 = new ResNet([32, 32, 3], 7, 0, { depth: 18, freezeBN: false, dropout: 0 });
    // torchvision resnet18: 11,689,512 parameters, of which fc (512 x 1000 + 1000) 513,000.
    expect(count(r18, (n) => n.startsWith('featurizer.'))).toBe(11_689_512 - 513_000);
    expect(count(r18, (n) => n.startsWith('classifier.'))).toBe(512 * 7 + 7);
    const convs18 = r18.layers.filter((l) => l.type === 'conv').map((l) => l.name);
    expect(convs18.length).toBe(20); // stem + 8 blocks x 2 + 3 downsample
    expect(convs18[0]).toBe('featurizer.conv1');
    expect(convs18.filter((n) => n.includes('downsample'))).toEqual([
      'featurizer.layer2.0.downsample.0',
      'featurizer.layer3.0.downsample.0',
      'featurizer.layer4.0.downsample.0',
    ]);
    expect(r18.layers[r18.layers.length - 1]).toEqual({ name: 'classifier', type: 'dense', weight: 'classifier.weight' });
    expect(r18.params.get('featurizer.layer1.0.bn1.runningMean')).toMatchObject({ role: 'norm', trainable: false });
    expect(r18.params.get('featurizer.layer1.0.bn1.gamma')).toMatchObject({ role: 'norm', trainable: true });
    const x = input(2, 32);
    const f = r18.featurize(x, false);
    const y = r18.predict(x);
    expect(f.shape).toEqual([2, 512]);
    expect(y.shape).toEqual([2, 7]);
    tf.dispose([f, y]);
    r18.dispose();

    const r50 = new ResNet([32, 32, 3], 10, 0, { depth: 50, freezeBN: false, dropout: 0 });
    // torchvision resnet50: 25,557,032 parameters, fc 2048 x 1000 + 1000.
    expect(count(r50, (n) => n.startsWith('featurizer.'))).toBe(25_557_032 - 2_049_000);
    const convs50 = r50.layers.filter((l) => l.type === 'conv');
    expect(convs50.length).toBe(53); // stem + 16 bottlenecks x 3 + 4 downsample
    // The stride sits on the 3x3 of the first bottleneck of stages 2-4 (torchvision v1.5).
    expect(r50.params.get('featurizer.layer2.0.conv2.weight').variable.shape).toEqual([3, 3, 128, 128]);
    expect(r50.params.get('featurizer.layer2.0.conv1.weight').variable.shape).toEqual([1, 1, 256, 128]);
    const f50 = r50.featurize(x, false);
    expect(f50.shape).toEqual([2, 2048]);
    tf.dispose([f50, x]);
    r50.dispose();
  });

  it('sends every convolution (stem and downsample included) and the classifier through weightTransform, with the training flag', () => {
    const net = new ResNet([16, 16, 3], 3, 1, { depth: 18, freezeBN: false, dropout: 0 });
    const seen = new Map<string, boolean>();
    net.weightTransform = (layer, w, training) => {
      seen.set(layer.name, training);
      return tf.mul(w, 0);
    };
    const x = input(2, 16);
    const y = net.predict(x, true);
    expect([...seen.keys()].sort()).toEqual(net.layers.map((l) => l.name).sort());
    expect([...seen.values()].every((t) => t)).toBe(true);
    // All weights zeroed: logits are the classifier bias alone.
    const bias = net.params.get('classifier.bias').variable.dataSync();
    const got = y.dataSync();
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(bias[i % 3]!, 5);
    net.predict(x, false).dispose();
    expect(seen.get('featurizer.conv1')).toBe(false);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('trains BatchNorm with batch statistics and updates running stats; freezeBN keeps them and uses them', () => {
    const x = input(4, 16);
    const rm = (net: ResNet) => Array.from(net.params.get('featurizer.bn1.runningMean').variable.dataSync());
    const live = new ResNet([16, 16, 3], 3, 2, { depth: 18, freezeBN: false, dropout: 0 });
    const before = rm(live);
    live.predict(x, true).dispose();
    expect(rm(live)).not.toEqual(before);
    const afterTrain = rm(live);
    live.predict(x, false).dispose(); // evaluation leaves them alone
    expect(rm(live)).toEqual(afterTrain);
    live.dispose();

    const frozen = new ResNet([16, 16, 3], 3, 2, { depth: 18, freezeBN: true, dropout: 0 });
    const r0 = rm(frozen);
    const a = frozen.predict(x, true);
    const b = frozen.predict(x, false);
    expect(rm(frozen)).toEqual(r0);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    // gamma and beta still get gradients.
    const { value, grads } = tf.variableGrads(() => tf.sum(frozen.predict(x, true)) as tf.Scalar, [
      frozen.params.get('featurizer.bn1.gamma').variable,
      frozen.params.get('featurizer.bn1.beta').variable,
    ]);
    expect(Object.keys(grads).length).toBe(2);
    for (const g of Object.values(grads)) expect(tf.sum(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([a, b, value, ...Object.values(grads), x]);
    frozen.dispose();
  });

  it('leaks no tensors over training steps (gradients with the running-stat update inside the forward pass)', () => {
    const net = new ResNet([16, 16, 3], 4, 3, { depth: 18, freezeBN: false, dropout: 0.5 });
    const x = input(4, 16);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const step = () => {
      const vars = net.params.trainable().map((p) => p.variable);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), net.predict(x, true)) as tf.Scalar,
        vars,
      );
      // Running statistics are not trainable, so they get no gradient.
      expect(Object.keys(grads).some((k) => k.includes('running'))).toBe(false);
      expect(Object.keys(grads).length).toBe(vars.length);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const n0 = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('dropout acts on the pooled features in training only, at the given rate, seeded', () => {
    const x = input(8, 16);
    const feats = (seed: number, training: boolean) => {
      const net = new ResNet([16, 16, 3], 2, seed, { depth: 18, freezeBN: true, dropout: 0.5 });
      const f = net.featurize(x, training);
      const v = Array.from(f.dataSync());
      f.dispose();
      net.dispose();
      return v;
    };
    const train = feats(4, true);
    const evalF = feats(4, false);
    // Features a ReLU already zeroed say nothing about the mask: count over the others.
    const live = evalF.map((v, i) => i).filter((i) => evalF[i] !== 0);
    const dropped = live.filter((i) => train[i] === 0).length / live.length;
    expect(live.length).toBeGreaterThan(1000);
    expect(dropped).toBeGreaterThan(0.44);
    expect(dropped).toBeLessThan(0.56);
    train.forEach((v, i) => {
      if (v !== 0) expect(v).toBeCloseTo(2 * evalF[i]!, 3);
    });
    expect(feats(4, true)).toEqual(train);
    x.dispose();
  });

  it('computes the same loss gradient on wasm as on cpu (7x7/2 stem, 1x1/2 downsample, max-pool)', async () => {
    // Frozen BatchNorm: with batch statistics over the 1x1 maps of layer4 (2 values per channel)
    // rounding differences between backends are amplified, which would hide what is compared here.
    const grads = () => {
      const net = new ResNet([20, 20, 3], 3, 5, { depth: 18, freezeBN: true, dropout: 0 });
      const x = input(2, 20);
      const y = tf.tensor1d([0, 2], 'int32');
      const names = ['featurizer.conv1.weight', 'featurizer.layer2.0.downsample.0.weight', 'featurizer.layer4.1.bn2.gamma', 'classifier.weight'];
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), net.predict(x, true)) as tf.Scalar,
        names.map((n) => net.params.get(n).variable),
      );
      const out = names.map((n) => Array.from(grads[net.params.get(n).variable.name]!.dataSync()));
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads), x, y]);
      net.dispose();
      return { loss, out };
    };
    const wasm = grads();
    await tf.setBackend('cpu');
    try {
      const cpu = grads();
      expect(wasm.loss).toBeCloseTo(cpu.loss, 4);
      wasm.out.forEach((g, k) => {
        const ref = cpu.out[k]!;
        const scale = Math.max(...ref.map(Math.abs));
        const err = Math.max(...g.map((v, i) => Math.abs(v - ref[i]!)));
        expect(err / scale).toBeLessThan(1e-3);
      });
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

describe('ResNet18 plugin', () => {
  const container = (shape: [number, number, number] = [16, 16, 3]) => {
    const c = new Container();
    c.bind(RunContextToken).toConstantValue({ inputShape: shape, numClasses: 5 } as unknown as RunContext);
    return c;
  };

  it('loads pretrained featurizer weights (qtdog weights folder), freezes BN by default then, and names what is missing', async () => {
    const source = new ResNet([16, 16, 3], 1000, 11, { depth: 18, freezeBN: false, dropout: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'qtdog-resnet-'));
    dirs.push(dir);
    const tensors = Object.fromEntries(source.params.all().map((p) => [p.name, p.variable as tf.Tensor]));
    saveWeights(join(dir, 'full'), tensors);
    const { 'featurizer.layer3.1.conv2.weight': _gone, ...partial } = tensors;
    saveWeights(join(dir, 'partial'), partial);
    const logs: string[] = [];
    const ctx = { container: container(), seed: 99, baseDir: dir, log: (m: string) => logs.push(m) };
    const net = (await resnet18Plugin.create(resnet18Plugin.options.parse({ weights: 'full' }), ctx)) as ResNet;
    expect(net.freezeBN).toBe(true);
    expect(logs[0]).toMatch(/ResNet18: loaded 100 featurizer tensors from/);
    for (const name of ['featurizer.conv1.weight', 'featurizer.layer4.1.bn2.runningVar']) {
      expect(Array.from(net.params.get(name).variable.dataSync())).toEqual(Array.from(source.params.get(name).variable.dataSync()));
    }
    expect(net.params.get('classifier.weight').variable.shape).toEqual([512, 5]);
    net.dispose();
    const scratch = (await resnet18Plugin.create(resnet18Plugin.options.parse({}), ctx)) as ResNet;
    expect(scratch.freezeBN).toBe(false);
    scratch.dispose();
    await expect(resnet18Plugin.create(resnet18Plugin.options.parse({ weights: 'partial' }), ctx)).rejects.toThrow(
      /1 of ResNet18's featurizer parameters are not in the weights \(featurizer\.layer3\.1\.conv2\.weight\)/,
    );
    const grey = new ResNet([16, 16, 1], 5, 0, { depth: 18, freezeBN: true, dropout: 0 });
    expect(() => loadFeaturizerWeights(grey, join(dir, 'full'))).toThrow(DataError);
    expect(() => loadFeaturizerWeights(grey, join(dir, 'full'))).toThrow(/'featurizer\.conv1\.weight' has shape \[7,7,3,64\], ResNet18 needs \[7,7,1,64\]/);
    grey.dispose();
    source.dispose();
  });
});
