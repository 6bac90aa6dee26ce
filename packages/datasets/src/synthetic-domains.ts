import { z } from 'zod';
import { definePlugin, Rng, seedHash, type DomainDataset, type EnvironmentData } from '@qtdog/core';
import { InMemoryEnvironment } from './in-memory-environment.js';

export interface SyntheticDomainsOptions {
  examplesPerDomain: number;
  imageSize: number;
  channels: number;
  numClasses: number;
  numDomains: number;
  /** Strength of the domain shift (0 = every domain alike). */
  shift: number;
  /** Standard deviation of the per-pixel Gaussian noise. */
  noise: number;
  seed: number;
}

/**
 * Generates one domain: class c is a grating at angle c * 180 / numClasses degrees (the signal that
 * transfers); domain d changes what should not matter: the grating's frequency (x (1 + 0.3 shift d)),
 * a colour tint and a background level drawn per domain. Each example has a random phase and contrast.
 * Values are NHWC floats, roughly in [0, 1].
 */
export function generateSyntheticDomain(o: SyntheticDomainsOptions, d: number): { x: Float32Array; y: Int32Array } {
  const s = o.imageSize;
  const ch = o.channels;
  const n = o.examplesPerDomain;
  const domainRng = new Rng(seedHash('synthetic-domains', o.seed, 'domain', d));
  const tint = Array.from({ length: ch }, () => 1 + o.shift * domainRng.uniform(-0.4, 0.4));
  const background = Array.from({ length: ch }, () => o.shift * domainRng.uniform(-0.2, 0.2));
  const cycles = 2 * (1 + 0.3 * o.shift * d);
  const rng = new Rng(seedHash('synthetic-domains', o.seed, 'examples', d));
  const x = new Float32Array(n * s * s * ch);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % o.numClasses; // balanced classes
    y[i] = c;
    const angle = (Math.PI * c) / o.numClasses;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const phase = rng.uniform(0, 2 * Math.PI);
    const contrast = rng.uniform(0.6, 1);
    for (let r = 0; r < s; r++) {
      for (let q = 0; q < s; q++) {
        const t = 0.5 + 0.5 * contrast * Math.sin((2 * Math.PI * cycles * (q * cos + r * sin)) / s + phase);
        for (let k = 0; k < ch; k++) x[((i * s + r) * s + q) * ch + k] = tint[k]! * t + background[k]! + o.noise * rng.normal();
      }
    }
  }
  return { x, y };
}

/** A synthetic multi-domain image dataset of any size, for fast tests and demos (no files needed). */
export function createSyntheticDomains(o: SyntheticDomainsOptions): DomainDataset {
  const names = Array.from({ length: o.numDomains }, (_, d) => `domain${d}`);
  let loading: Promise<EnvironmentData[]> | undefined;
  return {
    name: 'SyntheticDomains',
    environments: names,
    inputShape: [o.imageSize, o.imageSize, o.channels],
    numClasses: o.numClasses,
    load() {
      loading ??= Promise.resolve().then(() =>
        names.map((name, d) => {
          const { x, y } = generateSyntheticDomain(o, d);
          return new InMemoryEnvironment(name, x, y);
        }),
      );
      return loading;
    },
  };
}

export const syntheticDomainsPlugin = definePlugin({
  kind: 'dataset',
  name: 'SyntheticDomains',
  description: 'Generated gratings (class = orientation) with a domain-dependent frequency, tint and background: a fast multi-domain dataset for tests and demos',
  options: z.object({
    examplesPerDomain: z.number().int().positive().default(256),
    imageSize: z.number().int().min(4).max(512).default(16),
    channels: z.number().int().min(1).max(4).default(3),
    numClasses: z.number().int().min(2).max(64).default(4),
    numDomains: z.number().int().min(1).max(64).default(3),
    shift: z.number().min(0).default(1),
    noise: z.number().min(0).default(0.1),
    /** Seed of the generated data; fixed per dataset, not per trial. */
    seed: z.number().int().min(0).default(0),
  }),
  create(options) {
    return createSyntheticDomains(options);
  },
});
