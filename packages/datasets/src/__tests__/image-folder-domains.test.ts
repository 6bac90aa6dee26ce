import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Container } from 'inversify';
import sharp from 'sharp';
import { DataError, type Batch, type PluginContext } from '@qtdog/core';
import { imageFolderDomainsPlugin, ImageFolderDataset, type ImageFolderOptions } from '../image-folder-domains.js';
import { DATA_DIR_ENV, IMAGE_FOLDER_PRESETS, imageFolderPresetPlugins, presetRoot } from '../image-folder-presets.js';
import { writeImageTree } from '../image-tree-writer.js';
import { decodeResizedRgb } from '../image-decoder.js';
import { normalizeImageNet } from '../image-transforms.js';
import { LruCache } from '../lru-cache.js';
import { BatchPrefetcher } from '../batch-prefetcher.js';
import { measureImagePipeline } from '../image-pipeline-throughput.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'qtdog-imgfolder-'));
  dirs.push(d);
  return d;
};

function context(baseDir = '/', seed = 7): PluginContext & { logs: string[] } {
  const logs: string[] = [];
  return { container: new Container(), seed, baseDir, log: (m) => logs.push(m), logs };
}

const OPTS = { imageSize: 16, augment: true, cacheSize: 64, onCorruptImage: 'fail', verify: 'header' } as const;
const dataset = (root: string, extra: Partial<ImageFolderOptions> = {}, seed = 7, logs: string[] = []) =>
  new ImageFolderDataset('ImageFolderDomains', { ...OPTS, root, ...extra }, { seed, log: (m) => logs.push(m) });

async function errorOf(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** A tree with unsorted names: environments env_b, env_a, env_c; classes zebra, ant, cat; 3 images each (png, jpeg, png). */
async function smallTree(): Promise<string> {
  const root = tempDir();
  await writeImageTree(root, { environments: ['env_b', 'env_a', 'env_c'], classes: ['zebra', 'ant', 'cat'], perClass: 3, width: 40 });
  return root;
}

describe('ImageFolderDomains: layout, order, decoding', () => {
  let root: string;
  beforeAll(async () => {
    root = await smallTree();
    // A nested folder inside a class and a file that is not an image.
    mkdirSync(join(root, 'env_a', 'cat', 'more'));
    copyFileSync(join(root, 'env_a', 'cat', 'cat_0.png'), join(root, 'env_a', 'cat', 'more', 'cat_x.png'));
    writeFileSync(join(root, 'env_a', 'cat', 'notes.txt'), 'not an image');
  });

  it('sorts environments and classes by name, walks class folders recursively (ImageFolder order), ignores other files', async () => {
    const ctx = context(dirname(root));
    const ds = (await imageFolderDomainsPlugin.create(imageFolderDomainsPlugin.options.parse({ root: basename(root), imageSize: 16 }), ctx)) as ImageFolderDataset;
    expect(ds.environments).toEqual(['env_a', 'env_b', 'env_c']);
    expect(ds.classes).toEqual(['ant', 'cat', 'zebra']);
    expect(ds.numClasses).toBe(3);
    expect(ds.inputShape).toEqual([16, 16, 3]);
    expect(ctx.logs.join('\n')).toMatch(/ignored 1 file\(s\) that are not JPEG or PNG .*notes\.txt/);
    const envs = await ds.load();
    expect(envs.map((e) => e.size)).toEqual([10, 9, 9]);
    const a = envs[0]!;
    expect(Array.from({ length: 10 }, (_, i) => basename(a.example(i).path))).toEqual([
      'ant_0.png', 'ant_1.jpg', 'ant_2.png', 'cat_0.png', 'cat_1.jpg', 'cat_2.png', 'cat_x.png', 'zebra_0.png', 'zebra_1.jpg', 'zebra_2.png',
    ]);
    expect(Array.from({ length: 10 }, (_, i) => a.example(i).label)).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
  });

  it('eval reads: resized to imageSize and normalised with ImageNet statistics, cached, labels kept', async () => {
    const ds = dataset(root);
    const [env] = await ds.load();
    const b = (await env!.read([8, 1], 'eval')) as Batch;
    expect(b.n).toBe(2);
    expect(Array.from(b.y)).toEqual([2, 0]);
    expect(b.x.length).toBe(2 * 16 * 16 * 3);
    const want = new Float32Array(16 * 16 * 3);
    normalizeImageNet(await decodeResizedRgb(env!.example(8).path, 16), want, 0);
    expect(b.x.subarray(0, want.length)).toEqual(want);
    expect(ds.stats).toMatchObject({ decoded: 2, cacheHits: 0 });
    const again = (await env!.read([1, 8], 'eval')) as Batch;
    expect(again.x.subarray(16 * 16 * 3)).toEqual(want);
    expect(ds.stats).toMatchObject({ decoded: 2, cacheHits: 2 });
    await expect(env!.read([10], 'eval')).rejects.toThrow(/index 10 out of range \[0, 10\)/);
  });

  it('train reads: seeded augmentation, a new draw per read, a different one per trial seed; no augmentation when off', async () => {
    const idx = [0, 4, 9];
    const first = async (seed: number) => {
      const [env] = await dataset(root, {}, seed).load();
      return [(await env!.read(idx, 'train')) as Batch, (await env!.read(idx, 'train')) as Batch];
    };
    const [a1, a2] = await first(1);
    const [b1] = await first(1);
    const [c1] = await first(2);
    expect(b1!.x).toEqual(a1!.x);
    expect(a2!.x).not.toEqual(a1!.x);
    expect(c1!.x).not.toEqual(a1!.x);
    expect(Array.from(a1!.y)).toEqual([0, 1, 2]);
    for (const v of a1!.x) expect(Number.isFinite(v) && v > -2.2 && v < 2.7).toBe(true);
    const [plain] = await dataset(root, { augment: false }).load();
    const [evalEnv] = await dataset(root).load();
    expect(((await plain!.read(idx, 'train')) as Batch).x).toEqual(((await evalEnv!.read(idx, 'eval')) as Batch).x);
  });

  it('decodes grey and grey+alpha PNGs to three channels', async () => {
    const dir = tempDir();
    const grey = join(dir, 'g.png');
    await sharp(Buffer.alloc(8 * 8, 200), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(grey);
    const rgb = await decodeResizedRgb(grey, 4);
    expect(rgb.length).toBe(4 * 4 * 3);
    expect(new Set(rgb)).toEqual(new Set([200]));
    const ga = join(dir, 'ga.png');
    await sharp(Buffer.alloc(8 * 8 * 2, 255), { raw: { width: 8, height: 8, channels: 2 } }).png().toFile(ga);
    expect((await decodeResizedRgb(ga, 4)).length).toBe(48);
  });
});

describe('ImageFolderDomains: bad data', () => {
  it('a missing root, a root without environments, an environment without classes, an empty class folder', async () => {
    const missing = await errorOf(() => dataset('/no/such/root'));
    expect(missing).toBeInstanceOf(DataError);
    expect(missing.message).toBe('image folder /no/such/root does not exist');
    const empty = tempDir();
    expect((await errorOf(() => dataset(empty))).message).toMatch(/has no environment folders \(expected root\/<environment>\/<class>\/<image>\)/);
    const noClasses = tempDir();
    mkdirSync(join(noClasses, 'env0'));
    expect((await errorOf(() => dataset(noClasses))).message).toBe(`environment folder ${join(noClasses, 'env0')} has no class folders (expected <environment>/<class>/<image>)`);
    const emptyClass = await smallTree();
    rmSync(join(emptyClass, 'env_c', 'cat'), { recursive: true });
    mkdirSync(join(emptyClass, 'env_c', 'cat'));
    writeFileSync(join(emptyClass, 'env_c', 'cat', 'readme.md'), '');
    expect((await errorOf(() => dataset(emptyClass))).message).toBe(`class folder ${join(emptyClass, 'env_c', 'cat')} holds no images (.jpg, .jpeg, .png)`);
  });

  it('classes that differ between environments, and a missing expected environment', async () => {
    const root = await smallTree();
    rmSync(join(root, 'env_b', 'ant'), { recursive: true });
    const e = await errorOf(() => dataset(root));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('the class folders differ between environments');
    expect(e.message).toContain(`${join(root, 'env_b')} lacks class folder(s) 'ant'`);
    const ok = await smallTree();
    const m = await errorOf(() => dataset(ok, { environments: ['env_a', 'env_b', 'env_c', 'env_d'] }));
    expect(m.message).toMatch(/missing environment folder\(s\) 'env_d' \(found 'env_a', 'env_b', 'env_c'; expected/);
  });

  it("a file that is not an image: 'fail' names it at load; 'skip' leaves it out and logs it", async () => {
    const root = await smallTree();
    const junk = join(root, 'env_a', 'ant', 'ant_9.jpg');
    writeFileSync(junk, 'definitely not a JPEG');
    const e = await errorOf(() => dataset(root).load());
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain(`1 corrupt image(s) in environment 'env_a': ${junk} (`);
    expect(e.message).toContain('onCorruptImage: skip');
    const logs: string[] = [];
    const ds = dataset(root, { onCorruptImage: 'skip' }, 7, logs);
    const envs = await ds.load();
    expect(envs.map((x) => x.size)).toEqual([9, 9, 9]);
    expect(logs.join('\n')).toContain(`skipping corrupt image ${junk}`);
    expect(ds.stats.skipped).toBe(1);
  });

  it("'fail' lists the corrupt files of every environment in one error, not the first environment's only", async () => {
    const root = await smallTree();
    const a = join(root, 'env_a', 'ant', 'ant_9.jpg');
    const c1 = join(root, 'env_c', 'cat', 'cat_8.png');
    const c2 = join(root, 'env_c', 'cat', 'cat_9.png');
    for (const p of [a, c1, c2]) writeFileSync(p, '');
    const e = await errorOf(() => dataset(root).load());
    expect(e).toBeInstanceOf(DataError);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).toMatch(/^ImageFolderDomains \(3 in 2 environments\): 1 corrupt image\(s\) in environment 'env_a': /);
    expect(e.message).toContain(`2 corrupt image(s) in environment 'env_c': ${c1} (`);
    for (const p of [a, c1, c2]) expect(e.message).toContain(p);
  });

  it("a truncated JPEG (good header): 'fail' stops the read naming it; 'skip' substitutes the next image and logs it", async () => {
    const root = await smallTree();
    const path = join(root, 'env_b', 'cat', 'cat_1.jpg');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.5)));
    const failing = await dataset(root).load();
    const i = Array.from({ length: 9 }, (_, k) => failing[1]!.example(k).path).indexOf(path);
    expect(i).toBe(4);
    const e = await errorOf(() => failing[1]!.read([0, i], 'eval'));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(new RegExp(`^corrupt image ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*JPEG`));
    const logs: string[] = [];
    const skipping = await dataset(root, { onCorruptImage: 'skip' }, 7, logs).load();
    const b = (await skipping[1]!.read([i, 0], 'train')) as Batch;
    expect(b.n).toBe(2);
    expect(b.y[0]).toBe(skipping[1]!.example(i + 1).label);
    expect(logs.join('\n')).toContain(`skipping corrupt image ${path}`);
  });
});

describe('DomainBed presets', () => {
  const saved = process.env[DATA_DIR_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[DATA_DIR_ENV];
    else process.env[DATA_DIR_ENV] = saved;
  });
  const plugin = (name: string) => imageFolderPresetPlugins.find((p) => p.name === name)!;

  it('hold DomainBed\'s environment folders and class counts', () => {
    expect(IMAGE_FOLDER_PRESETS.map((p) => [p.name, p.folder, p.environments.length, p.numClasses])).toEqual([
      ['PACS', 'PACS', 4, 7],
      ['VLCS', 'VLCS', 4, 5],
      ['OfficeHome', 'office_home', 4, 65],
      ['TerraIncognita', 'terra_incognita', 4, 10],
      ['DomainNet', 'domain_net', 6, 345],
    ]);
    for (const p of IMAGE_FOLDER_PRESETS) expect([...p.environments]).toEqual([...p.environments].sort());
  });

  it('PACS accepts a PACS-shaped tree and names what is missing otherwise', async () => {
    const pacs = IMAGE_FOLDER_PRESETS[0]!;
    const root = tempDir();
    await writeImageTree(root, { environments: pacs.environments, classes: pacs.classes!, perClass: 1, width: 12, formats: ['png'] });
    const ds = await plugin('PACS').create(plugin('PACS').options.parse({ root, imageSize: 8 }), context());
    expect((ds as ImageFolderDataset).environments).toEqual(['art_painting', 'cartoon', 'photo', 'sketch']);
    expect((ds as ImageFolderDataset).numClasses).toBe(7);

    rmSync(join(root, 'sketch'), { recursive: true });
    const e = await errorOf(() => plugin('PACS').create(plugin('PACS').options.parse({ root }), context()));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain(`PACS at ${root}: missing environment folder(s) 'sketch' (found 'art_painting', 'cartoon', 'photo'`);
    expect(e.message).toContain('download.py');

    for (const env of ['art_painting', 'cartoon', 'photo']) rmSync(join(root, env, 'person'), { recursive: true });
    mkdirSync(join(root, 'sketch'));
    await writeImageTree(join(root), { environments: ['sketch'], classes: pacs.classes!.filter((c) => c !== 'person'), perClass: 1, width: 12, formats: ['png'] });
    expect((await errorOf(() => plugin('PACS').create(plugin('PACS').options.parse({ root }), context()))).message).toContain(
      "PACS at " + root + ": missing class folder(s) 'person'",
    );
  });

  it('OfficeHome checks the class count; the default root is $QTDOG_DATA_DIR/<folder> or data/<folder>', async () => {
    const home = IMAGE_FOLDER_PRESETS[2]!;
    const root = tempDir();
    await writeImageTree(root, { environments: home.environments, classes: ['a', 'b'], perClass: 1, width: 12, formats: ['png'] });
    expect((await errorOf(() => plugin('OfficeHome').create(plugin('OfficeHome').options.parse({ root }), context()))).message).toContain(
      '2 class folders per environment, expected 65',
    );
    delete process.env[DATA_DIR_ENV];
    expect(presetRoot(home, undefined, '/cfg')).toBe('/cfg/data/office_home');
    process.env[DATA_DIR_ENV] = '/datasets';
    expect(presetRoot(home, undefined, '/cfg')).toBe('/datasets/office_home');
    expect(presetRoot(home, 'here', '/cfg')).toBe('/cfg/here');
  });
});

describe('streaming helpers', () => {
  it('LruCache evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    expect(c.size).toBe(2);
    const none = new LruCache<string, number>(0);
    none.set('a', 1);
    expect(none.get('a')).toBeUndefined();
  });

  it('BatchPrefetcher starts reads in order, one ahead, and delivers a failed read at the next call', async () => {
    const started: number[] = [];
    let k = 0;
    const p = new BatchPrefetcher(() => {
      const i = k++;
      started.push(i);
      if (i === 2) return Promise.reject(new Error('read 2 failed'));
      return { x: new Float32Array([i]), y: new Int32Array([i]), n: 1 };
    });
    expect((await p.next()).y[0]).toBe(0);
    expect(started).toEqual([0, 1]);
    expect((await p.next()).y[0]).toBe(1);
    await expect(p.next()).rejects.toThrow('read 2 failed');
    expect(started).toEqual([0, 1, 2, 3]);
    await p.drain();
  });

  it('a prefetched read decodes while the main thread is busy (sharp works in libuv threads)', async () => {
    const root = tempDir();
    await writeImageTree(root, { environments: ['e0'], classes: ['c0', 'c1'], perClass: 8, width: 400, formats: ['jpeg'] });
    const [env] = await dataset(root, { imageSize: 32, cacheSize: 0 }).load();
    const idx = Array.from({ length: 16 }, (_, i) => i);
    await env!.read(idx, 'eval'); // warm-up
    let t = performance.now();
    await env!.read(idx, 'eval');
    const alone = performance.now() - t;
    const pending = env!.read(idx, 'eval');
    const busyUntil = performance.now() + Math.max(400, 4 * alone);
    while (performance.now() < busyUntil); // a synchronous "training step"
    t = performance.now();
    await pending;
    const afterBusy = performance.now() - t;
    // Decoding happened during the busy loop: what is left is the JavaScript part of the read.
    expect(afterBusy).toBeLessThan(alone * 0.7);
  });

  it('measureImagePipeline reports images per second for train and eval reads', async () => {
    const root = tempDir();
    await writeImageTree(root, { environments: ['e0', 'e1'], classes: ['c0', 'c1'], perClass: 3, width: 48 });
    for (const mode of ['train', 'eval'] as const) {
      const r = await measureImagePipeline({ root, imageSize: 16, batchSize: 4, batches: 2, mode });
      expect(r).toMatchObject({ mode, imageSize: 16, batchSize: 4, images: 8 });
      expect(r.imagesPerSec).toBeGreaterThan(0);
      expect(r.cpuMsPerImage).toBeGreaterThan(0);
    }
  });
});
