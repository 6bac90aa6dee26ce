import sharp, { type Metadata } from 'sharp';
import type { EvalPreprocessing } from '@qtdog/core';
import { ModelInputError } from './model-input-error.js';

/**
 * One image file as the network's input, [channels, height, width] float32: the dataset's
 * evaluation transform (EvalPreprocessing): resized bilinearly as the image-folder datasets do, or
 * required at the model's size when the dataset had no resize; grey or RGB; bytes / 255; mean, std.
 */
export async function imageInput(file: string | Uint8Array, pre: EvalPreprocessing, label = typeof file === 'string' ? file : 'image'): Promise<Float32Array> {
  const [h, w] = pre.size;
  let meta: Metadata;
  try {
    meta = await sharp(file, { failOn: 'truncated' }).metadata();
  } catch (e) {
    throw new ModelInputError(`${label}: not an image (${(e as Error).message})`);
  }
  if (!meta.width || !meta.height) throw new ModelInputError(`${label}: not an image (no size in its header)`);
  if (!pre.resize && (meta.width !== w || meta.height !== h)) {
    throw new ModelInputError(`${label}: the image is ${meta.width}x${meta.height}; this model takes ${w}x${h} images (its dataset is evaluated without resizing)`);
  }
  let img = sharp(file, { failOn: 'truncated' });
  if (pre.resize) img = img.resize(w, h, { fit: 'fill', kernel: 'linear' });
  img = pre.channels === 1 ? img.removeAlpha().toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
  let data: Buffer;
  let channels: number;
  try {
    const r = await img.raw().toBuffer({ resolveWithObject: true });
    data = r.data;
    channels = r.info.channels;
  } catch (e) {
    throw new ModelInputError(`${label}: cannot decode the image (${(e as Error).message})`);
  }
  const c = pre.channels;
  const out = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) {
    // A grey image fed to an RGB model repeats its one channel.
    const src = Math.min(k, channels - 1);
    for (let i = 0; i < h * w; i++) out[k * h * w + i] = (data[i * channels + src]! / 255 - pre.mean[k]!) / pre.std[k]!;
  }
  return out;
}
