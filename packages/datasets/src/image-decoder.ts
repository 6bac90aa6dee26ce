import sharp from 'sharp';
import type { CropBox } from './image-transforms.js';

/**
 * Image decoding with sharp (libvips). Every call reads and decodes in libuv's thread pool, so a
 * decode started before a synchronous training step runs alongside it.
 *
 * Conventions follow DomainBed's PIL pipeline: `convert('RGB')` (alpha dropped, grey and palette
 * images expanded to 3 channels), no EXIF auto-rotation, bilinear resampling (libvips' `linear`
 * kernel, antialiased when shrinking as PIL's is). A truncated file is an error (as PIL without
 * LOAD_TRUNCATED_IMAGES); libjpeg's minor warnings are not.
 */

/** Width and height from the file's header (no pixel decoding). */
export async function readImageSize(path: string): Promise<{ width: number; height: number }> {
  const m = await sharp(path, { failOn: 'truncated' }).metadata();
  if (!m.width || !m.height) throw new Error(`no image size in the header (format ${m.format ?? 'unknown'})`);
  return { width: m.width, height: m.height };
}

/** Decodes `path`, optionally crops `crop` out of it and flips it left-right, and resizes to size x size RGB bytes (HWC). */
export async function decodeResizedRgb(path: string, size: number, crop?: CropBox, flip = false): Promise<Uint8Array> {
  let img = sharp(path, { failOn: 'truncated' });
  if (crop) img = img.extract(crop);
  img = img.resize(size, size, { fit: 'fill', kernel: 'linear' });
  if (flip) img = img.flop();
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size) throw new Error(`decoded to ${info.width}x${info.height}, expected ${size}x${size}`);
  return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size * size, info.channels);
}

/** HWC bytes with any channel count as 3-channel RGB (grey replicated, extra channels dropped). */
function toRgb(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 3) return data;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    if (channels < 3) out.fill(data[p * channels]!, p * 3, p * 3 + 3);
    else out.set(data.subarray(p * channels, p * channels + 3), p * 3);
  }
  return out;
}
