import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, Rng } from '@qtdog/core';
import { CLI, fixtureConfig, qtdog, tempDir } from '../helpers';

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

/**
 * Launches the run and SIGKILLs it `delayMs` after `ready()` first holds (polled every 20 ms), so
 * kills land at chosen points of progress whatever the machine's speed.
 */
function runAndKill(cfg: string, out: string, ready: () => boolean, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run', cfg, '--out', out], { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (timer || !ready()) return;
      timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    }, 20);
    child.on('exit', () => {
      clearInterval(poll);
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
      // Kills spread over the run: one during start-up, then a random 0-400 ms after the 3rd, 6th and
      // 9th checkpoint lines (mid-step, mid-evaluation or mid-checkpoint-write); every launch resumes
      // from whatever the previous one left.
      const lineCount = () => readResults(join(out, 'results.jsonl')).length;
      const kills: Array<[() => boolean, number]> = [
        [() => true, Math.round(duration * 0.1 * rng.next())],
        ...[3, 6, 9].map((n): [() => boolean, number] => [() => lineCount() >= n, Math.round(400 * rng.next())]),
      ];
      for (const [ready, delay] of kills) {
        if (existsSync(join(out, 'done'))) break;
        const lines = readResults(join(out, 'results.jsonl'));
        if (lines.length > 0) resumedFrom.push(lines[lines.length - 1]!.step as number);
        await runAndKill(cfg, out, ready, delay);
      }
      const left = readResults(join(out, 'results.jsonl'));
      if (left.length > 0 && !existsSync(join(out, 'done'))) resumedFrom.push(left[left.length - 1]!.step as number);
      if (!existsSync(join(out, 'done'))) expect(qtdog(['run', cfg, '--out', out]).code).toBe(0);
      console.log(`workers ${workers}: clean run ${duration} ms; relaunched with checkpoints up to steps ${resumedFrom.join(', ')}`);
      // It really was interrupted mid-run and resumed more than once.
      expect(new Set(resumedFrom.filter((s) => s > 0 && s < 40)).size).toBeGreaterThanOrEqual(2);
      const resumed = readResults(join(out, 'results.jsonl'));
      expect(resumed.map(numbers)).toEqual(reference.map(numbers));
      // The last launch resumed: once restored, it holds no more tensors than the uninterrupted run
      // (the loaded checkpoint's copies are freed), in the main thread and in each worker.
      for (const k of ['numTensors', 'workerNumTensors']) expect(resumed.at(-1)![k], k).toBe(reference.at(-1)![k]);
    }, 240_000);
  }
});
