// SevenSegmentDigits: the digits 0-9 drawn as seven-segment glyphs on a square grayscale canvas,
// one domain per display style. Everything is generated from the `seed` option (no files, no
// downloads), so the dataset is the same on every machine and in every data-parallel worker.
import { z } from 'zod';
import { DataError, definePlugin, Rng, seedHash } from '@qtdog/core';

// Segment ends in glyph coordinates (x right, y down, the glyph box is [0.3, 0.7] x [0.15, 0.85]).
const SEGMENTS = {
  a: [0.3, 0.15, 0.7, 0.15], // top
  b: [0.7, 0.15, 0.7, 0.5], // upper right
  c: [0.7, 0.5, 0.7, 0.85], // lower right
  d: [0.3, 0.85, 0.7, 0.85], // bottom
  e: [0.3, 0.5, 0.3, 0.85], // lower left
  f: [0.3, 0.15, 0.3, 0.5], // upper left
  g: [0.3, 0.5, 0.7, 0.5], // middle
};
const DIGITS = ['abcdef', 'bc', 'abdeg', 'abcdg', 'bcfg', 'acdfg', 'acdefg', 'abc', 'abcdefg', 'abcdfg'];

// What changes from domain to domain: nuisances only (stroke width, slant, polarity); the class is
// always which segments are lit. Stroke is the half-width in units of the image side.
export const DOMAINS = {
  thin: { stroke: 0.035, shear: 0, invert: false },
  bold: { stroke: 0.075, shear: 0, invert: false },
  italic: { stroke: 0.05, shear: 0.35, invert: false },
  inverted: { stroke: 0.05, shear: 0, invert: true },
};
const DOMAIN_NAMES = Object.keys(DOMAINS);

export const SevenSegmentOptions = z.object({
  /** Which display styles become environments, in this order (testEnvs index into it). */
  environments: z
    .array(z.enum(DOMAIN_NAMES))
    .min(2)
    .refine((names) => new Set(names).size === names.length, 'environments must not repeat')
    .default(DOMAIN_NAMES),
  examplesPerDomain: z.number().int().min(10).max(100_000).default(256),
  /** Side of the square image in pixels (MNIST_CNN takes any size; 16 keeps runs fast). */
  imageSize: z.number().int().min(8).max(64).default(16),
  /** Standard deviation of the Gaussian pixel noise. */
  noise: z.number().min(0).max(1).default(0.1),
  /**
   * Seed of the generated images. Fixed per dataset, not per trial (as DomainBed's datasets are):
   * the trial seed already varies the in/out splits, the initialisation and the sampling.
   */
  seed: z.number().int().min(0).default(0),
});

/** Distance from (px, py) to the segment [x0, y0]-[x1, y1]. */
function segmentDistance(px, py, [x0, y0, x1, y1]) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

/** One environment's images (NHWC float32, one channel, values in [0, 1]) and labels. */
export function generateDomain(options, domainName) {
  const style = DOMAINS[domainName];
  const s = options.imageSize;
  const n = options.examplesPerDomain;
  // One generator per (seed, domain): adding or reordering environments leaves the others' images unchanged.
  const rng = new Rng(seedHash('seven-segment-digits', options.seed, domainName));
  const x = new Float32Array(n * s * s);
  const y = new Int32Array(n);
  const edge = 1 / s; // about one pixel of anti-aliasing
  for (let i = 0; i < n; i++) {
    const label = i % 10; // balanced classes; the trainer's sampler shuffles
    y[i] = label;
    const lit = [...DIGITS[label]].map((k) => SEGMENTS[k]);
    // Per-example jitter, so no two images of a class are alike.
    const dx = rng.uniform(-0.08, 0.08);
    const dy = rng.uniform(-0.06, 0.06);
    const scale = rng.uniform(0.85, 1.1);
    const contrast = rng.uniform(0.7, 1);
    for (let r = 0; r < s; r++) {
      for (let q = 0; q < s; q++) {
        // Pixel centre -> glyph coordinates: undo the jitter, then the domain's slant.
        const gy = ((r + 0.5) / s - 0.5 - dy) / scale + 0.5;
        const gx = ((q + 0.5) / s - 0.5 - dx) / scale + 0.5 - style.shear * (0.5 - gy);
        let d = Infinity;
        for (const seg of lit) d = Math.min(d, segmentDistance(gx, gy, seg));
        let v = contrast * Math.max(0, Math.min(1, (style.stroke - d) / edge + 0.5));
        if (style.invert) v = 1 - v;
        v += options.noise * rng.normal();
        x[(i * s + r) * s + q] = Math.max(0, Math.min(1, v));
      }
    }
  }
  return { x, y };
}

/**
 * Implements EnvironmentData (packages/core/src/api/dataset.ts): a name, a size and `read(indices,
 * mode)` returning plain arrays. There is no augmentation, so 'train' and 'eval' reads are equal.
 */
class InMemoryEnvironment {
  constructor(name, x, y) {
    this.name = name;
    this.x = x;
    this.y = y;
    this.size = y.length;
    this.row = x.length / y.length;
  }

  read(indices) {
    const n = indices.length;
    const bx = new Float32Array(n * this.row);
    const by = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= this.size) {
        // A DataError is printed by the CLI as one line, without a stack trace.
        throw new DataError(`SevenSegmentDigits environment '${this.name}': index ${i} out of range [0, ${this.size})`);
      }
      bx.set(this.x.subarray(i * this.row, (i + 1) * this.row), k * this.row);
      by[k] = this.y[i];
    }
    return { x: bx, y: by, n };
  }
}

export const sevenSegmentDigitsPlugin = definePlugin({
  kind: 'dataset',
  name: 'SevenSegmentDigits',
  description: 'Seven-segment digits 0-9, grayscale, one domain per display style (thin, bold, italic, inverted), generated from a seed (example plugin)',
  options: SevenSegmentOptions,
  create(options) {
    // A DomainDataset: names and shapes are known at once (the network is built from them before
    // any data is read); load() does the work, once.
    let loading;
    return {
      name: 'SevenSegmentDigits',
      environments: options.environments,
      inputShape: [options.imageSize, options.imageSize, 1],
      numClasses: 10,
      load() {
        loading ??= Promise.resolve().then(() =>
          options.environments.map((name) => {
            const { x, y } = generateDomain(options, name);
            return new InMemoryEnvironment(name, x, y);
          }),
        );
        return loading;
      },
    };
  },
});
