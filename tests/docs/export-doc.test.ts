// Every code block of docs/export.md, run as a user would run it (issue 27: "Loading it" threw as
// written): `sh` blocks command by command with the built CLI, `ts` blocks in Node, `browser` blocks
// in headless Chromium on a page that maps the packages' names to their files (import map). They run
// in a temporary project holding a small trained run at runs/rmnist-qtdog.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { serveFolder } from '@qtdog/deploy';
import { ROOT, qtdog, tempDir } from '../helpers';
import { fixtureRunConfig } from '../quantization/fixture-runs';

const CHROMIUM = '/usr/bin/chromium';
const DOC = readFileSync(join(ROOT, 'docs/export.md'), 'utf8');
const blocks = [...DOC.matchAll(/^```(\S*)(?: (\S+))?\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, where: m[2] ?? '', code: m[3]! }));
const toJs = (code: string) => transformSync(code, { loader: 'ts', format: 'esm', target: 'es2022' }).code;

describe('docs/export.md: every code block runs', () => {
  const proj = tempDir();

  beforeAll(async () => {
    symlinkSync(join(ROOT, 'node_modules'), join(proj, 'node_modules'));
    const config = fixtureRunConfig({ quantizer: { type: 'LSQ', bits: 7, startStep: 2 }, steps: 6, checkpointFreq: 5 });
    mkdirSync(join(proj, 'configs'));
    copyFileSync(config, join(proj, 'configs/rmnist-qtdog.yaml')); // JSON is YAML
    const r = qtdog(['run', config, '--out', join(proj, 'runs/rmnist-qtdog')]);
    expect(r.code, r.stderr).toBe(0);
    for (const i of [0, 1]) {
      const px = Uint8Array.from({ length: 64 }, (_, k) => ((i ? k % 8 : k >> 3) * 36) & 0xff);
      await sharp(px, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(proj, `digit-${i}.png`));
    }
  });

  it('has only blocks of the kinds this test runs', () => {
    const kinds = blocks.map((b) => `${b.lang} ${b.where}`.trim());
    expect(kinds.filter((k) => !['sh', 'ts', 'ts browser', 'js browser', 'text', 'json'].includes(k))).toEqual([]);
    expect(kinds.filter((k) => k === 'sh').length).toBeGreaterThanOrEqual(3);
  });

  it('runs every command of the sh blocks', () => {
    for (const b of blocks.filter((x) => x.lang === 'sh')) {
      for (const line of b.code.split('\n')) {
        const command = line.replace(/\s+#.*$/, '').trim();
        if (!command) continue;
        const [bin, ...args] = command.split(/\s+/);
        expect(bin).toBe('qtdog');
        const res = qtdog(args, proj);
        expect(res.code, `${command}\n${res.stderr}`).toBe(0);
      }
    }
    expect(existsSync(join(proj, 'web/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
  });

  it('runs every ts block in Node', () => {
    const nodeBlocks = blocks.filter((b) => b.lang === 'ts' && !b.where);
    expect(nodeBlocks.length).toBeGreaterThanOrEqual(2);
    for (const [i, b] of nodeBlocks.entries()) {
      const file = join(proj, `snippet-${i}.mjs`);
      writeFileSync(file, toJs(b.code));
      const r = spawnSync(process.execPath, [file], { cwd: proj, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${b.code}\n${r.stderr}`).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });

  it('the json block lists the fields of a real manifest', () => {
    const json = blocks.find((b) => b.lang === 'json')!.code;
    const shown = [...json.matchAll(/^ "(\w+)":/gm)].map((m) => m[1]);
    const real = JSON.parse(readFileSync(join(proj, 'runs/rmnist-qtdog/export-best/manifest.json'), 'utf8'));
    expect(shown).toEqual(Object.keys(real));
  });

  it('runs every browser block in headless Chromium', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      console.warn(`skipped the browser snippets: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);
      ctx.skip();
    }
    // A site like the user's: the app's own files, the models under /models/rmnist/, the packages'
    // browser builds under /vendor/ with an import map for their names.
    const site = join(proj, 'site');
    cpSync(join(proj, 'web'), site, { recursive: true });
    const models = join(site, 'models/rmnist');
    mkdirSync(models, { recursive: true });
    for (const f of ['model.onnx', 'metadata.json']) copyFileSync(join(proj, 'web', f), join(models, f));
    cpSync(join(proj, 'runs/rmnist-qtdog/export-best-tfjs'), models, { recursive: true });
    const vendor = join(site, 'vendor');
    mkdirSync(join(vendor, 'quantizers'), { recursive: true });
    copyFileSync(join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js'), join(vendor, 'tf.fesm.min.js'));
    // @tensorflow/tfjs re-exports tfjs-core and tfjs-layers: one instance, one serialization registry.
    writeFileSync(join(vendor, 'tfjs-parts.mjs'), "export * from './tf.fesm.min.js';\n");
    const dist = join(ROOT, 'packages/quantizers/dist');
    for (const f of readdirSync(dist).filter((f) => f.endsWith('.js'))) copyFileSync(join(dist, f), join(vendor, 'quantizers', f));
    const imports = {
      'onnxruntime-web': '/ort/ort.wasm.min.mjs',
      '@tensorflow/tfjs': '/vendor/tf.fesm.min.js',
      '@tensorflow/tfjs-core': '/vendor/tfjs-parts.mjs',
      '@tensorflow/tfjs-layers': '/vendor/tfjs-parts.mjs',
      '@qtdog/quantizers/tfjs-layers': '/vendor/quantizers/tfjs-layers.js',
    };
    const browserBlocks = blocks.filter((b) => b.where === 'browser');
    expect(browserBlocks.length).toBeGreaterThanOrEqual(2);
    browserBlocks.forEach((b, i) => {
      writeFileSync(join(site, `snippet-${i}.mjs`), b.lang === 'ts' ? toJs(b.code) : b.code);
      writeFileSync(
        join(site, `snippet-${i}.html`),
        `<!doctype html><link rel="icon" href="data:,"><script type="importmap">${JSON.stringify({ imports })}</script>` +
          `<script type="module">import('./snippet-${i}.mjs').then(() => (window.done = 'ok'), (e) => (window.done = 'error: ' + (e?.stack ?? e)));</script>`,
      );
    });
    const server = await serveFolder(site);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      for (const [i, b] of browserBlocks.entries()) {
        const page = await browser.newPage();
        const logs: string[] = [];
        page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
        await page.goto(`${server.url}snippet-${i}.html`);
        await page.waitForFunction(() => (window as unknown as { done?: string }).done !== undefined, undefined, { timeout: 60_000 });
        const done = await page.evaluate(() => (window as unknown as { done: string }).done);
        expect(done, `${b.code}\n${logs.join('\n')}`).toBe('ok');
        expect(logs.filter((l) => l.startsWith('log:')).length).toBeGreaterThan(0);
        await page.close();
      }
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
