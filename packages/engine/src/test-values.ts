// Helpers for the engine's kernel tests (not exported by the package).
import * as tf from '@tensorflow/tfjs-core';

/** Deterministic values in [-0.5, 0.5) from a seed, identical on every backend. */
export function values(n: number, seed = 7): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Runs f with `backend` selected. */
export async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}
