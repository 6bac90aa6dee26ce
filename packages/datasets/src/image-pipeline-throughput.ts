import { Rng } from '@qtdog/core';
import { ImageFolderDataset } from './image-folder-domains.js';

export interface PipelineThroughputOptions {
  /** An image folder (root/<environment>/<class>/<image>), or a dataset built already. */
  root?: string;
  dataset?: ImageFolderDataset;
  imageSize?: number;
  batchSize?: number;
  /** Timed batches (after one warm-up batch). */
  batches?: number;
  /** 'train': decode + RandomResizedCrop + flip + ColorJitter + grayscale + normalise; 'eval': decode + resize + normalise. */
  mode?: 'train' | 'eval';
  /** Evaluation cache size when `root` is given (default 0, so every image is decoded). */
  cacheSize?: number;
  seed?: number;
}

export interface PipelineThroughput {
  mode: 'train' | 'eval';
  imageSize: number;
  batchSize: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  msPerBatch: number;
  /** CPU time of the whole process (main thread and libuv's decoding threads) per image. */
  cpuMsPerImage: number;
}

/**
 * Images decoded and transformed per second by the image-folder pipeline: `batches` reads of
 * `batchSize` random examples, environments in turn, each read awaited before the next (as the
 * trainer does without prefetching). Put it beside the training step time to see which one limits.
 */
export async function measureImagePipeline(o: PipelineThroughputOptions): Promise<PipelineThroughput> {
  const mode = o.mode ?? 'train';
  const batchSize = o.batchSize ?? 32;
  const batches = o.batches ?? 10;
  const ds =
    o.dataset ??
    new ImageFolderDataset(
      'ImageFolderDomains',
      { root: o.root!, imageSize: o.imageSize ?? 224, augment: true, cacheSize: o.cacheSize ?? 0, onCorruptImage: 'fail', verify: 'header' },
      { seed: o.seed ?? 0, log: () => {} },
    );
  if (!o.dataset && !o.root) throw new Error('measureImagePipeline: give root or dataset');
  const envs = await ds.load();
  const rng = new Rng(o.seed ?? 0);
  const readOne = async (b: number) => {
    const env = envs[b % envs.length]!;
    const idx = Int32Array.from({ length: batchSize }, () => rng.int(env.size));
    await env.read(idx, mode);
  };
  await readOne(0);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) await readOne(b + 1);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const images = batches * batchSize;
  return {
    mode,
    imageSize: ds.inputShape[0],
    batchSize,
    images,
    seconds,
    imagesPerSec: images / seconds,
    msPerBatch: (seconds * 1000) / batches,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images,
  };
}
