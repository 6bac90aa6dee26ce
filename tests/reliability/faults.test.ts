import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, runExperiment } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { fixtureConfig, tempDir } from '../helpers';

function config(algorithm: string, train = ''): string {
  const p = join(tempDir('qtdog-fault-'), 'run.yaml');
  writeFileSync(
    p,
    [
      `plugins: [${fixtureConfig('../external-plugin/index.mjs')}]`,
      'dataset: { type: FixtureStripes, testEnvs: [2], size: 40 }',
      'network: { type: MNIST_CNN }',
      `algorithm: { type: ${algorithm}, lr: 0.003, batchSize: 8 }`,
      `train: { steps: 12, checkpointFreq: 5, backend: wasm, evalBatchSize: 32, workers: 1${train} }`,
    ].join('\n'),
  );
  return p;
}

const run = (cfg: string, out: string, overwrite = false) => runExperiment(cfg, { modules: builtinModules(), outDir: out, overwrite });

describe('faults', () => {
  it('a NaN loss stops the run naming the step and the loss terms, keeping the last good checkpoint', async () => {
    const out = tempDir();
    await expect(run(config('NaNAtStep'), out)).rejects.toThrow(
      /step 7: NaNAtStep produced a non-finite loss \(loss=NaN, penalty=0\.5\); the run stopped\. The last good checkpoint is in .*checkpoints\/last/,
    );
    expect(JSON.parse(readFileSync(join(out, 'checkpoints/last/manifest.json'), 'utf8')).meta.step).toBe(5);
    expect(existsSync(join(out, 'done'))).toBe(false);
  });

  it('with onNonFinite: skip, the batch is skipped and counted', async () => {
    const out = tempDir();
    const r = await run(config('NaNAtStep', ', onNonFinite: skip'), out);
    expect(r.last.skippedSteps).toBe(1);
    expect(readResults(join(out, 'results.jsonl')).map((x) => x.skippedSteps)).toEqual([0, 0, 1, 1]);
  });

  it('refuses an unfinished run of a different config, and a finished run', async () => {
    const out = tempDir();
    await run(config('ERM'), out);
    await expect(run(config('ERM'), out)).rejects.toThrow(/already holds a finished run/);
    // An unfinished run (done removed) of another config.
    const other = config('SmoothedERM');
    rmSync(join(out, 'done'));
    await expect(run(other, out)).rejects.toThrow(/holds an unfinished run of a different config/);
  });

  it('reports an unwritable output folder before training', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path under a regular file instead, which nobody can create.
      const f = join(tempDir(), 'file');
      writeFileSync(f, 'x');
      await expect(run(config('ERM'), join(f, 'out'))).rejects.toThrow(/cannot write to output folder/);
      return;
    }
    const dir = join(tempDir(), 'ro');
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    await expect(run(config('ERM'), join(dir, 'out'))).rejects.toThrow(/cannot write to output folder/);
  });

  it('a corrupt latest checkpoint is reported and the previous one is used', async () => {
    const out = tempDir();
    const cfg = config('ERM');
    const full = await run(cfg, out);
    // Make it unfinished at its last checkpoint, then corrupt that checkpoint's state.
    rmSync(join(out, 'done'));
    const bin = join(out, 'checkpoints/state/weights.bin');
    const b = readFileSync(bin);
    b[100] = b[100]! ^ 0xff;
    writeFileSync(bin, b);
    const logs: string[] = [];
    const again = await runExperiment(cfg, { modules: builtinModules(), outDir: out, log: (m) => logs.push(m) });
    expect(logs.join('\n')).toMatch(/checkpoints\/state cannot be used: .*SHA-256 mismatch/);
    expect(again.resumedFrom).toBe(10);
    const strip = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => k.endsWith('_acc')));
    expect(again.records.map(strip)).toEqual(full.records.map(strip));
  });
});
