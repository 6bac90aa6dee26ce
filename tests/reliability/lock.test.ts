import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, fixtureConfig, qtdog, tempDir } from '../helpers';

function config(steps = 200, checkpointFreq = 50): string {
  const p = join(tempDir('qtdog-lock-'), 'run.yaml');
  writeFileSync(
    p,
    [
      `plugins: [${fixtureConfig('../external-plugin/index.mjs')}]`,
      'dataset: { type: FixtureStripes, testEnvs: [2], size: 120 }',
      'network: { type: MNIST_CNN }',
      'algorithm: { type: ERM, lr: 0.003, batchSize: 16 }',
      `train: { steps: ${steps}, checkpointFreq: ${checkpointFreq}, backend: wasm, evalBatchSize: 64, workers: 1 }`,
    ].join('\n'),
  );
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run folder lock', () => {
  it('keeps a second launch off a running run, and a stale lock (process gone) is taken over', async () => {
    const cfg = config();
    const out = tempDir();
    const first = spawn(process.execPath, [CLI, 'run', cfg, '--out', out], { stdio: 'ignore' });
    const lock = join(out, '.qtdog-lock');
    for (let i = 0; i < 200 && !existsSync(lock); i++) await sleep(100);
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(first.pid);
    const second = qtdog(['run', cfg, '--out', out]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(new RegExp(`is being trained by process ${first.pid} on `));
    const exited = new Promise((r) => first.on('exit', r));
    first.kill('SIGKILL');
    await exited;
    // The dead process's lock is still there; the next launch takes it over and finishes the run.
    expect(existsSync(lock)).toBe(true);
    const third = qtdog(['run', cfg, '--out', out]);
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/taking over a stale lock of process/);
    expect(existsSync(join(out, 'done'))).toBe(true);
    expect(existsSync(lock)).toBe(false);
  }, 300_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('a run stopped by %s removes its lock, dies of that signal, and the next launch resumes without a takeover', async (signal) => {
    const cfg = config(60, 20);
    const out = tempDir();
    const first = spawn(process.execPath, [CLI, 'run', cfg, '--out', out], { stdio: 'ignore' });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => first.on('exit', (code, sig) => r([code, sig])));
    const lock = join(out, '.qtdog-lock');
    // Wait until the run has written its first checkpoint line, so it is training when signalled.
    const results = join(out, 'results.jsonl');
    for (let i = 0; i < 600 && !(existsSync(results) && readFileSync(results, 'utf8').length > 0); i++) await sleep(100);
    expect(existsSync(lock)).toBe(true);
    first.kill(signal);
    const [code, sig] = await exited;
    expect(sig).toBe(signal);
    expect(code).toBeNull();
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(join(out, 'done'))).toBe(false);
    const second = qtdog(['run', cfg, '--out', out]);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/stale lock/);
    expect(existsSync(join(out, 'done'))).toBe(true);
  }, 300_000);
});
