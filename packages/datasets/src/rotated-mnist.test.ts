import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import { DataError, type Batch, type EnvironmentData, type PluginContext } from '@qtdog/core';
import { loadMnistDigits, MNIST_PIXELS } from './mnist-digits.js';
import { shuffledPool } from './multi-domain-mnist.js';
import { rotateImage } from './rotate-image.js';
import { createRotatedMnist, ROTATED_MNIST_ANGLES, rotatedMnistPlugin } from './rotated-mnist.js';

const ANGLES = [...ROTATED_MNIST_ANGLES];
const readAll = (env: EnvironmentData) => env.read(Array.from({ length: env.size }, (_, i) => i), 'eval') as Batch;
// Byte comparison: vitest's deep equality walks typed arrays element by element (slow at this size).
const same = (a: Batch[], b: Batch[]) =>
  a.length === b.length && a.every((e, i) => e.n === b[i]!.n && bytesEqual(e.x, b[i]!.x) && bytesEqual(e.y, b[i]!.y));
const bytesEqual = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const ctx = (baseDir: string): PluginContext => ({ container: new Container(), seed: 123, baseDir, log: () => {} });

describe('RotatedMNIST on the 10,000 digits', () => {
  let envs: EnvironmentData[];
  beforeAll(async () => {
    const ds = await rotatedMnistPlugin.create(rotatedMnistPlugin.options.parse({}), ctx(process.cwd()));
    expect(ds.name).toBe('RotatedMNIST');
    expect(ds.environments).toEqual(['0', '15', '30', '45', '60', '75']);
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.numClasses).toBe(10);
    envs = await ds.load();
  });

  it('splits the pool into 6 environments of 1,666-1,667 images', () => {
    expect(envs.map((e) => e.name)).toEqual(['0', '15', '30', '45', '60', '75']);
    expect(envs.map((e) => e.size)).toEqual([1667, 1667, 1667, 1667, 1666, 1666]);
  });

  it('environment k holds pool[k::6] rotated by angle k (env 0 is the source image itself)', () => {
    const digits = loadMnistDigits();
    const pool = shuffledPool(digits, 0);
    envs.forEach((env, k) => {
      const { x, y, n } = readAll(env);
      expect(x.length).toBe(n * MNIST_PIXELS);
      for (let i = 0; i < n; i++) expect(y[i]).toBe(digits.labels[pool[k + 6 * i]!]);
      for (const i of [0, 1, 500, n - 1]) {
        const s = pool[k + 6 * i]!;
        const source = digits.images.subarray(s * MNIST_PIXELS, (s + 1) * MNIST_PIXELS);
        const expected = k === 0 ? source : rotateImage(source, 28, 28, ANGLES[k]!);
        expect(x.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS)).toEqual(expected);
      }
    });
  });

  it('has labels in 0..9 with every class present in every environment', () => {
    for (const env of envs) {
      const seen = new Set(readAll(env).y);
      expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('reads arbitrary indices (repeats allowed) and rejects out-of-range ones', () => {
    const env = envs[2]!;
    const all = readAll(env);
    const b = env.read([5, 0, 5], 'train') as Batch;
    expect(b.n).toBe(3);
    expect(Array.from(b.y)).toEqual([all.y[5], all.y[0], all.y[5]]);
    expect(b.x.subarray(0, MNIST_PIXELS)).toEqual(all.x.subarray(5 * MNIST_PIXELS, 6 * MNIST_PIXELS));
    expect(() => env.read([env.size], 'eval')).toThrow(DataError);
    expect(() => env.read([1.5], 'eval')).toThrow(DataError);
  });
});

describe('RotatedMNIST options', () => {
  const fakeDirs: string[] = [];
  afterAll(() => {
    for (const d of fakeDirs) rmSync(d, { recursive: true, force: true });
  });

  it('is deterministic in its dataset seed and independent of the trial seed', async () => {
    const load = async (seed: number) => (await createRotatedMnist({ angles: [0, 30], seed, limit: 400 }).load()).map(readAll);
    const a = await load(0);
    const b = await load(0);
    const c = await load(1);
    expect(a.map((e) => e.n)).toEqual([200, 200]);
    expect(same(b, a)).toBe(true);
    expect(bytesEqual(c[0]!.x, a[0]!.x)).toBe(false);
    expect(bytesEqual(c[1]!.y, a[1]!.y)).toBe(false);
    // The plugin ignores ctx.seed (the trial's): environments must not change across trials.
    const p = await rotatedMnistPlugin.create(rotatedMnistPlugin.options.parse({ angles: [0, 30], limit: 400 }), ctx('/'));
    expect(same((await p.load()).map(readAll), a)).toBe(true);
  });

  it('names environments by angle and rejects repeated angles', () => {
    expect(createRotatedMnist({ angles: [10, -20], seed: 0 }).environments).toEqual(['10', '-20']);
    expect(rotatedMnistPlugin.options.safeParse({ angles: [15, 15] }).success).toBe(false);
    expect(rotatedMnistPlugin.options.safeParse({ limit: 0 }).success).toBe(false);
  });

  it('reads dataDir relative to the config folder, and reports bad data there on load', async () => {
    const fakeDir = () => {
      const dir = mkdtempSync(join(tmpdir(), 'qtdog-rot-'));
      fakeDirs.push(dir);
      for (let d = 0; d < 10; d++) writeFileSync(join(dir, `${d}.json`), JSON.stringify({ data: new Array(MNIST_PIXELS).fill(d / 10) }));
      return dir;
    };
    const dir = fakeDir();
    const opts = rotatedMnistPlugin.options.parse({ angles: [0, 90], dataDir: basename(dir) });
    const envs = await (await rotatedMnistPlugin.create(opts, ctx(dirname(dir)))).load();
    expect(envs.map((e) => e.size)).toEqual([5, 5]);

    // A fresh folder: a folder that loaded once is cached for the process.
    const badDir = fakeDir();
    writeFileSync(join(badDir, '2.json'), '{"data": [0, 0');
    const bad = await rotatedMnistPlugin.create({ ...opts, dataDir: badDir }, ctx('/'));
    await expect(bad.load()).rejects.toThrow(DataError);
    await expect(bad.load()).rejects.toThrow(join(badDir, '2.json'));
  });
});
