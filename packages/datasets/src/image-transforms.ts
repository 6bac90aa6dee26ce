import type { Rng } from '@qtdog/core';

/** ImageNet channel statistics (torchvision), used by DomainBed's transforms. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** A crop box in source pixels. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** ColorJitter's random draw: factors, hue shift, and the order in which the four are applied. */
export interface ColorJitterDraw {
  /** Permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue. */
  order: [number, number, number, number];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** Everything DomainBed's train transform draws for one image. */
export interface AugmentationDraw {
  crop: CropBox;
  flip: boolean;
  jitter: ColorJitterDraw;
  grayscale: boolean;
}

/** Options of the DomainBed train transform (defaults: DomainBed's). */
export interface AugmentationOptions {
  /** RandomResizedCrop area fraction range. */
  scale: readonly [number, number];
  /** RandomResizedCrop aspect-ratio range. */
  ratio: readonly [number, number];
  /** ColorJitter strength for brightness, contrast, saturation (factor in [1-s, 1+s]) and hue ([-s, s]). */
  jitter: number;
  /** RandomGrayscale probability. */
  grayscale: number;
}

export const DOMAINBED_AUGMENTATION: AugmentationOptions = {
  scale: [0.7, 1.0],
  ratio: [3 / 4, 4 / 3],
  jitter: 0.3,
  grayscale: 0.1,
};

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries of a random area fraction in `scale` and
 * a log-uniform aspect ratio in `ratio`, the box placed uniformly; else a centre crop with the ratio
 * clamped to `ratio`.
 */
export function randomResizedCropBox(rng: Rng, width: number, height: number, scale: readonly [number, number], ratio: readonly [number, number]): CropBox {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** ColorJitter(s, s, s, s).get_params: a random order, then factors in [max(0, 1-s), 1+s] and a hue shift in [-s, s]. */
export function sampleColorJitter(rng: Rng, strength: number): ColorJitterDraw {
  const order = rng.shuffle([0, 1, 2, 3]) as [number, number, number, number];
  const factor = () => rng.uniform(Math.max(0, 1 - strength), 1 + strength);
  const brightness = factor();
  const contrast = factor();
  const saturation = factor();
  const hue = rng.uniform(-strength, strength);
  return { order, brightness, contrast, saturation, hue };
}

/** The draws of DomainBed's train transform for an image of the given size, in torchvision's order. */
export function sampleAugmentation(rng: Rng, width: number, height: number, o: AugmentationOptions = DOMAINBED_AUGMENTATION): AugmentationDraw {
  const crop = randomResizedCropBox(rng, width, height, o.scale, o.ratio);
  const flip = rng.next() < 0.5;
  const jitter = sampleColorJitter(rng, o.jitter);
  const grayscale = rng.next() < o.grayscale;
  return { crop, flip, jitter, grayscale };
}

/** torchvision's rgb_to_grayscale weights (ITU-R 601-2 luma). */
const GRAY = [0.2989, 0.587, 0.114] as const;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Brightness: x * f, clamped to [0, 1]. `rgb` is HWC float in [0, 1], changed in place. */
export function adjustBrightness(rgb: Float32Array, f: number): void {
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp01(rgb[i]! * f);
}

/** Contrast: blend with the mean of the image's grayscale, f * x + (1 - f) * mean. */
export function adjustContrast(rgb: Float32Array, f: number): void {
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += GRAY[0] * rgb[i]! + GRAY[1] * rgb[i + 1]! + GRAY[2] * rgb[i + 2]!;
  const mean = sum / (rgb.length / 3);
  const add = (1 - f) * mean;
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp01(f * rgb[i]! + add);
}

/** Saturation: blend each pixel with its own grayscale value. */
export function adjustSaturation(rgb: Float32Array, f: number): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const g = (1 - f) * (GRAY[0] * rgb[i]! + GRAY[1] * rgb[i + 1]! + GRAY[2] * rgb[i + 2]!);
    rgb[i] = clamp01(f * rgb[i]! + g);
    rgb[i + 1] = clamp01(f * rgb[i + 1]! + g);
    rgb[i + 2] = clamp01(f * rgb[i + 2]! + g);
  }
}

/** Hue: rotate the hue by `shift` turns (torchvision's tensor adjust_hue, through HSV). */
export function adjustHue(rgb: Float32Array, shift: number): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!;
    const g = rgb[i + 1]!;
    const b = rgb[i + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const chroma = max - min;
    if (chroma === 0) continue; // grey: no hue to turn
    const s = chroma / max;
    const rc = (max - r) / chroma;
    const gc = (max - g) / chroma;
    const bc = (max - b) / chroma;
    let h = max === r ? bc - gc : max === g ? 2 + rc - bc : 4 + gc - rc;
    h = h / 6 + 1;
    h = (((h + shift) % 1) + 1) % 1;
    const v = max;
    const h6 = h * 6;
    const sector = Math.floor(h6) % 6;
    const f = h6 - Math.floor(h6);
    const p = clamp01(v * (1 - s));
    const q = clamp01(v * (1 - s * f));
    const t = clamp01(v * (1 - s * (1 - f)));
    // torchvision's _hsv2rgb table, written out (no per-pixel allocation: this runs on every pixel).
    let ro: number, go: number, bo: number;
    switch (sector) {
      case 0: ro = v; go = t; bo = p; break;
      case 1: ro = q; go = v; bo = p; break;
      case 2: ro = p; go = v; bo = t; break;
      case 3: ro = p; go = q; bo = v; break;
      case 4: ro = t; go = p; bo = v; break;
      default: ro = v; go = p; bo = q;
    }
    rgb[i] = ro;
    rgb[i + 1] = go;
    rgb[i + 2] = bo;
  }
}

/** ColorJitter with a given draw: the four adjustments in the drawn order (a factor of 1 / shift of 0 is skipped). */
export function applyColorJitter(rgb: Float32Array, d: ColorJitterDraw): void {
  for (const op of d.order) {
    if (op === 0 && d.brightness !== 1) adjustBrightness(rgb, d.brightness);
    else if (op === 1 && d.contrast !== 1) adjustContrast(rgb, d.contrast);
    else if (op === 2 && d.saturation !== 1) adjustSaturation(rgb, d.saturation);
    else if (op === 3 && d.hue !== 0) adjustHue(rgb, d.hue);
  }
}

/** Grayscale with 3 output channels (RandomGrayscale keeps the channel count). */
export function toGrayscale(rgb: Float32Array): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const g = GRAY[0] * rgb[i]! + GRAY[1] * rgb[i + 1]! + GRAY[2] * rgb[i + 2]!;
    rgb[i] = g;
    rgb[i + 1] = g;
    rgb[i + 2] = g;
  }
}

/**
 * ToTensor + Normalize(ImageNet) into `out` at `offset`, keeping HWC order: bytes are divided by 255
 * first, floats are taken as [0, 1] values.
 */
export function normalizeImageNet(rgb: Uint8Array | Float32Array, out: Float32Array, offset: number): void {
  const scale = rgb instanceof Uint8Array ? 1 / 255 : 1;
  for (let i = 0; i < rgb.length; i += 3) {
    out[offset + i] = (rgb[i]! * scale - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
    out[offset + i + 1] = (rgb[i + 1]! * scale - IMAGENET_MEAN[1]) / IMAGENET_STD[1];
    out[offset + i + 2] = (rgb[i + 2]! * scale - IMAGENET_MEAN[2]) / IMAGENET_STD[2];
  }
}

/**
 * The pixel part of the train transform after crop, resize and flip: ColorJitter, RandomGrayscale,
 * then normalisation into `out`. `bytes` is the resized crop, HWC RGB.
 */
export function augmentPixels(bytes: Uint8Array, draw: AugmentationDraw, out: Float32Array, offset: number): void {
  const rgb = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) rgb[i] = bytes[i]! / 255;
  applyColorJitter(rgb, draw.jitter);
  if (draw.grayscale) toGrayscale(rgb);
  normalizeImageNet(rgb, out, offset);
}
