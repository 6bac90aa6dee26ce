import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { leaveOneDomainOut, testDomainOracle, trainingDomainValidation, writeReport, type SweepManifest } from '@qtdog/evaluation';
import { tempDir } from '../helpers';

const CHROMIUM = '/usr/bin/chromium';

/**
 * A sweep folder written by hand: 2 rows (ERM, ERM+QT-DoG) x test envs 0 and 1 x 2 trials, plus one
 * job that never ran, with flatness and compression numbers in the last records.
 */
function syntheticSweep(): string {
  const dir = tempDir('qtdog-report-');
  const jobs: SweepManifest['jobs'] = [];
  let n = 0;
  for (const [label, bits] of [['ERM', 32], ['ERM+QT-DoG', 7]] as const) {
    for (const testEnv of [0, 1]) {
      for (const trialSeed of [0, 1]) {
        const id = `job${n++}`;
        jobs.push({ id, label, algorithm: 'ERM', quantizer: bits === 7 ? 'QT-DoG' : null, bits, dataset: 'Toy', testEnvs: [testEnv], draw: 0, trialSeed });
        mkdirSync(join(dir, id));
        const lines = [0, 50, 100].map((step) => {
          const r: Record<string, unknown> = { step, config: { seed: 0, trialSeed, dataset: { type: 'Toy', testEnvs: [testEnv] } } };
          for (let e = 0; e < 3; e++) {
            r[`env${e}_in_acc`] = 0.5 + step / 400 + (bits === 7 ? 0.05 : 0) + trialSeed * 0.01 - e * 0.02;
            r[`env${e}_out_acc`] = 0.5 + step / 450 - e * 0.01;
          }
          if (step === 100) {
            r['flatness.radii'] = [0.5, 1, 2];
            r['flatness.train'] = bits === 7 ? [0.01, 0.03, 0.1] : [0.02, 0.07, 0.3];
            r['flatness.test'] = bits === 7 ? [0.02, 0.05, 0.2] : [0.04, 0.1, 0.5];
            r['compression.packedBytes'] = bits === 7 ? 335392 : 1487400;
          }
          return JSON.stringify(r);
        });
        writeFileSync(join(dir, id, 'results.jsonl'), lines.join('\n') + '\n');
        writeFileSync(join(dir, id, 'done'), 'done\n');
      }
    }
  }
  jobs.push({ id: 'never-ran', label: 'ERM', algorithm: 'ERM', quantizer: null, bits: 32, dataset: 'Toy', testEnvs: [0], draw: 0, trialSeed: 2 });
  const manifest: SweepManifest = { format: 'qtdog-sweep/1', name: 'toy', file: 'toy.yaml', datasets: { Toy: { environments: ['red', 'green', 'blue'] } }, jobs };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(manifest));
  return dir;
}

describe('the HTML report', () => {
  it('is one self-contained page whose tables and images render in headless Chromium', async (ctx) => {
    const dir = syntheticSweep();
    const r = await writeReport(dir, { html: true, methods: [trainingDomainValidation, leaveOneDomainOut, testDomainOracle] });
    expect(r.plots.map((p) => p.name)).toEqual([
      'learning-curves-Toy-test-env-0',
      'learning-curves-Toy-test-env-1',
      'flatness-Toy',
      'accuracy-vs-bits-Toy',
      'accuracy-vs-size-Toy',
    ]);
    const erm = r.tables[0]!.rows.find((x) => x.label === 'ERM')!;
    // Env 0: 2 of the 3 trials the sweep asked for (one job never ran); env 1: 2 of 2.
    expect(erm.cells.map((c) => [c.n, c.expected])).toEqual([[2, 3], [2, 2]]);
    const page = join(r.outDir, 'report.html');
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/(src|href)="(?!data:)/); // nothing loaded from outside the page

    if (!existsSync(CHROMIUM)) {
      console.warn(`skipped the browser check: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);
      ctx.skip();
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(String(e)));
      await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
      const tables = await tab.$$eval('table', (ts) => ts.map((t) => ({ rows: t.querySelectorAll('tbody tr').length, head: t.querySelector('thead')!.textContent })));
      // Three selection methods, then the flatness table (2 rows x training and test domains).
      expect(tables.length).toBe(4);
      const flat = tables.pop()!;
      expect(flat.rows).toBe(4);
      expect(flat.head).toContain('F(2)');
      for (const t of tables) {
        expect(t.rows).toBe(2);
        expect(t.head).toContain('red');
        expect(t.head).toContain('Avg');
      }
      const images = await tab.$$eval('img', (imgs) => imgs.map((i) => ({ complete: i.complete, w: i.naturalWidth, h: i.naturalHeight })));
      expect(images.length).toBe(5);
      for (const im of images) {
        expect(im.complete).toBe(true);
        expect(im.w).toBeGreaterThan(0);
        expect(im.h).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
      const shot = join(tempDir('qtdog-report-shot-'), 'report.png');
      await tab.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      console.log(`report screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  });
});
