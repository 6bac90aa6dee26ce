import type { HParamDistribution } from '@qtdog/core';

/** int(10^U(lo, hi)), DomainBed's distribution for penalty anneal iterations. */
export function log10UniformInt(lo: number, hi: number): HParamDistribution {
  return { describe: `int(10^U(${lo},${hi}))`, sample: (r) => Math.floor(10 ** r.uniform(lo, hi)) };
}
