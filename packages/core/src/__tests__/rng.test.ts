import { describe, expect, it } from 'vitest';
import { Rng, seedHash, sampleHParams, log10Uniform, log2UniformInt, choice } from '../index.js';

describe('Rng', () => {
  it('is reproducible and restorable from its state', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    const state = a.getState();
    const next = [a.next(), a.next()];
    const c = new Rng(state);
    expect([c.next(), c.next()]).toEqual(next);
    expect(new Rng(43).next()).not.toEqual(new Rng(42).next());
  });

  it('draws uniform numbers with the right mean and normals with the right variance', () => {
    const r = new Rng(1);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      s += r.next();
      const z = r.normal();
      s2 += z * z;
    }
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });

  it('permutes every index exactly once', () => {
    const p = Array.from(new Rng(3).permutation(100)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('hashes seeds deterministically', () => {
    expect(seedHash(0, 1)).toBe(seedHash(0, 1));
    expect(seedHash(0, 1)).not.toBe(seedHash(1, 0));
  });
});

describe('hyperparameter draws', () => {
  const dists = { lr: log10Uniform(-4.5, -2.5), batchSize: log2UniformInt(3, 9), rho: choice([0.01, 0.05]) };
  it('are reproducible per (sweep seed, draw) and within their ranges', () => {
    const a = sampleHParams(dists, 7, 3, 'ERM');
    expect(sampleHParams(dists, 7, 3, 'ERM')).toEqual(a);
    expect(sampleHParams(dists, 7, 4, 'ERM')).not.toEqual(a);
    for (let k = 0; k < 50; k++) {
      const h = sampleHParams(dists, 0, k, 'ERM');
      expect(h.lr as number).toBeGreaterThanOrEqual(10 ** -4.5);
      expect(h.lr as number).toBeLessThanOrEqual(10 ** -2.5);
      expect(Number.isInteger(h.batchSize)).toBe(true);
      expect(h.batchSize as number).toBeGreaterThanOrEqual(8);
      expect(h.batchSize as number).toBeLessThanOrEqual(512);
      expect([0.01, 0.05]).toContain(h.rho);
    }
  });
});
