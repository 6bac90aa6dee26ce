import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '@qtdog/core';
import { CLI, fixtureConfig, qtdog, tempDir } from '../helpers';

function config(): string {
  const p = join(tempDir('qtdog-swad-'), 'run.yaml');
  writeFileSync(
    p,
    [
      `plugins: [${fixtureConfig('../external-plugin/index.mjs')}]`,
      'dataset: { type: FixtureStripes, testEnvs: [2], size: 120 }',
      'network: { type: MNIST_CNN }',
      'algorithm: { type: ERM, lr: 0.003, batchSize: 16 }',
      'hooks: [{ type: SWAD, nConverge: 2, nTolerance: 2, toleranceRatio: 0.5, earlyStop: false }]',
      'train: { steps: 41, checkpointFreq: 4, backend: wasm, evalBatchSize: 64, workers: 1 }',
    ].join('\n'),
  );
  return p;
}

describe('SWAD resumes its weight average', () => {
  it('a run killed mid-way and resumed ends with the same SWAD model as an uninterrupted one', async () => {
    const cfg = config();
    const clean = tempDir();
    expect(qtdog(['run', cfg, '--out', clean]).code).toBe(0);
    const reference = JSON.parse(readFileSync(join(clean, 'final.json'), 'utf8')).SWAD;
    expect(reference.segments).toBeGreaterThan(0);

    const out = tempDir();
    // Run until a few checkpoints exist (the valley has started), then SIGKILL.
    const child = spawn(process.execPath, [CLI, 'run', cfg, '--out', out], { stdio: 'ignore' });
    for (let i = 0; i < 600; i++) {
      if (readResults(join(out, 'results.jsonl')).some((r) => (r.step as number) >= 20)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(out, 'done'))).toBe(false);
    const again = qtdog(['run', cfg, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resuming after step [1-9][0-9]/);
    const resumed = JSON.parse(readFileSync(join(out, 'final.json'), 'utf8')).SWAD;
    expect(resumed).toEqual(reference);
  }, 240_000);
});
