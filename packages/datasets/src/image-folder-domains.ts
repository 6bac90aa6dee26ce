import { extname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DataError, definePlugin, pathOption, Rng, seedHash, type Batch, type DomainDataset, type EnvironmentData, type EvalPreprocessing } from '@qtdog/core';
import { decodeResizedRgb, readImageSize } from './image-decoder.js';
import { scanImageFolder, type EnvironmentFiles, type ImageFolderListing } from './image-folder-scan.js';
import { augmentPixels, IMAGENET_MEAN, IMAGENET_STD, normalizeImageNet, sampleAugmentation } from './image-transforms.js';
import { LruCache } from './lru-cache.js';

/** Options every image-folder dataset shares (ImageFolderDomains and the DomainBed presets). */
export const imageFolderOptionFields = {
  /** Side of the square input after resizing (DomainBed: 224). Small sizes make fast tests. */
  imageSize: z.number().int().min(8).max(1024).default(224),
  /** Apply DomainBed's train augmentation to 'train' reads (DomainBed's `data_augmentation`, default on). */
  augment: z.boolean().default(true),
  /** Evaluation images kept decoded and resized (LRU; imageSize^2 x 3 bytes each: 147 KiB at 224). 0 = no cache. */
  cacheSize: z.number().int().min(0).default(1024),
  /** A file that cannot be decoded: 'fail' stops the run naming it; 'skip' drops it (at load) or substitutes the next image (at read), logging its path. */
  onCorruptImage: z.enum(['skip', 'fail']).default('fail'),
  /** At load, read every file's header ('header': catches non-images and empty files, and records sizes), or trust the files ('none'). */
  verify: z.enum(['header', 'none']).default('header'),
};

export interface ImageFolderOptions {
  /** Absolute path of `root/<environment>/<class>/<image>`. */
  root: string;
  imageSize: number;
  augment: boolean;
  cacheSize: number;
  onCorruptImage: 'skip' | 'fail';
  verify: 'header' | 'none';
  /** Environment folders that must exist (any others are an error too); default: whatever is there. */
  environments?: readonly string[];
}

export interface ImageFolderContext {
  /** Seed of the augmentation draws (the trial's plugin seed: augmentation differs across trials). */
  seed: number;
  log: (message: string) => void;
}

/** Counters of the decoding work, for throughput figures. */
export interface DecodeStats {
  decoded: number;
  cacheHits: number;
  skipped: number;
}

/** Shared by the environments of one dataset: options, the evaluation cache, corrupt-file bookkeeping. */
class ImageReader {
  readonly cache: LruCache<string, Uint8Array>;
  readonly bad = new Set<string>();
  readonly stats: DecodeStats = { decoded: 0, cacheHits: 0, skipped: 0 };

  constructor(
    readonly o: ImageFolderOptions,
    readonly ctx: ImageFolderContext,
  ) {
    this.cache = new LruCache(o.cacheSize);
  }

  corrupt(path: string, err: unknown): DataError {
    // libvips's own text is sometimes just "Unknown error" (its error buffer is shared between
    // decoding threads), so the message names the format it failed to decode itself.
    const ext = extname(path).slice(1).toLowerCase();
    const format = ext === 'jpg' || ext === 'jpeg' ? 'JPEG' : ext.toUpperCase() || 'image';
    return new DataError(`corrupt image ${path}: cannot decode the ${format} data (${(err as Error).message ?? String(err)})`, { cause: err });
  }
}

/**
 * One environment of an image folder: decodes per read (streaming; nothing but the listing and the
 * bounded evaluation cache stays in memory). `read` is async: sharp decodes in libuv's threads.
 */
export class ImageFolderEnvironment implements EnvironmentData {
  readonly size: number;
  /** Train reads so far: with the environment index and the seed it seeds each read's augmentation. */
  private reads = 0;

  constructor(
    readonly name: string,
    private readonly envIndex: number,
    private readonly files: EnvironmentFiles,
    private readonly widths: Int32Array,
    private readonly heights: Int32Array,
    private readonly reader: ImageReader,
  ) {
    this.size = files.paths.length;
  }

  /** Path and class of example i. */
  example(i: number): { path: string; label: number } {
    return { path: this.files.paths[i]!, label: this.files.labels[i]! };
  }

  /** The number of train reads so far (saved and restored to resume the augmentation stream). */
  get readCount(): number {
    return this.reads;
  }

  set readCount(n: number) {
    this.reads = n;
  }

  async read(indices: ArrayLike<number>, mode: 'train' | 'eval'): Promise<Batch> {
    const n = indices.length;
    const s = this.reader.o.imageSize;
    const len = s * s * 3;
    const x = new Float32Array(n * len);
    const y = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= this.size) {
        throw new DataError(`environment '${this.name}': index ${i} out of range [0, ${this.size})`);
      }
    }
    const augment = mode === 'train' && this.reader.o.augment;
    // One seed per read, drawn in call order; each image gets its own generator from it, so the
    // draws do not depend on the order in which the decodes finish.
    const readSeed = augment ? seedHash(this.reader.ctx.seed, 'augment', this.envIndex, this.reads++) : 0;
    await Promise.all(
      Array.from({ length: n }, async (_, k) => {
        y[k] = await this.withFallback(indices[k]!, (i) =>
          augment ? this.decodeTrain(i, new Rng(seedHash(readSeed, k)), x, k * len) : this.decodeEval(i, x, k * len),
        );
      }),
    );
    return { x, y, n };
  }

  /** Runs `work` on example i; a corrupt file fails the read or, with 'skip', is replaced by the next good example. */
  private async withFallback(i: number, work: (i: number) => Promise<void>): Promise<number> {
    const r = this.reader;
    for (let tries = 0; tries < this.size; tries++) {
      const j = (i + tries) % this.size;
      const path = this.files.paths[j]!;
      if (r.bad.has(path)) continue;
      try {
        await work(j);
        return this.files.labels[j]!;
      } catch (e) {
        if (r.o.onCorruptImage === 'fail') throw r.corrupt(path, e);
        r.bad.add(path);
        r.stats.skipped++;
        r.ctx.log(`skipping corrupt image ${path} (${(e as Error).message}); the next image of '${this.name}' stands in for it`);
      }
    }
    throw new DataError(`environment '${this.name}': every image is corrupt`);
  }

  private async decodeTrain(i: number, rng: Rng, out: Float32Array, offset: number): Promise<void> {
    const path = this.files.paths[i]!;
    if (this.widths[i] === 0) {
      const { width, height } = await readImageSize(path);
      this.widths[i] = width;
      this.heights[i] = height;
    }
    const draw = sampleAugmentation(rng, this.widths[i]!, this.heights[i]!);
    const bytes = await decodeResizedRgb(path, this.reader.o.imageSize, draw.crop, draw.flip);
    this.reader.stats.decoded++;
    augmentPixels(bytes, draw, out, offset);
  }

  private async decodeEval(i: number, out: Float32Array, offset: number): Promise<void> {
    const r = this.reader;
    const key = `${this.envIndex}/${i}`;
    let bytes = r.cache.get(key);
    if (bytes) r.stats.cacheHits++;
    else {
      bytes = await decodeResizedRgb(this.files.paths[i]!, r.o.imageSize);
      r.stats.decoded++;
      r.cache.set(key, bytes);
    }
    normalizeImageNet(bytes, out, offset);
  }
}

/** Runs `fn(0..n-1)` with at most `limit` calls in flight. */
async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/**
 * A multi-domain image dataset from `root/<environment>/<class>/<image>` (DomainBed's
 * MultipleEnvironmentImageFolder): scanned when built (so environments and classes are known before
 * the network), headers checked at load, pixels decoded per read.
 */
export class ImageFolderDataset implements DomainDataset {
  readonly environments: string[];
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly classes: string[];
  readonly preprocessing: EvalPreprocessing;
  readonly listing: ImageFolderListing;
  private readonly reader: ImageReader;
  private loading?: Promise<ImageFolderEnvironment[]>;

  constructor(
    readonly name: string,
    readonly options: ImageFolderOptions,
    ctx: ImageFolderContext,
    /** Extra checks of the listing (the presets' expected environments and classes). */
    check?: (listing: ImageFolderListing) => void,
  ) {
    this.listing = scanImageFolder(options.root);
    if (options.environments) checkEnvironments(name, this.listing, options.environments);
    check?.(this.listing);
    this.environments = this.listing.environments;
    this.classes = this.listing.classes;
    this.numClasses = this.classes.length;
    this.inputShape = [options.imageSize, options.imageSize, 3];
    this.preprocessing = { size: [options.imageSize, options.imageSize], resize: true, channels: 3, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
    this.reader = new ImageReader(options, ctx);
    const { count, examples } = this.listing.ignored;
    if (count > 0) ctx.log(`${name}: ignored ${count} file(s) that are not JPEG or PNG under ${options.root} (e.g. ${examples.join(', ')})`);
  }

  get classNames(): readonly string[] {
    return this.classes;
  }

  /** Decoding counters since the dataset was built. */
  get stats(): DecodeStats {
    return this.reader.stats;
  }

  load(): Promise<ImageFolderEnvironment[]> {
    this.loading ??= this.build();
    return this.loading;
  }

  private async build(): Promise<ImageFolderEnvironment[]> {
    const envs: ImageFolderEnvironment[] = [];
    // With 'fail', every environment is checked before failing, so one error lists every bad file.
    const corrupt: Array<{ env: string; list: string[] }> = [];
    for (const [e, files] of this.listing.files.entries()) {
      let widths = new Int32Array(files.paths.length);
      let heights = new Int32Array(files.paths.length);
      if (this.options.verify === 'header') {
        const failed: Array<{ i: number; message: string }> = [];
        await forEachLimited(files.paths.length, 16, async (i) => {
          try {
            const { width, height } = await readImageSize(files.paths[i]!);
            widths[i] = width;
            heights[i] = height;
          } catch (err) {
            failed.push({ i, message: (err as Error).message });
          }
        });
        if (failed.length > 0) {
          failed.sort((a, b) => a.i - b.i);
          const list = failed.map((f) => `${files.paths[f.i]} (${f.message})`);
          if (this.options.onCorruptImage === 'fail') {
            corrupt.push({ env: files.name, list });
            continue;
          }
          for (const line of list) this.reader.ctx.log(`${this.name}: skipping corrupt image ${line}`);
          this.reader.stats.skipped += failed.length;
          const drop = new Set(failed.map((f) => f.i));
          const keep = files.paths.map((_, i) => i).filter((i) => !drop.has(i));
          const kept: EnvironmentFiles = { name: files.name, paths: keep.map((i) => files.paths[i]!), labels: Int32Array.from(keep, (i) => files.labels[i]!) };
          const present = new Set(kept.labels);
          const emptied = this.classes.filter((_, c) => !present.has(c));
          if (emptied.length > 0) {
            throw new DataError(`${this.name}: after leaving out corrupt images, class folder(s) ${emptied.map((c) => `${this.options.root}/${files.name}/${c}`).join(', ')} hold no images`);
          }
          widths = Int32Array.from(keep, (i) => widths[i]!);
          heights = Int32Array.from(keep, (i) => heights[i]!);
          this.listing.files[e] = kept;
        }
      }
      envs.push(new ImageFolderEnvironment(files.name, e, this.listing.files[e]!, widths, heights, this.reader));
    }
    if (corrupt.length > 0) throw corruptImagesError(this.name, corrupt);
    return envs;
  }
}

/** Files listed per environment in the corrupt-images error before it only counts the rest. */
const CORRUPT_SHOWN = 20;

/** One error for the corrupt files of every environment: `<n> corrupt image(s) in environment 'a': ...; in environment 'b': ...`. */
export function corruptImagesError(dataset: string, corrupt: ReadonlyArray<{ env: string; list: readonly string[] }>): DataError {
  const total = corrupt.reduce((n, c) => n + c.list.length, 0);
  const parts = corrupt.map(
    (c) => `${c.list.length} corrupt image(s) in environment '${c.env}': ${c.list.slice(0, CORRUPT_SHOWN).join('; ')}${c.list.length > CORRUPT_SHOWN ? `; and ${c.list.length - CORRUPT_SHOWN} more` : ''}`,
  );
  const envs = corrupt.length > 1 ? ` (${total} in ${corrupt.length} environments)` : '';
  return new DataError(`${dataset}${envs}: ${parts.join('; ')} (set onCorruptImage: skip to leave them out)`);
}

/** Fails unless the folder holds exactly the expected environment folders, naming what is missing and what is extra. */
export function checkEnvironments(name: string, listing: ImageFolderListing, expected: readonly string[], hint = ''): void {
  const found = new Set(listing.environments);
  const missing = expected.filter((e) => !found.has(e));
  const want = new Set(expected);
  const extra = listing.environments.filter((e) => !want.has(e));
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing environment folder(s) ${missing.map((e) => `'${e}'`).join(', ')}`);
  if (extra.length > 0) parts.push(`unexpected folder(s) ${extra.map((e) => `'${e}'`).join(', ')}`);
  throw new DataError(
    `${name} at ${listing.root}: ${parts.join('; ')} (found ${listing.environments.map((e) => `'${e}'`).join(', ')}; expected ${expected.map((e) => `'${e}'`).join(', ')})${hint}`,
  );
}

/** A path option resolved against the config file's folder. */
export function resolveDataPath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

export const imageFolderDomainsPlugin = definePlugin({
  kind: 'dataset',
  name: 'ImageFolderDomains',
  description:
    'Images in root/<environment>/<class>/<image> (JPEG, PNG), one environment per folder, with DomainBed\'s augmentation (arXiv:2007.01434); decoded per batch by sharp',
  options: z.object({
    /** The dataset folder (relative to the config file). */
    root: pathOption('folder'),
    /** Environment folders that must be there (and no others); default: every folder under root. */
    environments: z.array(z.string().min(1)).min(1).optional(),
    ...imageFolderOptionFields,
  }),
  create(options, ctx) {
    return new ImageFolderDataset('ImageFolderDomains', { ...options, root: resolveDataPath(options.root, ctx.baseDir) }, { seed: ctx.seed, log: ctx.log });
  },
});
