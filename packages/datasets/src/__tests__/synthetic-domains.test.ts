import { describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import type { Batch, EnvironmentData } from '@qtdog/core';
import { syntheticDomainsPlugin } from '../synthetic-domains.js';

const readAll = (env: EnvironmentData) => env.read(Array.from({ length: env.size }, (_, i) => i), 'eval') as Batch;
const ctx = { container: new Container(), seed: 1, baseDir: '/', log: () => {} };

describe('SyntheticDomains', () => {
  it('builds the asked size, shapes and balanced classes, the same for the same seed', async () => {
    const opts = syntheticDomainsPlugin.options.parse({ examplesPerDomain: 40, imageSize: 8, channels: 2, numClasses: 5, numDomains: 4 });
    const ds = await syntheticDomainsPlugin.create(opts, ctx);
    expect(ds.environments).toEqual(['domain0', 'domain1', 'domain2', 'domain3']);
    expect(ds.inputShape).toEqual([8, 8, 2]);
    expect(ds.numClasses).toBe(5);
    const envs = (await ds.load()).map(readAll);
    for (const b of envs) {
      expect(b.n).toBe(40);
      expect(b.x.length).toBe(40 * 8 * 8 * 2);
      const counts = new Array(5).fill(0);
      for (const y of b.y) counts[y]++;
      expect(counts).toEqual([8, 8, 8, 8, 8]);
    }
    const again = (await (await syntheticDomainsPlugin.create(opts, ctx)).load()).map(readAll);
    expect(again[2]!.x).toEqual(envs[2]!.x);
    const other = (await (await syntheticDomainsPlugin.create({ ...opts, seed: 3 }, ctx)).load()).map(readAll);
    expect(other[2]!.x).not.toEqual(envs[2]!.x);
  });

  it('shifts the domains (channel means differ) and not at shift 0 beyond noise', async () => {
    const means = async (shift: number) => {
      const ds = await syntheticDomainsPlugin.create(syntheticDomainsPlugin.options.parse({ examplesPerDomain: 64, imageSize: 8, shift, noise: 0 }), ctx);
      return (await ds.load()).map((e) => {
        const { x } = readAll(e);
        const m = [0, 0, 0];
        for (let i = 0; i < x.length; i++) m[i % 3]! += x[i]!;
        return m.map((v) => v / (x.length / 3));
      });
    };
    const shifted = await means(1);
    const gap = Math.max(...shifted[0]!.map((v, c) => Math.abs(v - shifted[1]![c]!)));
    expect(gap).toBeGreaterThan(0.05);
    const flat = await means(0);
    for (const m of flat) for (const v of m) expect(v).toBeCloseTo(0.5, 1);
  });
});
