import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import { DataError, type Batch, type EnvironmentData, type PluginContext } from '@qtdog/core';
import { encodeIdx, parseIdx, readIdxFile } from '../idx-file.js';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_DIR_ENV, fashionMnistDir, loadFashionMnist } from '../fashion-mnist-files.js';
import { rotatedFashionMnistPlugin } from '../rotated-fashion-mnist.js';
import { coloredFashionMnistPlugin } from '../colored-fashion-mnist.js';
import { rotateImage } from '../rotate-image.js';
import { shuffledPool } from '../multi-domain-mnist.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'qtdog-fmnist-'));
  dirs.push(d);
  return d;
};
const ctx = (baseDir: string): PluginContext => ({ container: new Container(), seed: 5, baseDir, log: () => {} });
const readAll = (env: EnvironmentData) => env.read(Array.from({ length: env.size }, (_, i) => i), 'eval') as Batch;

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('IDX files', () => {
  it('round-trips every value type, plain and gzipped', () => {
    const dir = tempDir();
    const cases = [
      { type: 'uint8', values: [0, 1, 255, 7, 8, 9] },
      { type: 'int8', values: [-128, 127, 0, 1, -1, 5] },
      { type: 'int16', values: [-300, 300, 0, 1, -1, 32767] },
      { type: 'int32', values: [-70000, 70000, 0, 1, -1, 2 ** 31 - 1] },
      { type: 'float32', values: [0.5, -1.25, 3, 0, 1e-3, 7] },
      { type: 'float64', values: [Math.PI, -1e300, 0, 1, 2, 3] },
    ] as const;
    for (const c of cases) {
      const bytes = encodeIdx([2, 3], c.values, c.type);
      const plain = join(dir, `${c.type}.idx`);
      const gz = join(dir, `${c.type}.idx.gz`);
      writeFileSync(plain, bytes);
      writeFileSync(gz, gzipSync(bytes));
      for (const p of [plain, gz]) {
        const a = readIdxFile(p);
        expect(a.type).toBe(c.type);
        expect(a.dims).toEqual([2, 3]);
        expect(Array.from(a.data)).toEqual(c.type === 'float32' ? c.values.map(Math.fround) : [...c.values]);
      }
    }
    // The header by hand: 00 00 08 02, then 2 and 3 as big-endian 32-bit integers.
    expect([...encodeIdx([2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 12)]).toEqual([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
  });

  it('names the file and what is wrong: missing, bad magic, unknown type, truncated header or data, trailing bytes, corrupt gzip', () => {
    const dir = tempDir();
    const good = encodeIdx([4, 2, 2], new Array(16).fill(3));
    const write = (name: string, bytes: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const expectError = (path: string, what: RegExp) => {
      const e = errorOf(() => readIdxFile(path));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toContain(path);
      expect(e.message).toMatch(what);
    };
    expectError(join(dir, 'nope'), /missing file/);
    expectError(write('png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0])), /bad magic number 0x89504e47/);
    expectError(write('type', Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 1, 5])), /unknown value type code 0x07/);
    expectError(write('short', Buffer.from([0, 0])), /too short/);
    expectError(write('header', good.subarray(0, 10)), /truncated header \(10 bytes; a rank-3 header needs 16\)/);
    expectError(write('data', good.subarray(0, good.length - 5)), /truncated: the header says 4x2x2 uint8 values \(32 bytes with the header\), the file has 27/);
    expectError(write('extra', Buffer.concat([good, Buffer.from([1, 2])])), /2 bytes after the 4x2x2 uint8 values/);
    const gz = gzipSync(good);
    expectError(write('cut.gz', gz.subarray(0, gz.length - 8)), /gzip data is corrupt or truncated/);
    expect(() => parseIdx(Buffer.from([0, 0, 8, 0]), 'x')).toThrow(/rank 0/);
  });
});

/** A folder in Fashion-MNIST's layout: `nTrain` + `nTest` images, image i filled with value i, label i % 10. */
function fakeFashionDir(nTrain = 12, nTest = 6, gz = true): string {
  const dir = tempDir();
  const write = (name: string, bytes: Buffer) => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  const part = (prefix: string, n: number, first: number) => {
    const images = new Array(n * 784);
    for (let i = 0; i < n; i++) images.fill(first + i, i * 784, (i + 1) * 784);
    write(`${prefix}-images-idx3-ubyte`, encodeIdx([n, 28, 28], images));
    write(`${prefix}-labels-idx1-ubyte`, encodeIdx([n], Array.from({ length: n }, (_, i) => (first + i) % 10)));
  };
  part('train', nTrain, 0);
  part('t10k', nTest, nTrain);
  return dir;
}

describe('Fashion-MNIST files', () => {
  const savedEnv = process.env[FASHION_MNIST_DIR_ENV];
  afterEach(() => {
    if (savedEnv === undefined) delete process.env[FASHION_MNIST_DIR_ENV];
    else process.env[FASHION_MNIST_DIR_ENV] = savedEnv;
  });

  it('loads training then test images, plain or gzipped', () => {
    for (const gz of [true, false]) {
      const f = loadFashionMnist(fakeFashionDir(12, 6, gz));
      expect(f.n).toBe(18);
      expect(f.images.length).toBe(18 * 784);
      expect(Array.from(f.labels)).toEqual(Array.from({ length: 18 }, (_, i) => i % 10));
      expect(f.images[13 * 784 + 100]).toBe(13); // test image 1 follows the 12 training images
    }
  });

  it('finds its folder from the option, then the environment variable, then Debian', () => {
    delete process.env[FASHION_MNIST_DIR_ENV];
    expect(fashionMnistDir()).toBe(DEBIAN_FASHION_MNIST_DIR);
    process.env[FASHION_MNIST_DIR_ENV] = '/some/where';
    expect(fashionMnistDir()).toBe('/some/where');
    expect(fashionMnistDir('data/fm', '/configs')).toBe('/configs/data/fm');
  });

  it('says how to get the files when they are missing', () => {
    const empty = tempDir();
    const e = errorOf(() => loadFashionMnist(empty));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain(`${empty} lacks train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte`);
    expect(e.message).toContain('apt-get install dataset-fashion-mnist');
    expect(e.message).toContain(FASHION_MNIST_DIR_ENV);
    expect(e.message).toContain('dataDir');
    expect(errorOf(() => loadFashionMnist('/no/such/folder')).message).toMatch(/folder \/no\/such\/folder does not exist/);
  });

  it('rejects mismatched counts, bad labels and wrong image sizes, naming the file', () => {
    const counts = fakeFashionDir();
    writeFileSync(join(counts, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([5], [1, 2, 3, 4, 5])));
    expect(errorOf(() => loadFashionMnist(counts)).message).toMatch(/t10k-labels-idx1-ubyte\.gz: 6 images but 5 labels/);
    const labels = fakeFashionDir();
    writeFileSync(join(labels, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1])));
    expect(errorOf(() => loadFashionMnist(labels)).message).toMatch(/train-labels-idx1-ubyte\.gz: label 10 at index 10 is not in 0\.\.9/);
    const size = fakeFashionDir();
    writeFileSync(join(size, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx([1, 2, 2], [1, 2, 3, 4])));
    expect(errorOf(() => loadFashionMnist(size)).message).toMatch(/train-images-idx3-ubyte\.gz: images are 2x2, expected 28x28/);
  });

  it('RotatedFashionMNIST: dataDir relative to the config folder, environments rotated as RotatedMNIST', async () => {
    const dir = fakeFashionDir(30, 6);
    const opts = rotatedFashionMnistPlugin.options.parse({ angles: [0, 45], dataDir: basename(dir) });
    const ds = await rotatedFashionMnistPlugin.create(opts, ctx(dirname(dir)));
    expect(ds.name).toBe('RotatedFashionMNIST');
    expect(ds.environments).toEqual(['0', '45']);
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.numClasses).toBe(10);
    const envs = await ds.load();
    expect(envs.map((e) => e.size)).toEqual([18, 18]);
    const pool = shuffledPool({ n: 36 }, 0);
    const b = readAll(envs[1]!);
    const src = pool[1]!; // env 1, image 0
    expect(b.y[0]).toBe(src % 10);
    const source = new Float32Array(784).fill(src / 255);
    expect(b.x.subarray(0, 784)).toEqual(rotateImage(source, 28, 28, 45));
  });

  it('ColoredFashionMNIST: 3 environments, 2 channels, binary labels; missing files fail on load with the how-to', async () => {
    const dir = fakeFashionDir(30, 6);
    const ds = await coloredFashionMnistPlugin.create(coloredFashionMnistPlugin.options.parse({ dataDir: dir }), ctx('/'));
    expect(ds.inputShape).toEqual([28, 28, 2]);
    const envs = await ds.load();
    expect(envs.map((e) => e.size)).toEqual([12, 12, 12]);
    for (const e of envs) for (const v of readAll(e).y) expect(v === 0 || v === 1).toBe(true);
    const missing = await coloredFashionMnistPlugin.create(coloredFashionMnistPlugin.options.parse({ dataDir: tempDir() }), ctx('/'));
    await expect(missing.load()).rejects.toThrow(/apt-get install dataset-fashion-mnist/);
  });
});

const REAL = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
if (!REAL) {
  console.warn(`Fashion-MNIST tests on the real files skipped: ${DEBIAN_FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist; CI installs it)`);
}

describe.skipIf(!REAL)(`Fashion-MNIST, the real files in ${DEBIAN_FASHION_MNIST_DIR} (skipped unless dataset-fashion-mnist is installed)`, () => {
  it('holds 70,000 images, 7,000 per class, and RotatedFashionMNIST / ColoredFashionMNIST split them like their MNIST twins', async () => {
    const f = loadFashionMnist(DEBIAN_FASHION_MNIST_DIR);
    expect(f.n).toBe(70_000);
    const counts = new Array(10).fill(0);
    for (const l of f.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(7000));
    // Fashion-MNIST's first training image is an ankle boot (label 9).
    expect(f.labels[0]).toBe(9);
    let sum = 0;
    for (let i = 0; i < 784; i++) sum += f.images[i]!;
    expect(sum).toBeGreaterThan(0);

    const rot = await rotatedFashionMnistPlugin.create(rotatedFashionMnistPlugin.options.parse({}), ctx(process.cwd()));
    const envs = await rot.load();
    expect(envs.map((e) => e.size)).toEqual([11667, 11667, 11667, 11667, 11666, 11666]);
    const b = (await envs[0]!.read([0, 1], 'eval')) as Batch;
    const src = shuffledPool(f, 0)[0]!;
    expect(b.y[0]).toBe(f.labels[src]);
    expect(b.x[300]).toBeCloseTo(f.images[src * 784 + 300]! / 255, 6);
    const col = await coloredFashionMnistPlugin.create(coloredFashionMnistPlugin.options.parse({}), ctx(process.cwd()));
    expect((await col.load()).map((e) => e.size)).toEqual([23334, 23333, 23333]);
  });
});
