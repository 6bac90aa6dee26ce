// The native engine end to end, through the built CLI: `backend: onednn` trains on oneDNN, says so
// in its output and in results.jsonl, and gives the same results.jsonl again for the same config
// and threads; `backend: wasm` forces pure wasm; `auto` takes oneDNN where the addon loads, and a
// machine without it (QTDOG_ONEDNN=0) trains on wasm after one line saying why and how to enable it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readResults } from '@qtdog/core';
import { oneDnnAvailable } from '@qtdog/engine-onednn';
import { fixtureConfig, qtdog, tempDir } from '../helpers';

const available = oneDnnAvailable();

function config(backend: string, workers: number): string {
  const p = join(tempDir('qtdog-onednn-'), 'run.yaml');
  writeFileSync(
    p,
    [
      `plugins: [${fixtureConfig('../external-plugin/index.mjs')}]`,
      'dataset: { type: FixtureStripes, testEnvs: [2], size: 120 }',
      'network: { type: MNIST_CNN }',
      'algorithm: { type: ERM, lr: 0.003, batchSize: 16 }',
      `train: { steps: 21, checkpointFreq: 10, backend: ${backend}, evalBatchSize: 32, workers: ${workers} }`,
    ].join('\n'),
  );
  return p;
}

const numbers = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).filter(([k]) => k === 'step' || k === 'loss' || k.endsWith('_acc') || k.endsWith('_loss')));

function run(cfg: string, env: Record<string, string> = {}): { out: string; text: string; records: Record<string, unknown>[] } {
  const out = join(tempDir('qtdog-onednn-out-'), 'run');
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const r = qtdog(['run', cfg, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    return { out, text: r.stdout + r.stderr, records: readResults(join(out, 'results.jsonl')) };
  } finally {
    process.env = saved;
  }
}

describe.skipIf(!available.enabled)('training on the oneDNN kernels (qtdog run)', () => {
  for (const workers of [1, 2]) {
    it(`records the engine and repeats its results.jsonl exactly (workers: ${workers})`, () => {
      const cfg = config('onednn', workers);
      const a = run(cfg);
      const threads = Math.max(1, Math.floor(availableParallelism() / workers));
      const engine = `wasm + oneDNN ${(available as { version: string }).version} (${threads} thread${threads === 1 ? '' : 's'})`;
      expect(a.text).toContain(engine);
      expect(a.records.every((r) => r.engine === engine)).toBe(true);
      const b = run(cfg);
      expect(b.records.map(numbers)).toEqual(a.records.map(numbers));
    }, 240_000);
  }

  it('forces pure wasm with backend: wasm, and trains to comparable accuracy', () => {
    const native = run(config('onednn', 1));
    const wasm = run(config('wasm', 1));
    expect(wasm.records.at(-1)!.engine).toBe('wasm');
    // Same seeds, same data: the two engines differ only by float rounding.
    const acc = (r: Record<string, unknown>) => r.trainDomainValAcc as number;
    expect(Math.abs(acc(native.records.at(-1)!) - acc(wasm.records.at(-1)!))).toBeLessThan(0.05);
  }, 240_000);
});

describe('auto without the native kernels', () => {
  it('trains on wasm and says once, in one line, why oneDNN is off and how to enable it', () => {
    const r = run(config('auto', 1), { QTDOG_ONEDNN: '0' });
    const lines = r.text.split('\n').filter((l) => l.includes('oneDNN kernels off'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/QTDOG_ONEDNN=0 is set; to enable: `apt-get install libdnnl-dev g\+\+` \(Debian\/Ubuntu\) or `brew install onednn` \(macOS\)/);
    expect(r.records.at(-1)!.engine).toBe('wasm');
  }, 240_000);
});
