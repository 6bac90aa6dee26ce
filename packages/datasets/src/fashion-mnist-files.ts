import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '@qtdog/core';
import { readIdxFile, type IdxArray } from './idx-file.js';

/** Where Debian's `dataset-fashion-mnist` package installs the four gzipped IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Environment variable naming a folder with the Fashion-MNIST IDX files. */
export const FASHION_MNIST_DIR_ENV = 'QTDOG_FASHION_MNIST_DIR';
/** The ten Fashion-MNIST classes, by label (Xiao et al., arXiv:1708.07747). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

const PARTS = [
  { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', n: 60_000 },
  { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', n: 10_000 },
] as const;

const HOW_TO_GET =
  `install them with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; files go to ${DEBIAN_FASHION_MNIST_DIR}), ` +
  `or point the dataset option \`dataDir\` or the environment variable ${FASHION_MNIST_DIR_ENV} at a folder holding ` +
  'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may be gzipped, .gz)';

/** Fashion-MNIST as bytes: image i is images[i*784 .. (i+1)*784), row-major, 0..255 (0 = background). */
export interface FashionMnistImages {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly n: number;
  readonly dir: string;
}

/**
 * The folder to read: the `dataDir` option (relative to `baseDir`), else $QTDOG_FASHION_MNIST_DIR,
 * else Debian's install folder.
 */
export function fashionMnistDir(dataDir?: string, baseDir?: string): string {
  if (dataDir !== undefined) return resolve(baseDir ?? process.cwd(), dataDir);
  const fromEnv = process.env[FASHION_MNIST_DIR_ENV]?.trim();
  if (fromEnv) return resolve(fromEnv);
  return DEBIAN_FASHION_MNIST_DIR;
}

/** `name.gz` or `name` in `dir`, whichever exists (the gzipped one first), else undefined. */
function findFile(dir: string, name: string): string | undefined {
  for (const candidate of [`${name}.gz`, name]) {
    const p = join(dir, candidate);
    if (existsSync(p)) return p;
  }
  return undefined;
}

// 70,000 images as bytes are 55 MB; datasets in one process share one copy (read-only).
const cache = new Map<string, FashionMnistImages>();

/**
 * All 70,000 Fashion-MNIST images (the 60,000 training images, then the 10,000 test images, as
 * DomainBed's MultipleEnvironmentMNIST concatenates MNIST's), validated: 28x28 uint8 images, labels
 * 0..9, as many labels as images.
 */
export function loadFashionMnist(dir: string = fashionMnistDir()): FashionMnistImages {
  const folder = resolve(dir);
  const hit = cache.get(folder);
  if (hit) return hit;
  const files = PARTS.flatMap((p) => [p.images, p.labels]);
  const missing = files.filter((f) => findFile(folder, f) === undefined);
  if (missing.length > 0) {
    const what = existsSync(folder) ? `${folder} lacks ${missing.join(', ')}` : `folder ${folder} does not exist`;
    throw new DataError(`Fashion-MNIST files not found: ${what}. To get them, ${HOW_TO_GET}.`);
  }
  const parts = PARTS.map((p) => {
    const imagesPath = findFile(folder, p.images)!;
    const labelsPath = findFile(folder, p.labels)!;
    const images = expectIdx(readIdxFile(imagesPath), imagesPath, 'uint8', 3);
    const labels = expectIdx(readIdxFile(labelsPath), labelsPath, 'uint8', 1);
    const [n, h, w] = images.dims;
    if (h !== 28 || w !== 28) throw new DataError(`Fashion-MNIST file ${imagesPath}: images are ${h}x${w}, expected 28x28`);
    if (labels.dims[0] !== n) {
      throw new DataError(`Fashion-MNIST files ${imagesPath} and ${labelsPath}: ${n} images but ${labels.dims[0]} labels`);
    }
    const bad = (labels.data as Uint8Array).findIndex((v) => v > 9);
    if (bad >= 0) throw new DataError(`Fashion-MNIST file ${labelsPath}: label ${labels.data[bad]} at index ${bad} is not in 0..9`);
    return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, n: n! };
  });
  const n = parts.reduce((s, p) => s + p.n, 0);
  const images = new Uint8Array(n * 784);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 784);
    labels.set(p.labels, at);
    at += p.n;
  }
  const out: FashionMnistImages = { images, labels, n, dir: folder };
  cache.set(folder, out);
  return out;
}

function expectIdx(a: IdxArray, path: string, type: IdxArray['type'], rank: number): IdxArray {
  if (a.type !== type || a.dims.length !== rank) {
    throw new DataError(`Fashion-MNIST file ${path}: holds ${a.type} values of shape ${a.dims.join('x')}, expected ${type} of rank ${rank}`);
  }
  return a;
}
