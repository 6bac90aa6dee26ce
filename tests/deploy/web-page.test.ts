// qtdog export --format web in a real browser (Debian's Chromium, driven by playwright-core): the
// page, served by the same server as `qtdog serve`, classifies N chosen PNG files exactly as ONNX
// Runtime does in Node, requests nothing outside its folder, and is cross-origin isolated.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { QtdogModel, serveFolder } from '@qtdog/deploy';
import { ROOT, qtdog, tempDir } from '../helpers';
import { fixtureRunConfig } from '../quantization/fixture-runs';

const CHROMIUM = '/usr/bin/chromium';
const N = 12;

describe('the web page of qtdog export --format web (headless Chromium)', () => {
  const dir = tempDir();
  const web = join(dir, 'web');
  const images: string[] = [];

  beforeAll(async () => {
    const run = join(dir, 'run');
    const r = qtdog(['run', fixtureRunConfig({ quantizer: { type: 'LSQ', bits: 7, startStep: 2 }, steps: 6, checkpointFreq: 5 }), '--out', run]);
    expect(r.code, r.stderr).toBe(0);
    const e = qtdog(['export', run, '--format', 'web', '--checkpoint', 'last', '--out', web]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('ort/ort-wasm-simd-threaded.wasm');
    // N test images as PNG files at the model's size: varied stripes and noise.
    mkdirSync(join(dir, 'images'));
    for (let i = 0; i < N; i++) {
      const px = Uint8Array.from({ length: 64 }, (_, k) => (i % 2 ? (k % 8) * 36 : (k >> 3) * 36) ^ ((i * 37 + k * 11) & 31));
      const f = join(dir, 'images', `test${i}.png`);
      await sharp(px, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(f);
      images.push(f);
    }
  });

  it('classifies N images as onnxruntime-node does, offline, with threads, and shows the latency', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      console.warn(`skipped the browser test: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);
      ctx.skip();
    }
    const model = await QtdogModel.load(join(web, 'model.onnx'));
    const expected = await model.predict(images);
    const inputs = await Promise.all(images.map((f) => model.input(f)));
    const nodeLogits = Array.from(await model.logits(Float32Array.from(inputs.flatMap((x) => Array.from(x))), N));
    await model.release();

    const server = await serveFolder(web);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(server.url);
      await page.waitForFunction(() => (window as unknown as { qtdog?: { ready: boolean } }).qtdog?.ready === true, undefined, { timeout: 60_000 });
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);

      // The file chooser path, as a user would: N files at once.
      await page.setInputFiles('#files', images);
      await page.waitForFunction((n) => document.getElementById('results')!.children.length === n, N, { timeout: 60_000 });
      const shown = await page.$$eval('#results li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.classIndex)));
      expect(shown).toEqual(expected.map((p) => p.classIndex));
      // The same inputs straight into the page's session: logits equal Node's.
      const browserLogits = await page.evaluate(
        async ({ x, n }) => (await (window as unknown as { qtdog: { logits(x: Float32Array, n: number): Promise<{ logits: number[] }> } }).qtdog.logits(Float32Array.from(x), n)).logits,
        { x: inputs.flatMap((v) => Array.from(v)), n: N },
      );
      expect(Math.max(...browserLogits.map((v, i) => Math.abs(v - nodeLogits[i]!)))).toBeLessThanOrEqual(1e-5);

      // The drawing pad classifies too, and the latency shows.
      const pad = (await page.$('#pad'))!.boundingBox();
      const box = (await pad)!;
      await page.mouse.move(box.x + 40, box.y + 40);
      await page.mouse.down();
      await page.mouse.move(box.x + 180, box.y + 180, { steps: 8 });
      await page.mouse.up();
      await page.click('#classify-drawing');
      await page.waitForFunction(() => document.getElementById('results')!.children.length === 13);
      expect(await page.textContent('#latency')).toMatch(/^\d+\.\d ms in ONNX Runtime Web \(\d+ threads?\)$/);
      console.log(await page.textContent('#latency'));
      // The docs' screenshot is refreshed on request only, so a test run leaves the checkout clean.
      const shot = process.env.QTDOG_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/images/web-page.png') : join(tempDir(), 'web-page.png');
      await page.screenshot({ path: shot });
      expect(existsSync(shot)).toBe(true);

      expect(errors).toEqual([]);
      const outside = requests.filter((u) => !u.startsWith(server.url));
      expect(outside).toEqual([]);
      expect(requests.some((u) => u.endsWith('/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
