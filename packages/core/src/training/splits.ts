import { Rng, seedHash } from '../math/rng.js';

export interface Split {
  /** Training part (80% by default). */
  in: Int32Array;
  /** Held-out part used for validation (20% by default). */
  out: Int32Array;
}

/**
 * DomainBed's split_dataset: shuffle the indices with a seed derived from (trial seed, environment)
 * and take the first `holdoutFraction` of them as `out`, the rest as `in`.
 */
export function splitEnvironment(size: number, holdoutFraction: number, trialSeed: number, envIndex: number): Split {
  const perm = new Rng(seedHash(trialSeed, envIndex, 'split')).permutation(size);
  const nOut = Math.floor(size * holdoutFraction);
  return { out: perm.slice(0, nOut), in: perm.slice(nOut) };
}
