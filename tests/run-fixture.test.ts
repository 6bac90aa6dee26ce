import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, runExperiment } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { fixtureConfig, tempDir } from './helpers';

describe('a run end to end (fixture plugin dataset, MNIST_CNN, ERM, wasm)', () => {
  it('writes results.jsonl, checkpoints and done, with flat tensor counts, reproducibly', async () => {
    const run = (out: string) => runExperiment(fixtureConfig('stripes-erm.yaml'), { modules: builtinModules(), outDir: out });
    const outA = tempDir();
    const a = await run(outA);
    expect(a.backend).toBe('wasm');
    const records = readResults(join(outA, 'results.jsonl'));
    expect(records.map((r) => r.step)).toEqual([0, 5, 10, 11]);
    for (const r of records) {
      for (const e of [0, 1, 2]) {
        expect(r[`env${e}_in_acc`]).toBeGreaterThanOrEqual(0);
        expect(r[`env${e}_out_acc`]).toBeLessThanOrEqual(1);
      }
      expect(r.backend).toBe('wasm');
      expect((r.config as { algorithm: { options: { lr: number } } }).algorithm.options.lr).toBe(0.003);
    }
    // No tensor leaks: the live tensor count is the same at every checkpoint.
    expect(new Set(records.map((r) => r.numTensors)).size).toBe(1);
    expect(existsSync(join(outA, 'done'))).toBe(true);
    expect(existsSync(join(outA, 'checkpoints/best/manifest.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(outA, 'checkpoints/last/manifest.json'), 'utf8')).meta.step).toBe(11);
    // Learning happened: the training loss went down from the first to the last checkpoint window.
    expect(records[3]!.loss as number).toBeLessThan(records[1]!.loss as number);

    // Same config and seed: the same numbers (wall times aside).
    const outB = tempDir();
    await run(outB);
    const strip = (r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => k.endsWith('_acc') || k.endsWith('_loss') || k === 'loss'));
    expect(readResults(join(outB, 'results.jsonl')).map(strip)).toEqual(records.map(strip));
  });

  it('runs an algorithm contributed by an external plugin file', async () => {
    const out = tempDir();
    const r = await runExperiment(fixtureConfig('stripes-smoothed.yaml'), { modules: builtinModules(), outDir: out });
    expect(r.records.map((x) => x.step)).toEqual([0, 5]);
    expect((r.last.config as { algorithm: { type: string; options: { smoothing: number } } }).algorithm).toMatchObject({
      type: 'SmoothedERM',
      options: { smoothing: 0.2 },
    });
  });

  it('refuses to overwrite a finished run without --overwrite', async () => {
    const out = tempDir();
    await runExperiment(fixtureConfig('stripes-smoothed.yaml'), { modules: builtinModules(), outDir: out });
    await expect(runExperiment(fixtureConfig('stripes-smoothed.yaml'), { modules: builtinModules(), outDir: out })).rejects.toThrow(
      /already holds a finished run/,
    );
  });
});
