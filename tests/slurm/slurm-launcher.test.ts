// The slurm launcher against a real single-node Slurm started here (tests/slurm/slurm-cluster.ts):
// a sweep submitted as a job array finishes every job; a task cancelled on purpose shows as failed
// in `qtdog sweep status` with its logs, and the re-launch submits that job alone; a task cancelled
// mid-run resumes from its own last checkpoint.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSubmissions } from '@qtdog/evaluation';
import { qtdogAsync as qtdog, ROOT, tempDir } from '../helpers';
import { slurmUnavailable, startSlurm, type SlurmCluster } from './slurm-cluster';

const unavailable = slurmUnavailable();
if (unavailable) console.warn(`SKIPPED the Slurm integration tests: ${unavailable}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sweep of `n` trials of ERM on the fixture's stripes, `steps` steps each. */
function sweepFile(dir: string, trials: number, steps: number): string {
  const file = join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    [
      'name: slurm-stripes',
      'base:',
      `  plugins: [${join(ROOT, 'tests/fixtures/external-plugin/index.mjs')}]`,
      '  dataset: { type: FixtureStripes, size: 40 }',
      '  network: { type: MNIST_CNN }',
      '  algorithm: { lr: 0.003, batchSize: 8 }',
      `  train: { steps: ${steps}, checkpointFreq: 2, backend: wasm, evalBatchSize: 32 }`,
      'algorithms: [ERM]',
      'testEnvs: [[2]]',
      `trials: ${trials}`,
      'launcher: { type: slurm, cpusPerTask: 1, pollSeconds: 1 }',
      '',
    ].join('\n'),
  );
  return file;
}

function squeueCount(): number {
  const r = spawnSync('squeue', ['-h', '-r'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim()).length;
}

async function until(what: string, ok: () => boolean, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 2; i++) {
    if (ok()) return;
    await sleep(500);
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

describe.skipIf(unavailable !== undefined)('slurm launcher on a real Slurm', () => {
  let cluster: SlurmCluster;
  beforeAll(async () => {
    cluster = await startSlurm();
    process.env.SLURM_CONF = cluster.conf;
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    delete process.env.SLURM_CONF;
  });

  it('runs a sweep as a job array, reports a cancelled task as failed, and re-launches only that job', async () => {
    const dir = tempDir('qtdog-slurm-sweep-');
    const file = sweepFile(dir, 3, 4);
    const out = join(dir, 'out');
    // Throttled to one task at a time, so the last task is still pending when it is cancelled.
    const submit = await qtdog(['sweep', file, '--out', out, '--launcher-option', 'throttle=1']);
    expect(submit.code, submit.stderr).toBe(0);
    expect(submit.stderr).toMatch(/submitted Slurm array job (\d+) \(3 tasks, at most 1 at once\)/);
    expect(submit.stdout).toMatch(/3 jobs submitted to the slurm launcher/);
    const [first] = readSubmissions(out);
    expect(first!.tasks).toHaveLength(3);
    const script = readFileSync(first!.script, 'utf8');
    expect(script).toMatch(/#SBATCH --array=0-2%1/);
    expect(script).toMatch(/#SBATCH --requeue/);

    const cancelled = first!.tasks[2]!;
    expect(spawnSync('scancel', [`${first!.arrayId}_2`]).status).toBe(0);
    await until('the other two tasks to end', () => squeueCount() === 0 || first!.tasks.slice(0, 2).every((t) => existsSync(join(out, t.id, 'done'))), 240);
    await until('the queue to drain', () => spawnSync('squeue', ['-h', '-r', '-t', 'PD,R,CG'], { encoding: 'utf8' }).stdout.trim() === '', 120);

    const status = await qtdog(['sweep', 'status', out]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/3 jobs: 2 done, 0 running, 0 pending, 1 failed/);
    // A task cancelled while pending leaves no record in the controller (and this cluster keeps no
    // accounting), so the status says so rather than naming a state.
    const row = status.stdout.split('\n').find((l) => l.includes(cancelled.id))!;
    expect(row).toMatch(/failed/);
    expect(row).toContain(`Slurm task ${first!.arrayId}_2`);
    expect(status.stdout).toContain(`${cancelled.id}: ${join(out, cancelled.id, 'log.txt')} (Slurm: ${cancelled.slurmLog})`);
    const finished = first!.tasks.slice(0, 2).map((t) => statSync(join(out, t.id, 'results.jsonl')).mtimeMs);

    const again = await qtdog(['sweep', file, '--out', out, '--wait']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/3 jobs, 2 already done \(skipped\), 1 to run/);
    const subs = readSubmissions(out);
    expect(subs).toHaveLength(2);
    expect(subs[1]!.tasks.map((t) => t.id)).toEqual([cancelled.id]);
    expect(again.stdout).toMatch(/1 finished now, 2 already done before, 0 failed/);
    for (const t of first!.tasks) {
      expect(existsSync(join(out, t.id, 'done'))).toBe(true);
      const lines = readFileSync(join(out, t.id, 'results.jsonl'), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(2);
    }
    // The finished jobs were not run again.
    expect(first!.tasks.slice(0, 2).map((t) => statSync(join(out, t.id, 'results.jsonl')).mtimeMs)).toEqual(finished);
    expect((await qtdog(['sweep', 'status', out])).stdout).toMatch(/3 jobs: 3 done, 0 running, 0 pending, 0 failed/);
  }, 600_000);

  it('resumes a task cancelled mid-run from its last checkpoint', async () => {
    const dir = tempDir('qtdog-slurm-resume-');
    const file = sweepFile(dir, 1, 400);
    const out = join(dir, 'out');
    expect((await qtdog(['sweep', file, '--out', out])).code).toBe(0);
    const [sub] = readSubmissions(out);
    const job = join(out, sub!.tasks[0]!.id);
    // Cancel once the run has written two checkpoints' results.
    await until('two checkpoints', () => existsSync(join(job, 'results.jsonl')) && readFileSync(join(job, 'results.jsonl'), 'utf8').trim().split('\n').length >= 2, 240);
    expect(spawnSync('scancel', [`${sub!.arrayId}_0`]).status).toBe(0);
    await until('the task to end', () => spawnSync('squeue', ['-h', '-r', '-t', 'PD,R,CG'], { encoding: 'utf8' }).stdout.trim() === '', 60);
    expect(existsSync(join(job, 'done'))).toBe(false);

    const again = await qtdog(['sweep', file, '--out', out, '--wait']);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(job, 'done'))).toBe(true);
    const log = readFileSync(join(job, 'log.txt'), 'utf8');
    // Both attempts are in the appended log; the second picked the run up where the first stopped.
    expect(log.match(/== task \d+_0 on /g)).toHaveLength(2);
    expect(log).toMatch(/resuming after step \d+ \(\d+ checkpoint\(s\) kept\)/);
    const steps = readFileSync(join(job, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.at(-1)).toBe(399);
  }, 600_000);
});
