import { beforeAll, describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import type { Batch, EnvironmentData } from '@qtdog/core';
import {
  COLORED_MNIST_COLOR_FLIP,
  COLORED_MNIST_LABEL_FLIP,
  coloredMnistPlugin,
  createColoredMnist,
} from './colored-mnist.js';
import { loadMnistDigits, MNIST_PIXELS } from './mnist-digits.js';
import { shuffledPool } from './multi-domain-mnist.js';

const readAll = (env: EnvironmentData) => env.read(Array.from({ length: env.size }, (_, i) => i), 'eval') as Batch;

const bytesEqual = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Allowed deviation of an observed rate from p over n draws: 5 binomial standard deviations. */
const tolerance = (p: number, n: number) => 5 * Math.sqrt((p * (1 - p)) / n);

describe('ColoredMNIST on the 10,000 digits', () => {
  let batches: Batch[];
  beforeAll(async () => {
    const ds = await coloredMnistPlugin.create(coloredMnistPlugin.options.parse({}), {
      container: new Container(),
      seed: 99,
      baseDir: process.cwd(),
      log: () => {},
    });
    expect(ds.name).toBe('ColoredMNIST');
    expect(ds.environments).toEqual(['+90%', '+80%', '-90%']);
    expect(ds.inputShape).toEqual([28, 28, 2]);
    expect(ds.numClasses).toBe(2);
    const envs = await ds.load();
    expect(envs.map((e) => e.name)).toEqual(['+90%', '+80%', '-90%']);
    batches = envs.map(readAll);
  });

  /** Per image of environment e: its source digit, its colour (the channel kept), and checks on the pixels. */
  function inspect(e: number) {
    const digits = loadMnistDigits();
    const pool = shuffledPool(digits, 0);
    const { x, y, n } = batches[e]!;
    const colors = new Int32Array(n);
    const sourceDigits = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = pool[e + 3 * i]!;
      sourceDigits[i] = digits.labels[s]!;
      const sums = [0, 0];
      for (let p = 0; p < MNIST_PIXELS; p++) {
        sums[0] += x[(i * MNIST_PIXELS + p) * 2]!;
        sums[1] += x[(i * MNIST_PIXELS + p) * 2 + 1]!;
      }
      const c = sums[1]! > 0 ? 1 : 0;
      colors[i] = c;
      // Channel 1 - colour is all zero; channel colour is the source digit unchanged.
      expect(sums[1 - c]).toBe(0);
      for (let p = 0; p < MNIST_PIXELS; p++) {
        if (x[(i * MNIST_PIXELS + p) * 2 + c] !== digits.images[s * MNIST_PIXELS + p]) {
          throw new Error(`env ${e} image ${i} pixel ${p}: kept channel differs from the source digit`);
        }
      }
    }
    return { y, n, colors, sourceDigits };
  }

  it('splits the pool into 3 environments and keeps labels binary', () => {
    expect(batches.map((b) => b.n)).toEqual([3334, 3333, 3333]);
    for (const b of batches) for (const v of b.y) expect(v === 0 || v === 1).toBe(true);
  });

  for (let e = 0; e < 3; e++) {
    const flip = COLORED_MNIST_COLOR_FLIP[e]!;
    it(`env ${e}: one channel zeroed, label = (digit < 5) flipped ~25%, colour agrees with label ~${(1 - flip).toFixed(1)}`, () => {
      const { y, n, colors, sourceDigits } = inspect(e);
      let labelFlips = 0;
      let agree = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] !== (sourceDigits[i]! < 5 ? 1 : 0)) labelFlips++;
        if (colors[i] === y[i]) agree++;
      }
      expect(Math.abs(labelFlips / n - COLORED_MNIST_LABEL_FLIP)).toBeLessThan(tolerance(COLORED_MNIST_LABEL_FLIP, n));
      expect(Math.abs(agree / n - (1 - flip))).toBeLessThan(tolerance(flip, n));
    });
  }

  it('is deterministic in its dataset seed', async () => {
    const load = async (seed: number) => (await createColoredMnist({ seed, limit: 300 }).load()).map(readAll);
    const a = await load(0);
    const b = await load(0);
    a.forEach((e, i) => {
      expect(bytesEqual(b[i]!.x, e.x)).toBe(true);
      expect(bytesEqual(b[i]!.y, e.y)).toBe(true);
    });
    const c = await load(5);
    expect(bytesEqual(c[0]!.x, a[0]!.x)).toBe(false);
    expect(bytesEqual(c[2]!.y, a[2]!.y)).toBe(false);
  });
});
