import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, Rng } from '@qtdog/core';
import { fixtureConfig, qtdog, ROOT, tempDir } from '../helpers';

function config(workers: number): string {
  const dir = tempDir('qtdog-kill-');
  const p = join(dir, 'run.yaml');
  writeFileSync(
    p,
    [
      `plugins: [${fixtureConfig('../external-plugin/index.mjs')}]`,
      'dataset: { type: FixtureStripes, testEnvs: [2], size: 120 }',
      'network: { type: MNIST_CNN }',
      'algorithm: { type: ERM, lr: 0.003, batchSize: 16 }',
      `train: { steps: 41, checkpointFreq: 4, backend: wasm, evalBatchSize: 32, workers: ${workers} }`,
    ].join('\n'),
  );
  return p;
}

/** Starts `qtdog run` and SIGKILLs it after `ms`; resolves when the process is gone. */
function runAndKill(cfg: string, out: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), 'run', cfg, '--out', out], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const numbers = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).filter(([k]) => k === 'step' || k === 'loss' || k.endsWith('_acc') || k.endsWith('_loss')));

describe('kill -9 at random moments, then resume', () => {
  for (const workers of [1, 2]) {
    it(`gives the same results.jsonl as an uninterrupted run (workers: ${workers})`, async () => {
      const cfg = config(workers);
      const clean = tempDir();
      const t0 = Date.now();
      expect(qtdog(['run', cfg, '--out', clean]).code).toBe(0);
      const duration = Date.now() - t0;
      const reference = readResults(join(clean, 'results.jsonl'));
      expect(reference.map((r) => r.step)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);

      const out = tempDir();
      const rng = new Rng(workers);
      const resumedFrom: number[] = [];
      // Kill times spread over the run (start-up, steps, evaluations, checkpoint writes); every launch
      // resumes from whatever the previous one left.
      for (let attempt = 0; attempt < 12 && !existsSync(join(out, 'done')); attempt++) {
        const lines = readResults(join(out, 'results.jsonl'));
        if (lines.length > 0) resumedFrom.push(lines[lines.length - 1]!.step as number);
        await runAndKill(cfg, out, Math.round(duration * (0.15 + 0.3 * rng.next())));
      }
      if (!existsSync(join(out, 'done'))) expect(qtdog(['run', cfg, '--out', out]).code).toBe(0);
      console.log(`workers ${workers}: clean run ${duration} ms; relaunched with checkpoints up to steps ${resumedFrom.join(', ')}`);
      // It really was interrupted mid-run and resumed more than once.
      expect(new Set(resumedFrom.filter((s) => s > 0 && s < 40)).size).toBeGreaterThanOrEqual(2);
      const resumed = readResults(join(out, 'results.jsonl'));
      expect(resumed.map(numbers)).toEqual(reference.map(numbers));
    }, 240_000);
  }
});
