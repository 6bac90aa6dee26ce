import { describe, expect, it } from 'vitest';
import { Rng } from '@qtdog/core';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyColorJitter,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalizeImageNet,
  randomResizedCropBox,
  roundHalfEven,
  sampleAugmentation,
  toGrayscale,
} from '../image-transforms.js';

/** An Rng whose uniform draws come from a list (uniform, int and bernoulli all go through next()). */
class ListRng extends Rng {
  constructor(private readonly values: number[]) {
    super(0);
  }
  override next(): number {
    const v = this.values.shift();
    if (v === undefined) throw new Error('ListRng: out of values');
    return v;
  }
}

const close = (a: ArrayLike<number>, b: number[], digits = 5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i]!, digits);
};

describe('RandomResizedCrop parameters (torchvision get_params)', () => {
  it("rounds halves to even as Python's round", () => {
    expect([0.5, 1.5, 2.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -2, 2, 3]);
  });

  it('retries a box that does not fit, then places the first one that does (hand-computed)', () => {
    // 100x80, area 8000. Try 1: scale 0.85 -> 6800, aspect 1 -> 82x82, taller than 80: rejected.
    // Try 2: scale 0.7 -> 5600, aspect 1 -> round(74.83) = 75 square; top = floor(0.5 * 6) = 3,
    // left = floor(0.25 * 26) = 6.
    const rng = new ListRng([0.5, 0.5, 0, 0.5, 0.5, 0.25]);
    expect(randomResizedCropBox(rng, 100, 80, [0.7, 1], [3 / 4, 4 / 3])).toEqual({ left: 6, top: 3, width: 75, height: 75 });
  });

  it('falls back to a centre crop with the aspect ratio clamped when nothing fits', () => {
    // 10 wide, 100 tall: any box of area >= 700 with aspect >= 3/4 is wider than 10.
    const box = randomResizedCropBox(new Rng(1), 10, 100, [0.7, 1], [3 / 4, 4 / 3]);
    expect(box).toEqual({ left: 0, top: 43, width: 10, height: 13 }); // h = round(10 / 0.75) = 13, top = (100 - 13) // 2
  });

  it('keeps boxes inside the image, with area fraction in [0.7, 1] and aspect in [3/4, 4/3] (up to rounding)', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 2000; t++) {
      const b = randomResizedCropBox(rng, 200, 150, [0.7, 1], [3 / 4, 4 / 3]);
      expect(b.left >= 0 && b.top >= 0 && b.left + b.width <= 200 && b.top + b.height <= 150).toBe(true);
      const frac = (b.width * b.height) / (200 * 150);
      expect(frac).toBeGreaterThan(0.69);
      expect(frac).toBeLessThanOrEqual(1.0);
      expect(b.width / b.height).toBeGreaterThan(0.74);
      expect(b.width / b.height).toBeLessThan(1.35);
    }
  });
});

describe('colour transforms (torchvision tensor semantics, HWC floats in [0, 1])', () => {
  it('brightness multiplies and clamps', () => {
    const a = Float32Array.from([0.5, 0.2, 0.9]);
    adjustBrightness(a, 1.2);
    close(a, [0.6, 0.24, 1]);
  });

  it('contrast blends with the mean grayscale of the whole image', () => {
    // Gray of red = 0.2989, of blue = 0.114: mean 0.20645; factor 0.5 -> 0.5 x + 0.103225.
    const a = Float32Array.from([1, 0, 0, 0, 0, 1]);
    adjustContrast(a, 0.5);
    close(a, [0.603225, 0.103225, 0.103225, 0.103225, 0.103225, 0.603225]);
  });

  it('saturation blends each pixel with its own gray; 0 gives grayscale', () => {
    const a = Float32Array.from([1, 0, 0, 0.2, 0.4, 0.6]);
    adjustSaturation(a, 0);
    const g2 = 0.2989 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6;
    close(a, [0.2989, 0.2989, 0.2989, g2, g2, g2]);
    const b = Float32Array.from([0.2, 0.4, 0.6]);
    adjustSaturation(b, 2);
    close(b, [2 * 0.2 - g2, 2 * 0.4 - g2, 2 * 0.6 - g2]);
  });

  it('hue turns the colour wheel and leaves grey alone', () => {
    const a = Float32Array.from([1, 0, 0, 1, 0, 0, 1, 0.5, 0, 0.3, 0.3, 0.3]);
    const red = a.subarray(0, 3);
    adjustHue(red, 1 / 3);
    close(red, [0, 1, 0]); // red + 120 degrees = green
    const red2 = a.subarray(3, 6);
    adjustHue(red2, -1 / 3);
    close(red2, [0, 0, 1]); // red - 120 degrees = blue
    const orange = a.subarray(6, 9);
    adjustHue(orange, 1 / 12);
    close(orange, [1, 1, 0]); // 30 + 30 degrees = yellow
    const grey = a.subarray(9, 12);
    adjustHue(grey, 0.25);
    close(grey, [0.3, 0.3, 0.3]);
  });

  it('ColorJitter applies the four adjustments in the drawn order', () => {
    const px = [0.9, 0.5, 0.1, 0.2, 0.3, 0.4];
    const draw = { order: [1, 0, 3, 2] as [number, number, number, number], brightness: 1.25, contrast: 0.8, saturation: 1.3, hue: 0.1 };
    const got = Float32Array.from(px);
    applyColorJitter(got, draw);
    const want = Float32Array.from(px);
    adjustContrast(want, 0.8);
    adjustBrightness(want, 1.25);
    adjustHue(want, 0.1);
    adjustSaturation(want, 1.3);
    close(got, [...want]);
    const other = Float32Array.from(px);
    applyColorJitter(other, { ...draw, order: [0, 1, 2, 3] });
    expect([...other]).not.toEqual([...got]);
  });

  it('grayscale keeps three equal channels; normalisation uses the ImageNet mean and std', () => {
    const a = Float32Array.from([1, 0.5, 0]);
    toGrayscale(a);
    close(a, [0.5924, 0.5924, 0.5924], 4);
    const out = new Float32Array(4);
    normalizeImageNet(Uint8Array.from([255, 0, 51]), out, 1);
    close(out, [0, (1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], -IMAGENET_MEAN[1] / IMAGENET_STD[1], (0.2 - IMAGENET_MEAN[2]) / IMAGENET_STD[2]]);
  });
});

describe('sampleAugmentation', () => {
  it('is a function of the generator state, and flips / grays at the configured rates', () => {
    expect(sampleAugmentation(new Rng(9), 64, 48)).toEqual(sampleAugmentation(new Rng(9), 64, 48));
    const rng = new Rng(11);
    let flips = 0;
    let grays = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const d = sampleAugmentation(rng, 64, 48);
      flips += d.flip ? 1 : 0;
      grays += d.grayscale ? 1 : 0;
      for (const f of [d.jitter.brightness, d.jitter.contrast, d.jitter.saturation]) expect(f >= 0.7 && f <= 1.3).toBe(true);
      expect(Math.abs(d.jitter.hue)).toBeLessThanOrEqual(0.3);
      expect([...d.jitter.order].sort()).toEqual([0, 1, 2, 3]);
    }
    expect(Math.abs(flips / n - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(grays / n - 0.1)).toBeLessThan(0.025);
  });
});
