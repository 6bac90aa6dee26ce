// The screenshot in docs/export.md: the page of `qtdog export <rmnist run> --format web` in headless
// Chromium, four digits of RotatedMNIST's 30-degree environment chosen, and a drawn "1".
//   node tools/docs/web-page-screenshot.mjs <web-dir> [out.png]     (after npm run build)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { serveFolder } from '@qtdog/deploy';
import { createRotatedMnist } from '@qtdog/datasets';

const web = process.argv[2];
const out = process.argv[3] ?? 'docs/images/web-page-rmnist.png';
const digits = mkdtempSync(join(tmpdir(), 'qtdog-digits-'));
const ds = createRotatedMnist({ angles: [0, 15, 30, 45, 60, 75], seed: 0 });
const envs = await ds.load();
const b = await envs[2].read([0, 1, 2, 3], 'eval');
const files = [];
for (let i = 0; i < b.n; i++) {
  const px = Uint8Array.from(b.x.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
  const f = join(digits, `digit30-${i}-label${b.y[i]}.png`);
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(f);
  files.push(f);
}
const server = await serveFolder(web);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
await page.goto(server.url);
await page.waitForFunction(() => window.qtdog?.ready === true);
await page.setInputFiles('#files', files);
await page.waitForFunction((n) => document.getElementById('results').children.length === n, files.length);
// Draw a "1".
const box = await (await page.$('#pad')).boundingBox();
await page.mouse.move(box.x + 115, box.y + 35);
await page.mouse.down();
await page.mouse.move(box.x + 110, box.y + 190, { steps: 10 });
await page.mouse.up();
await page.click('#classify-drawing');
await page.waitForFunction((n) => document.getElementById('results').children.length === n, files.length + 1);
console.log(await page.$$eval('#results li', (l) => l.map((x) => x.textContent)), await page.textContent('#latency'));
await page.screenshot({ path: out });
await browser.close();
await server.close();
