// The built `qtdog` command (build first: npx nx run-many -t build): QT-DoG with data-parallel
// workers, `qtdog export` in both formats, `qtdog ensemble --json`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '@qtdog/core';
import { qtdog, tempDir } from '../helpers';
import { fixtureRun, fixtureRunConfig } from './fixture-runs';

describe('qtdog run / export / ensemble with LSQ (built CLI)', () => {
  let parallel: string;
  let single: string;

  beforeAll(async () => {
    const spec = { quantizer: { type: 'LSQ', bits: 7, startStep: 2 }, steps: 6, checkpointFreq: 5 };
    parallel = join(tempDir(), 'run');
    const r = qtdog(['run', fixtureRunConfig({ ...spec, workers: 2 }), '--out', parallel]);
    expect(r.code, r.stderr).toBe(0);
    single = (await fixtureRun({ ...spec, workers: 1 })).outDir;
  });

  it('trains with 2 data-parallel workers: the quantizer switches in the workers too', () => {
    const [a, b] = [parallel, single].map((d) => readResults(join(d, 'results.jsonl')));
    expect(a!.map((x) => [x.step, x.quantized, x.workers])).toEqual([
      [0, false, 2],
      [5, true, 2],
    ]);
    // Equal to one-thread training up to float rounding, which the rounding to the grid amplifies a little.
    expect(a![0]!.loss).toBeCloseTo(b![0]!.loss as number, 5);
    expect(Math.abs((a![1]!.loss as number) / (b![1]!.loss as number) - 1)).toBeLessThan(0.02);
  });

  it('exports packed and as a tfjs layers model, printing the sizes', () => {
    const q = qtdog(['export', parallel, '--checkpoint', 'last']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/Exported the 'last' checkpoint \(step 5\)/);
    expect(q.stdout).toMatch(/ratio 4\.\d\dx/);
    expect(q.stdout).toContain('featurizer.conv4.weight (7 bits)');
    expect(existsSync(join(parallel, 'export-last/weights.bin'))).toBe(true);
    const t = qtdog(['export', parallel, '--checkpoint', 'last', '--format', 'tfjs']);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(parallel, 'export-last-tfjs/model.json'), 'utf8')).format).toBe('layers-model');
    const bad = qtdog(['export', parallel, '--checkpoint', 'first']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("qtdog: config error: --checkpoint must be 'best' or 'last', got 'first'");
    console.log(q.stdout);
  });

  it('ensembles the two runs, as JSON', () => {
    const e = qtdog(['ensemble', parallel, single, '--checkpoint', 'last', '--json']);
    expect(e.code, e.stderr).toBe(0);
    const report = JSON.parse(e.stdout);
    expect(report.members).toHaveLength(2);
    expect(report.ensemble.accuracy[0]).toMatchObject({ env: 2, test: true, n: 60 });
    const table = qtdog(['ensemble', parallel, single, '--checkpoint', 'last']);
    expect(table.stdout).toContain('ensemble of 2');
    console.log(table.stdout);
  });
});
