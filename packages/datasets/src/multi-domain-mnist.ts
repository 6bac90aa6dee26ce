import { resolve } from 'node:path';
import { z } from 'zod';
import { DataError, pathOption, Rng, seedHash } from '@qtdog/core';
import { InMemoryEnvironment } from './in-memory-environment.js';
import { loadMnistDigits } from './mnist-digits.js';

/** The options every MNIST-based dataset shares (spread into each plugin's zod object). */
export const mnistSourceOptionFields = {
  /** Seed of the pooled shuffle (and of any dataset randomness); fixed per dataset, not per trial. */
  seed: z.number().int().min(0).default(0),
  /** Keep only the first `limit` images of the shuffled pool (fast tests); default all. */
  limit: z.number().int().positive().optional(),
  /** Folder with the image files (relative to the config file); default: the dataset's own. */
  dataDir: pathOption('folder').optional(),
};

export interface MnistSourceOptions {
  seed: number;
  limit?: number;
  dataDir?: string;
}

/**
 * Grayscale labelled images, the input of the MNIST-style multi-domain datasets: n images of
 * `height x width`, row-major. Float values are taken as they are (in [0, 1]); bytes are read as
 * value / 255, as torchvision's ToTensor does.
 */
export interface GrayImageSource {
  readonly images: Float32Array | Uint8Array;
  readonly labels: Int32Array;
  readonly n: number;
}

/** One environment's examples after its transform: NHWC rows and labels. */
export interface EnvironmentExamples {
  x: Float32Array;
  y: Int32Array;
}

/**
 * Builds one environment from its share of the pool. `images` holds n grayscale images (row-major,
 * [0, 1]) and `labels` their classes; both are fresh copies the transform may keep or overwrite.
 */
export type EnvironmentTransform = (images: Float32Array, labels: Int32Array, n: number, envIndex: number) => EnvironmentExamples;

/**
 * DomainBed's MultipleEnvironmentMNIST over any image source: pool all images, shuffle them with a
 * seeded permutation, give environment i the images pool[i::nEnvs], then transform each environment
 * once (here, at load).
 */
export function buildMultiDomainEnvironments(
  names: readonly string[],
  source: GrayImageSource,
  pixels: number,
  options: Pick<MnistSourceOptions, 'seed' | 'limit'>,
  transform: EnvironmentTransform,
): InMemoryEnvironment[] {
  if (source.images.length !== source.n * pixels) {
    throw new DataError(`image source: ${source.images.length} values for ${source.n} images of ${pixels} pixels`);
  }
  const pool = shuffledPool(source, options.seed, options.limit);
  const nEnvs = names.length;
  if (pool.length < nEnvs) {
    throw new DataError(`${pool.length} images cannot fill ${nEnvs} environments (raise 'limit')`);
  }
  const bytes = source.images instanceof Uint8Array;
  return names.map((name, e) => {
    const n = Math.ceil((pool.length - e) / nEnvs);
    const images = new Float32Array(n * pixels);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const src = pool[e + k * nEnvs]!;
      const from = source.images.subarray(src * pixels, (src + 1) * pixels);
      if (bytes) {
        for (let p = 0; p < pixels; p++) images[k * pixels + p] = from[p]! / 255;
      } else {
        images.set(from, k * pixels);
      }
      labels[k] = source.labels[src]!;
    }
    const { x, y } = transform(images, labels, n, e);
    return new InMemoryEnvironment(name, x, y);
  });
}

/** {@link buildMultiDomainEnvironments} on the `mnist` package's digits (or `options.dataDir`). */
export function buildMnistEnvironments(
  names: readonly string[],
  options: MnistSourceOptions,
  transform: EnvironmentTransform,
  baseDir?: string,
): InMemoryEnvironment[] {
  const dir = options.dataDir === undefined ? undefined : resolve(baseDir ?? process.cwd(), options.dataDir);
  return buildMultiDomainEnvironments(names, loadMnistDigits(dir), 28 * 28, options, transform);
}

/**
 * Source indices of the pooled images in shuffled order, truncated to `limit`. Seeded by the
 * dataset seed alone, so every trial and algorithm sees the same environments.
 */
export function shuffledPool(source: { readonly n: number }, seed: number, limit?: number): Int32Array {
  const perm = new Rng(seedHash('mnist-pool', seed)).permutation(source.n);
  return limit === undefined || limit >= source.n ? perm : perm.slice(0, limit);
}
