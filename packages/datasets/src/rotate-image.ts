/**
 * Rotates a single-channel h x w image (row-major) about its centre, as DomainBed's RotatedMNIST
 * does with torchvision's `rotate(img, angle, fill=0, interpolation=BILINEAR)` on a PIL image:
 * positive angles turn counter-clockwise (as displayed, rows going down), size is kept.
 *
 * PIL maps every output pixel back into the source (inverse affine) and samples it bilinearly:
 * - the centre is ((w-1)/2, (h-1)/2) in pixel indices (PIL's (w/2, h/2) with pixel centres at +0.5);
 * - a source point outside the image area [-0.5, w-0.5) x [-0.5, h-0.5) gives the fill value 0;
 * - inside it, neighbours past the edge are clamped to the edge pixel (PIL's XCLIP/YCLIP).
 * The matrix entries are rounded to 15 decimals as PIL does, so multiples of 90 degrees are exact.
 * Unlike PIL on 8-bit images, values are not rounded to 1/255 steps.
 */
export function rotateImage(src: Float32Array, h: number, w: number, degrees: number): Float32Array {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    throw new RangeError(`rotateImage: bad size ${h}x${w}`);
  }
  if (src.length !== h * w) {
    throw new RangeError(`rotateImage: ${src.length} values for a ${h}x${w} image`);
  }
  if (!Number.isFinite(degrees)) throw new RangeError(`rotateImage: angle ${degrees} is not finite`);
  const angle = degrees % 360;
  if (angle === 0) return src.slice();

  const rad = (angle * Math.PI) / 180;
  const cos = round15(Math.cos(rad));
  const sin = round15(Math.sin(rad));
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    const dy = y - cy;
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      // Inverse rotation: where output pixel (x, y) comes from in the source.
      const u = cos * dx - sin * dy + cx;
      const v = sin * dx + cos * dy + cy;
      if (u < -0.5 || u >= w - 0.5 || v < -0.5 || v >= h - 0.5) continue; // fill 0
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      const xa = clamp(x0, w);
      const xb = clamp(x0 + 1, w);
      const ya = clamp(y0, h) * w;
      const yb = clamp(y0 + 1, h) * w;
      const top = src[ya + xa]! + (src[ya + xb]! - src[ya + xa]!) * fx;
      const bottom = src[yb + xa]! + (src[yb + xb]! - src[yb + xa]!) * fx;
      out[y * w + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

function clamp(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

function round15(v: number): number {
  return Math.round(v * 1e15) / 1e15;
}
