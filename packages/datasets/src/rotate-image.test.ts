import { describe, expect, it } from 'vitest';
import { Rng } from '@qtdog/core';
import { rotateImage } from './rotate-image.js';

const f32 = (rows: number[][]) => Float32Array.from(rows.flat());
const S2 = Math.SQRT2;

/** Expects `img` (h x w) to be zero everywhere except at the given [row, col, value] entries. */
function expectSparse(img: Float32Array, w: number, entries: Array<[number, number, number]>) {
  const expected = new Float64Array(img.length);
  for (const [r, c, v] of entries) expected[r * w + c] = v;
  for (let i = 0; i < img.length; i++) {
    expect(img[i], `pixel (${Math.floor(i / w)}, ${i % w})`).toBeCloseTo(expected[i]!, 6);
  }
}

describe('rotateImage', () => {
  it('0 degrees (and multiples of 360) is the identity, as a copy', () => {
    const src = f32([[1, 2, 3], [4, 5, 6]]);
    for (const a of [0, 360, -720]) {
      const out = rotateImage(src, 2, 3, a);
      expect(out).toEqual(src);
      expect(out).not.toBe(src);
    }
  });

  it('+90 degrees turns a square image counter-clockwise exactly (numpy rot90)', () => {
    expect(rotateImage(f32([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), 3, 3, 90)).toEqual(f32([[3, 6, 9], [2, 5, 8], [1, 4, 7]]));
    const four = f32([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]);
    expect(rotateImage(four, 4, 4, 90)).toEqual(f32([[4, 8, 12, 16], [3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13]]));
    // Negative angles turn clockwise.
    expect(rotateImage(four, 4, 4, -90)).toEqual(f32([[13, 9, 5, 1], [14, 10, 6, 2], [15, 11, 7, 3], [16, 12, 8, 4]]));
    expect(rotateImage(four, 4, 4, 270)).toEqual(rotateImage(four, 4, 4, -90));
  });

  it('180 degrees reverses a non-square image, and twice gives it back', () => {
    expect(rotateImage(f32([[1, 2, 3], [4, 5, 6]]), 2, 3, 180)).toEqual(f32([[6, 5, 4], [3, 2, 1]]));
    const rng = new Rng(7);
    const img = Float32Array.from({ length: 28 * 28 }, () => rng.next());
    expect(rotateImage(rotateImage(img, 28, 28, 180), 28, 28, 180)).toEqual(img);
  });

  it('moves one bright pixel by 45 degrees with the hand-computed bilinear weights', () => {
    // 7x7, centre (3, 3); the pixel at row 3, col 4 (one step right of the centre) ends up at
    // (dx, dy) = (0.707, -0.707). Output (row 2, col 4) samples the source at (u, v) = (4.414, 3):
    // weight 1 - 0.414 = 2 - sqrt2 on col 4. Output (2, 3) samples (3.707, 2.293) and output (3, 4)
    // samples (3.707, 3.707): weight 0.707 * 0.293 = (sqrt2 - 1) / 2 each. Total mass stays 1.
    const img = new Float32Array(49);
    img[3 * 7 + 4] = 1;
    expectSparse(rotateImage(img, 7, 7, 45), 7, [
      [2, 4, 2 - S2],
      [2, 3, (S2 - 1) / 2],
      [3, 4, (S2 - 1) / 2],
    ]);
  });

  it('follows PIL at the border: clamped neighbours inside [-0.5, size-0.5), zero outside', () => {
    // 5x5, bright pixel at row 2, col 4 (right edge). Output (1, 3) samples (3.414, 2): sqrt2 - 1.
    // Output (0, 3) samples (4.121, 1.293): past the last column centre but inside the image area,
    // so column 4 is used in full; row weight 0.293 = 1 - 1/sqrt2. Output (1, 4) samples
    // (4.121, 2.707): same weight. Output (0, 4) samples (4.83, ...), outside: fill 0.
    const img = new Float32Array(25);
    img[2 * 5 + 4] = 1;
    expectSparse(rotateImage(img, 5, 5, 45), 5, [
      [1, 3, S2 - 1],
      [0, 3, 1 - 1 / S2],
      [1, 4, 1 - 1 / S2],
    ]);
  });

  it('fills with zeros what comes from outside the source', () => {
    const ones = new Float32Array(28 * 28).fill(1);
    const out = rotateImage(ones, 28, 28, 45);
    expect(out[0]).toBe(0); // corners come from outside
    expect(out[14 * 28 + 14]).toBeCloseTo(1, 6); // the centre stays
  });

  it('rejects a size that does not match the data', () => {
    expect(() => rotateImage(new Float32Array(10), 3, 3, 10)).toThrow(RangeError);
  });
});
