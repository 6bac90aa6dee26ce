// Issue 27, item 7: the report's axis ticks carry a sensible precision, even when every run has
// the same accuracy (a one-value domain, whose only tick used to read 35.416667).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainingDomainValidation, writeReport, type SweepManifest } from '@qtdog/evaluation';
import { tempDir } from '../helpers';

/** Two finished jobs (float and 7-bit), three checkpoints 0..2, every accuracy 0.35416667. */
function flatSweep(): string {
  const dir = tempDir('qtdog-axes-');
  const jobs: SweepManifest['jobs'] = [];
  for (const bits of [32, 7]) {
    const id = `job${bits}`;
    jobs.push({ id, label: bits === 7 ? 'ERM+QT-DoG' : 'ERM', algorithm: 'ERM', quantizer: bits === 7 ? 'QT-DoG' : null, bits, dataset: 'Toy', testEnvs: [0], draw: 0, trialSeed: 0 });
    mkdirSync(join(dir, id));
    const lines = [0, 1, 2].map((step) => {
      const r: Record<string, unknown> = { step, config: { seed: 0, trialSeed: 0, dataset: { type: 'Toy', testEnvs: [0] } } };
      for (let e = 0; e < 2; e++) [r[`env${e}_in_acc`], r[`env${e}_out_acc`]] = [0.35416667, 0.35416667];
      if (step === 2) {
        r['flatness.radii'] = [0.5, 1];
        r['flatness.train'] = [0.0123456, 0.0123456];
        r['flatness.test'] = [0.0123456, 0.0123456];
        r['compression.packedBytes'] = 335392;
      }
      return JSON.stringify(r);
    });
    writeFileSync(join(dir, id, 'results.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, id, 'done'), 'done\n');
  }
  const manifest: SweepManifest = { format: 'qtdog-sweep/1', name: 'flat', file: 'flat.yaml', datasets: { Toy: { environments: ['a', 'b'] } }, jobs };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(manifest));
  return dir;
}

describe('report axis ticks', () => {
  it('print at most a few significant digits, and whole steps and bits', async () => {
    const dir = flatSweep();
    const r = await writeReport(dir, { methods: [trainingDomainValidation] });
    expect(r.plots.map((p) => p.name)).toEqual(['learning-curves-Toy-test-env-0', 'flatness-Toy', 'accuracy-vs-bits-Toy', 'accuracy-vs-size-Toy']);
    for (const p of r.plots) {
      const svg = readFileSync(join(r.outDir, p.svg), 'utf8');
      const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!).filter((t) => /^-?[\d.,]+$/.test(t));
      expect(labels.length, p.name).toBeGreaterThan(0);
      for (const t of labels) expect(t, `${p.name}: tick ${t}`).toMatch(/^-?\d{1,3}(,\d{3})*(\.\d{1,3})?$/);
      expect(labels, p.name).not.toContain('35.416667');
    }
    const curves = readFileSync(join(r.outDir, r.plots[0]!.svg), 'utf8');
    expect(curves).toContain('>35.4<');
    expect(curves).not.toMatch(/>\d+\.5</); // no half steps on the step axis
  });
});
