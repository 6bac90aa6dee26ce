import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng, seedHash } from '@qtdog/core';

export interface ImageTreeSpec {
  environments: readonly string[];
  classes: readonly string[];
  /** Images per class and environment. */
  perClass: number;
  /** Width of each image (height is 3/4 of it, so crops and resizes are not square-to-square). */
  width: number;
  /** Formats used in turn: image k of a class is formats[k % formats.length]. */
  formats?: ReadonlyArray<'png' | 'jpeg'>;
  seed?: number;
}

/**
 * Writes a small `root/<environment>/<class>/<image>` tree of generated images for tests, demos and
 * the pipeline benchmark: class c is a set of stripes at angle c * 180 / nClasses, environment e
 * tints them and adds noise (a domain shift). Returns the written paths.
 */
export async function writeImageTree(root: string, spec: ImageTreeSpec): Promise<string[]> {
  const formats = spec.formats ?? ['png', 'jpeg'];
  const w = spec.width;
  const h = Math.max(1, Math.round((w * 3) / 4));
  const paths: string[] = [];
  const jobs: Array<Promise<unknown>> = [];
  spec.environments.forEach((env, e) => {
    spec.classes.forEach((cls, c) => {
      const dir = join(root, env, cls);
      mkdirSync(dir, { recursive: true });
      for (let k = 0; k < spec.perClass; k++) {
        const rng = new Rng(seedHash('image-tree', spec.seed ?? 0, e, c, k));
        const angle = (Math.PI * c) / spec.classes.length;
        const period = 4 + (w / 8) * rng.uniform(0.5, 1);
        const tint = [0.5 + 0.5 * Math.cos(e * 2.1), 0.5 + 0.5 * Math.cos(e * 2.1 + 2), 0.5 + 0.5 * Math.cos(e * 2.1 + 4)];
        const phase = rng.uniform(0, 2 * Math.PI);
        const px = Buffer.alloc(w * h * 3);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const t = 0.5 + 0.5 * Math.sin(((x * Math.cos(angle) + y * Math.sin(angle)) * 2 * Math.PI) / period + phase);
            for (let ch = 0; ch < 3; ch++) {
              const v = 255 * (0.7 * t * tint[ch]! + 0.3 * rng.next());
              px[(y * w + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
            }
          }
        }
        const format = formats[k % formats.length]!;
        const path = join(dir, `${cls}_${k}.${format === 'jpeg' ? 'jpg' : 'png'}`);
        const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
        jobs.push((format === 'jpeg' ? img.jpeg({ quality: 90 }) : img.png()).toFile(path));
        paths.push(path);
      }
    });
  });
  await Promise.all(jobs);
  return paths;
}
