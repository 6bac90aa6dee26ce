import { Rng, seedHash } from '../math/rng.js';

/**
 * A hyperparameter's random-search distribution, as in DomainBed's hparams registry:
 * each hyperparameter has a default and a way to sample it from an Rng.
 */
export interface HParamDistribution {
  /** Human-readable, for `qtdog list` and docs, e.g. "10^U(-4.5,-2.5)". */
  readonly describe: string;
  sample(rng: Rng): number | string | boolean;
}

/** 10^U(lo, hi). */
export function log10Uniform(lo: number, hi: number): HParamDistribution {
  return { describe: `10^U(${lo},${hi})`, sample: (r) => 10 ** r.uniform(lo, hi) };
}

/** 2^U(lo, hi), rounded down to an integer (batch sizes). */
export function log2UniformInt(lo: number, hi: number): HParamDistribution {
  return { describe: `int(2^U(${lo},${hi}))`, sample: (r) => Math.floor(2 ** r.uniform(lo, hi)) };
}

export function uniform(lo: number, hi: number): HParamDistribution {
  return { describe: `U(${lo},${hi})`, sample: (r) => r.uniform(lo, hi) };
}

export function choice<T extends number | string | boolean>(values: readonly T[]): HParamDistribution {
  return { describe: `choice{${values.join(', ')}}`, sample: (r) => values[r.int(values.length)]! };
}

/**
 * Draws every hyperparameter of a distribution map. Each hyperparameter has its own generator,
 * seeded by (sweep seed, draw index, plugin, name), so adding a hyperparameter to a plugin does not
 * change the draws of the others.
 */
export function sampleHParams(
  dists: Record<string, HParamDistribution>,
  sweepSeed: number,
  drawIndex: number,
  pluginName: string,
): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [name, dist] of Object.entries(dists)) {
    out[name] = dist.sample(new Rng(seedHash(sweepSeed, drawIndex, pluginName, name)));
  }
  return out;
}
