import { resolve } from 'node:path';
import { z } from 'zod';
import { DataError, Rng, seedHash } from '@qtdog/core';
import { InMemoryEnvironment } from './in-memory-environment.js';
import { loadMnistDigits, MNIST_PIXELS, type MnistDigits } from './mnist-digits.js';

/** The options every MNIST-based dataset shares (spread into each plugin's zod object). */
export const mnistSourceOptionFields = {
  /** Seed of the pooled shuffle (and of any dataset randomness); fixed per dataset, not per trial. */
  seed: z.number().int().min(0).default(0),
  /** Keep only the first `limit` images of the shuffled pool (fast tests); default all. */
  limit: z.number().int().positive().optional(),
  /** Folder with the digit JSON files (relative to the config file); default the `mnist` package's. */
  dataDir: z.string().min(1).optional(),
};

export interface MnistSourceOptions {
  seed: number;
  limit?: number;
  dataDir?: string;
}

/** One environment's examples after its transform: NHWC rows and labels. */
export interface EnvironmentExamples {
  x: Float32Array;
  y: Int32Array;
}

/**
 * Builds one environment from its share of the pool. `images` holds n 28x28 digits (row-major,
 * [0, 1]) and `labels` their digits; both are fresh copies the transform may keep or overwrite.
 */
export type EnvironmentTransform = (images: Float32Array, labels: Int32Array, n: number, envIndex: number) => EnvironmentExamples;

/**
 * DomainBed's MultipleEnvironmentMNIST: pool all digits, shuffle them with a seeded permutation,
 * give environment i the images pool[i::nEnvs], then transform each environment once (here, at load).
 */
export function buildMnistEnvironments(
  names: readonly string[],
  options: MnistSourceOptions,
  transform: EnvironmentTransform,
  baseDir?: string,
): InMemoryEnvironment[] {
  const dir = options.dataDir === undefined ? undefined : resolve(baseDir ?? process.cwd(), options.dataDir);
  const digits = loadMnistDigits(dir);
  const pool = shuffledPool(digits, options.seed, options.limit);
  const nEnvs = names.length;
  if (pool.length < nEnvs) {
    throw new DataError(`${pool.length} MNIST images cannot fill ${nEnvs} environments (raise 'limit')`);
  }
  return names.map((name, e) => {
    const n = Math.ceil((pool.length - e) / nEnvs);
    const images = new Float32Array(n * MNIST_PIXELS);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const src = pool[e + k * nEnvs]!;
      images.set(digits.images.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), k * MNIST_PIXELS);
      labels[k] = digits.labels[src]!;
    }
    const { x, y } = transform(images, labels, n, e);
    return new InMemoryEnvironment(name, x, y);
  });
}

/**
 * Source indices of the pooled images in shuffled order, truncated to `limit`. Seeded by the
 * dataset seed alone, so every trial and algorithm sees the same environments.
 */
export function shuffledPool(digits: MnistDigits, seed: number, limit?: number): Int32Array {
  const perm = new Rng(seedHash('mnist-pool', seed)).permutation(digits.n);
  return limit === undefined || limit >= digits.n ? perm : perm.slice(0, limit);
}
