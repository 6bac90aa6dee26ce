import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '@qtdog/core';
import { defaultMnistDigitsDir, loadMnistDigits, MNIST_PIXELS } from './mnist-digits.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A folder of 10 small valid digit files: `perDigit` images each, pixel p of digit d = ((d + p) % 11) / 10. */
function fakeDigitsDir(perDigit = 2): string {
  const dir = mkdtempSync(join(tmpdir(), 'qtdog-digits-'));
  dirs.push(dir);
  for (let d = 0; d < 10; d++) {
    const data = Array.from({ length: perDigit * MNIST_PIXELS }, (_, p) => ((d + p) % 11) / 10);
    writeFileSync(join(dir, `${d}.json`), JSON.stringify({ data }));
  }
  return dir;
}

function expectDataError(dir: string, file: string, what: RegExp) {
  let err: unknown;
  try {
    loadMnistDigits(dir);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataError);
  expect((err as Error).message).toContain(join(dir, file));
  expect((err as Error).message).toMatch(what);
}

describe('loadMnistDigits (mnist package)', () => {
  it('loads the 10,000 digits grouped by class, in file order', () => {
    const { images, labels, n } = loadMnistDigits();
    expect(n).toBe(10_000);
    expect(images.length).toBe(n * MNIST_PIXELS);
    expect(labels.length).toBe(n);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]++;
      if (i > 0) expect(labels[i]! >= labels[i - 1]!).toBe(true);
    }
    const fileData = (d: number): number[] => JSON.parse(readFileSync(join(defaultMnistDigitsDir(), `${d}.json`), 'utf8')).data;
    expect(counts).toEqual(Array.from({ length: 10 }, (_, d) => fileData(d).length / MNIST_PIXELS));
    // First image of the 7s is the first 784 values of 7.json.
    const first7 = labels.indexOf(7);
    expect(Array.from(images.subarray(first7 * MNIST_PIXELS, (first7 + 1) * MNIST_PIXELS))).toEqual(
      fileData(7).slice(0, MNIST_PIXELS).map(Math.fround),
    );
    let min = Infinity;
    let max = -Infinity;
    for (const v of images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('parses once per folder', () => {
    expect(loadMnistDigits()).toBe(loadMnistDigits(defaultMnistDigitsDir()));
  });
});

describe('loadMnistDigits (other folders and bad data)', () => {
  it('loads a folder of valid files', () => {
    const { images, labels, n } = loadMnistDigits(fakeDigitsDir(3));
    expect(n).toBe(30);
    expect(Array.from(labels.subarray(0, 4))).toEqual([0, 0, 0, 1]);
    expect(images[3 * MNIST_PIXELS + 1]).toBeCloseTo(0.2, 6); // digit 1, pixel 1: (1 + 1) % 11 / 10
  });

  it('names a missing file', () => {
    const dir = fakeDigitsDir();
    unlinkSync(join(dir, '3.json'));
    expectDataError(dir, '3.json', /missing file/);
  });

  it('names a truncated JSON file', () => {
    const dir = fakeDigitsDir();
    const text = readFileSync(join(dir, '4.json'), 'utf8');
    writeFileSync(join(dir, '4.json'), text.slice(0, text.length / 2));
    expectDataError(dir, '4.json', /invalid JSON/);
  });

  it('names a file whose length is not a multiple of 784', () => {
    const dir = fakeDigitsDir();
    writeFileSync(join(dir, '5.json'), JSON.stringify({ data: new Array(MNIST_PIXELS + 1).fill(0) }));
    expectDataError(dir, '5.json', /785 values, not a positive multiple of 784/);
  });

  it('names a file with a value outside [0, 1] and where it is', () => {
    const dir = fakeDigitsDir();
    const data = new Array(2 * MNIST_PIXELS).fill(0.5);
    data[MNIST_PIXELS + 10] = 255;
    writeFileSync(join(dir, '9.json'), JSON.stringify({ data }));
    expectDataError(dir, '9.json', /value 255 at index 794 \(image 1, pixel 10\) is not a number in \[0, 1\]/);
  });

  it('names a file without a "data" array', () => {
    const dir = fakeDigitsDir();
    writeFileSync(join(dir, '0.json'), JSON.stringify([1, 2, 3]));
    expectDataError(dir, '0.json', /"data" array/);
  });
});
