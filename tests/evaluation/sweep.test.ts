import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPluginContainer, definePlugin, loadConfigFile, pluginModule, readResults, resolveRunConfig, type ResolvedRunConfig } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { runSweep } from '../../packages/cli/src/sweep/run-sweep';
import { jobId, toRunConfigDoc } from '../../packages/cli/src/sweep/expand';
import { SweepTally } from '../../packages/cli/src/sweep/sweep-progress';
import { CLI, ROOT, qtdog, runAsync, tempDir } from '../helpers';

const fixture = (name: string) => join(ROOT, 'tests/evaluation/fixtures', name);
const dryRun = (file: string, out = tempDir()) => runSweep(file, { modules: builtinModules(), out, dryRun: true });

/** Writes a sweep file over the external test plugin's FixtureStripes: `base` lines go under `base:`. */
function writeStripesSweep(file: string, base: string[], sweep: string[]): void {
  const plugin = join(ROOT, 'tests/fixtures/external-plugin/index.mjs');
  writeFileSync(file, ['base:', `  plugins: [${plugin}]`, ...base.map((l) => `  ${l}`), ...sweep].join('\n') + '\n');
}

describe('sweep expansion', () => {
  it('is the cross product, named by config hashes that ignore the worker count', async () => {
    const r = await dryRun(fixture('stripes-sweep.yaml'));
    expect(r.jobs.map((j) => [j.label, j.trialSeed, j.draw, j.status])).toEqual([
      ['ERM', 0, 0, 'pending'],
      ['ERM', 1, 0, 'pending'],
      ['ERM+QT-DoG', 0, 0, 'pending'],
      ['ERM+QT-DoG', 1, 0, 'pending'],
    ]);
    const ids = r.jobs.map((j) => j.id);
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
    // Same sweep, same names; the worker count is not part of a job's identity.
    expect((await dryRun(fixture('stripes-sweep.yaml'))).jobs.map((j) => j.id)).toEqual(ids);
    const j = r.jobs[2]!;
    const specs = ['../../fixtures/external-plugin/index.mjs'];
    expect(jobId({ ...j.config, train: { ...j.config.train, workers: 1 } }, specs)).toBe(j.id);
    expect(jobId({ ...j.config, trialSeed: 7 }, specs)).not.toBe(j.id);
    // The written config is complete: every option explicit, quantizer and evaluators included.
    expect(j.config).toMatchObject({
      seed: 0,
      trialSeed: 0,
      dataset: { type: 'FixtureStripes', size: 40, testEnvs: [2], holdoutFraction: 0.2 },
      algorithm: { type: 'ERM', lr: 0.003, batchSize: 8, weightDecay: 0 },
      quantizer: { type: 'LSQ', bits: 7, perChannel: true, startStep: 2 },
      evaluators: [{ type: 'flatness', radii: [0.5, 2], samples: 2, when: 'end' }, { type: 'compression', when: 'end' }],
    });
    expect(r.jobs[0]!.config.quantizer).toBeUndefined();
  });

  it('draw 0 keeps the defaults; later draws search the unpinned hyperparameters, per trial', async () => {
    const dir = tempDir();
    const file = join(dir, 'draws.yaml');
    writeStripesSweep(
      file,
      ['dataset: { type: FixtureStripes }', 'network: { type: MNIST_CNN }', 'algorithm: { batchSize: 8 }', 'train: { steps: 2 }'],
      ['algorithms: [ERM]', 'testEnvs: [[2]]', 'hparams: { draws: 3, seed: 5 }', 'trials: [0, 1]'],
    );
    const { jobs } = await dryRun(file);
    expect(jobs.length).toBe(6);
    const alg = (trial: number, draw: number) => jobs.find((j) => j.trialSeed === trial && j.draw === draw)!.config.algorithm as Record<string, number>;
    expect(alg(0, 0)).toEqual({ type: 'ERM', lr: 1e-3, batchSize: 8, weightDecay: 0 });
    expect(alg(1, 0)).toEqual(alg(0, 0));
    for (const [t, d] of [[0, 1], [0, 2], [1, 1], [1, 2]] as const) {
      expect(alg(t, d).batchSize).toBe(8); // pinned in the base
      expect(alg(t, d).lr).toBeGreaterThanOrEqual(10 ** -4.5);
      expect(alg(t, d).lr).toBeLessThanOrEqual(10 ** -2.5);
      expect(alg(t, d).weightDecay).toBeGreaterThan(0);
    }
    expect(alg(0, 1).lr).not.toBe(alg(0, 2).lr);
    expect(alg(0, 1).lr).not.toBe(alg(1, 1).lr);
    // Seeded: the same sweep draws the same values.
    expect((await dryRun(file)).jobs.map((j) => j.config.algorithm)).toEqual(jobs.map((j) => j.config.algorithm));
  });

  it('names the job and the key when a combination is invalid', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    const base = ['dataset: { type: FixtureStripes }', 'network: { type: MNIST_CNN }', 'train: { steps: 2 }'];
    writeStripesSweep(file, base, ['algorithms: [ERM, { type: ERM, lr: -1 }]', 'testEnvs: [[2]]']);
    await expect(dryRun(file)).rejects.toThrow(/bad\.yaml \(job ERM, FixtureStripes, test envs \[2\], trial 0, draw 0\): algorithm\.lr/);
    writeStripesSweep(file, base, ['algorithms: [ERM]', 'testEnvs: [[2], [3]]']);
    await expect(dryRun(file)).rejects.toThrow(/bad\.yaml \(job ERM, FixtureStripes, test envs \[3\], trial 0, draw 0\): dataset\.testEnvs\[0\]: 3 is out of range/);
  });
});

describe('sweep progress', () => {
  it('counts jobs and estimates the time left from the finished ones, spread over the slots', () => {
    const t = new SweepTally(5, 2);
    const job = (id: string) => ({ id, label: id, command: '', args: [], logFile: `${id}.log`, doneFile: '' });
    expect(t.line(0)).toBe('jobs 0/5: 0 done, 0 running, 0 failed, time left ?');
    t.start('a', 0);
    t.start('b', 0);
    t.finish({ job: job('a'), ok: true, exitCode: 0, signal: null, seconds: 10 });
    t.finish({ job: job('b'), ok: false, exitCode: 1, signal: null, seconds: 10 });
    t.start('c', 6000);
    // 2 pending jobs of 10 s, plus 6 s left of the running one, on 2 slots: 13 s.
    expect(t.etaSec(10_000)).toBe(13);
    expect(t.line(10_000)).toBe('jobs 2/5: 1 done, 1 running, 1 failed, time left 13s');
  });

  it('counts a job stopped by a signal apart from failures and keeps its short run out of the estimate', () => {
    const t = new SweepTally(4, 2);
    const job = (id: string) => ({ id, label: id, command: '', args: [], logFile: `${id}.log`, doneFile: '' });
    t.start('a', 0);
    t.start('b', 0);
    t.finish({ job: job('a'), ok: true, exitCode: 0, signal: null, seconds: 20 });
    t.finish({ job: job('b'), ok: false, exitCode: null, signal: 'SIGINT', seconds: 2, interrupted: true });
    // Mean of finished work is 20 s (not 11 s); 2 jobs pending on 2 slots: 20 s.
    expect(t.etaSec(20_000)).toBe(20);
    expect(t.line(20_000)).toBe('jobs 2/4: 1 done, 0 running, 0 failed, 1 stopped, time left 20s');
  });
});

describe('qtdog sweep and qtdog report (built CLI, tiny FixtureStripes jobs)', () => {
  it('runs every job in parallel processes, skips finished jobs on re-launch, and reports them', () => {
    const out = tempDir();
    const first = qtdog(['sweep', fixture('stripes-sweep.yaml'), '--jobs', '2', '--out', out]);
    expect(first.stderr).toMatch(/4 jobs, 0 already done \(skipped\), 4 to run, 2 at a time/);
    expect(first.stderr).toMatch(/jobs 4\/4: 4 done, 0 running, 0 failed/);
    expect(first.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    expect(manifest.datasets).toEqual({ FixtureStripes: { environments: ['clean', 'noisy', 'noisier'] } });
    for (const job of manifest.jobs as Array<{ id: string }>) {
      expect(existsSync(join(out, job.id, 'done'))).toBe(true);
      // Several jobs at once: one worker thread each.
      expect(loadConfigFile(join(out, job.id, 'config.yaml')).config.train.workers).toBe(1);
      // The config the run resolved from config.yaml hashes back to the job's folder name.
      const ran = JSON.parse(readFileSync(join(out, job.id, 'config.json'), 'utf8')) as ResolvedRunConfig;
      expect(jobId(toRunConfigDoc(ran, ran.plugins), ['../../fixtures/external-plugin/index.mjs'])).toBe(job.id);
      const last = readResults(join(out, job.id, 'results.jsonl')).at(-1)!;
      expect(last['flatness.radii']).toEqual([0.5, 2]);
      expect(typeof last['compression.ratio']).toBe('number');
    }

    // Re-launch: nothing left to do.
    const again = qtdog(['sweep', fixture('stripes-sweep.yaml'), '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/4 already done \(skipped\), 0 to run/);
    expect(qtdog(['sweep', fixture('stripes-sweep.yaml'), '--out', out, '--dry-run']).stdout).toMatch(/4 jobs \(4 done, 0 to run/);

    const rep = qtdog(['report', out, '--html']);
    expect(rep.code).toBe(0);
    const md = readFileSync(join(out, 'report/results.md'), 'utf8');
    expect(md).toMatch(/## Model selection: training-domain validation set/);
    expect(md).toMatch(/\| Algorithm \| noisier \| Avg \|/);
    expect(md).toMatch(/\| ERM \| \d+\.\d ± \d+\.\d \| \d+\.\d \|/);
    expect(md).toMatch(/\| ERM\+QT-DoG \| \d+\.\d ± \d+\.\d \| \d+\.\d \|/);
    expect(md).toMatch(/\| ERM \| X \(0\/2\) \| X \|/); // leave-one-out: no two-test-env runs
    expect(readFileSync(join(out, 'report/results.tex'), 'utf8')).toMatch(/\\begin\{tabular\}\{lcc\}/);
    const json = JSON.parse(readFileSync(join(out, 'report/results.json'), 'utf8'));
    expect(json.tables.map((t: { selection: string }) => t.selection)).toEqual(['training-domain', 'leave-one-out', 'oracle']);
    const plots = readdirSync(join(out, 'report/plots')).sort();
    for (const stem of ['accuracy-vs-bits-FixtureStripes', 'accuracy-vs-size-FixtureStripes', 'flatness-FixtureStripes', 'learning-curves-FixtureStripes-test-env-2']) {
      expect(plots).toContain(`${stem}.svg`);
      expect(readFileSync(join(out, 'report/plots', `${stem}.png`)).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
    expect(existsSync(join(out, 'report/report.html'))).toBe(true);
    // Flatness at the end: a table with both sides of both rows, directions and spread.
    expect(md).toMatch(/## Flatness/);
    expect(md).toMatch(/\| ERM\+QT-DoG \| test \| 2 \| 2 \| \d\.\d{3} \| -?[\d.e-]+ ± [\d.e-]+ \/ [\d.e-]+ \|/);
    expect(md).not.toMatch(/## Ensembles/);

    // EoQ / EoA-style: each setting's two trials ensembled from their checkpoints into ensembles.json,
    // agreeing with `qtdog ensemble` on the same runs, and kept by a snapshot without checkpoints.
    const ens = qtdog(['report', out, '--ensembles', '--no-plots']);
    expect(ens.code).toBe(0);
    const file = JSON.parse(readFileSync(join(out, 'ensembles.json'), 'utf8'));
    expect(file.groups.map((g: { label: string }) => g.label).sort()).toEqual(['ERM', 'ERM+QT-DoG']);
    const qt = file.groups.find((g: { label: string }) => g.label === 'ERM+QT-DoG');
    expect(qt.members.map((m: { trialSeed: number }) => m.trialSeed)).toEqual([0, 1]);
    const dirs = qt.members.map((m: { id: string }) => join(out, m.id));
    const single = JSON.parse(qtdog(['ensemble', ...dirs, '--json']).stdout);
    expect(qt.ensemble.testAcc).toEqual([single.ensemble.accuracy.find((a: { env: number }) => a.env === 2).acc]);
    expect(qt.members.map((m: { testAcc: number[] }) => m.testAcc[0])).toEqual(single.members.map((m: { accuracy: Array<{ env: number; acc: number }> }) => m.accuracy.find((a) => a.env === 2)!.acc));
    const ensMd = readFileSync(join(out, 'report/results.md'), 'utf8');
    const pct = (v: number) => (100 * v).toFixed(1);
    expect(ensMd).toContain(`| ERM+QT-DoG | 2 (noisier) | 2 | ${pct((qt.members[0].testAcc[0] + qt.members[1].testAcc[0]) / 2)} ± `);
    expect(ensMd).toMatch(new RegExp(`\\| ${pct(qt.ensemble.testAcc[0])} \\| [+-]\\d+\\.\\d \\| \\d+ KiB \\| \\d\\.\\d\\dx \\|`));
    const snap = tempDir();
    execFileSync('bash', [join(ROOT, 'tools/results/snapshot-sweep.sh'), out, snap]);
    expect(qtdog(['report', snap, '--no-plots', '--out', join(snap, 'report')]).code).toBe(0);
    expect(readFileSync(join(snap, 'report/results.md'), 'utf8')).toContain('## Ensembles of the trials');
    // With the best checkpoints kept, the snapshot alone can be ensembled again, to the same numbers.
    const snapBest = tempDir();
    execFileSync('bash', [join(ROOT, 'tools/results/snapshot-sweep.sh'), out, snapBest, '--with-best']);
    expect(existsSync(join(snapBest, qt.members[0].id, 'checkpoints/best/weights.bin'))).toBe(true);
    expect(existsSync(join(snapBest, qt.members[0].id, 'checkpoints/last'))).toBe(false);
    rmSync(join(snapBest, 'ensembles.json'));
    expect(qtdog(['report', snapBest, '--ensembles', '--no-plots']).code).toBe(0);
    expect(JSON.parse(readFileSync(join(snapBest, 'ensembles.json'), 'utf8')).groups).toEqual(file.groups);
  });

  it('goes on past a failed job, shows its log, fails at the end, and retries only it on re-launch', () => {
    const out = tempDir();
    const r = qtdog(['sweep', fixture('stripes-crash-sweep.yaml'), '--jobs', '2', '--out', out]);
    expect(r.code).toBe(1);
    const manifest = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { jobs: Array<{ id: string; label: string }> };
    const crash = manifest.jobs.find((j) => j.label === 'CrashAtStep')!;
    const erm = manifest.jobs.find((j) => j.label === 'ERM')!;
    const log = join(out, crash.id, 'log.txt');
    expect(r.stderr).toContain(`job ${crash.id} (CrashAtStep FixtureStripes test [2] trial 0 draw 0) FAILED (exit code 1)`);
    expect(r.stderr).toContain(`log: ${log}`);
    expect(r.stderr).toMatch(/1 of 2 jobs failed; their logs:/);
    expect(readFileSync(log, 'utf8')).toMatch(/crashing at step 1 on purpose/);
    expect(existsSync(join(out, erm.id, 'done'))).toBe(true);

    const again = qtdog(['sweep', fixture('stripes-crash-sweep.yaml'), '--out', out]);
    expect(again.stderr).toMatch(/2 jobs, 1 already done \(skipped\), 1 to run/);
    expect(again.code).toBe(1);

    // The report marks the failed job's cell instead of dropping the row.
    expect(qtdog(['report', out, '--no-plots']).code).toBe(0);
    const md = readFileSync(join(out, 'report/results.md'), 'utf8');
    expect(md).toMatch(/2 jobs: 1 finished, 1 unfinished or failed, 0 not started/);
    expect(md).toMatch(/\| CrashAtStep \| X \(0\/1\) \| X \|/);
    rmSync(out, { recursive: true, force: true });
  });
});

describe('sweep order', () => {
  /** A launcher that runs nothing and records the order it was handed the jobs in. */
  function recordingLauncher(seen: string[][]) {
    return pluginModule('order-recorder', [
      definePlugin({
        kind: 'launcher',
        name: 'order-recorder',
        description: 'records the jobs it is given',
        options: z.object({}),
        create: () => ({ name: 'order-recorder', parallelism: 1, launch: async (jobs: ReadonlyArray<{ label: string }>) => (seen.push(jobs.map((j) => j.label)), []) }),
      }),
    ]);
  }

  it('settings (the default) runs a setting\'s trials together; trials-first runs trial 0 of every setting first', async () => {
    const dir = tempDir();
    const orders: Record<string, string[]> = {};
    for (const order of ['settings', 'trials-first']) {
      const file = join(dir, `${order}.yaml`);
      writeStripesSweep(file, ['dataset: { type: FixtureStripes, size: 40 }', 'network: { type: MNIST_CNN }', 'train: { steps: 2, backend: wasm }'], [
        'algorithms: [ERM]',
        'quantizers: [none, { name: QT-DoG, type: LSQ, bits: 7, startStep: 1 }]',
        'testEnvs: [[1], [2]]',
        'trials: 2',
        ...(order === 'settings' ? [] : [`order: ${order}`]),
      ]);
      const seen: string[][] = [];
      await runSweep(file, { modules: [...builtinModules(), recordingLauncher(seen)], out: join(dir, order), launcher: 'order-recorder', log: () => {} });
      orders[order] = seen[0]!.map((l) => l.replace(/ FixtureStripes| draw 0/g, ''));
    }
    expect(orders.settings).toEqual([
      'ERM test [1] trial 0', 'ERM test [1] trial 1', 'ERM test [2] trial 0', 'ERM test [2] trial 1',
      'ERM+QT-DoG test [1] trial 0', 'ERM+QT-DoG test [1] trial 1', 'ERM+QT-DoG test [2] trial 0', 'ERM+QT-DoG test [2] trial 1',
    ]);
    expect(orders['trials-first']).toEqual([
      'ERM test [1] trial 0', 'ERM test [2] trial 0', 'ERM+QT-DoG test [1] trial 0', 'ERM+QT-DoG test [2] trial 0',
      'ERM test [1] trial 1', 'ERM test [2] trial 1', 'ERM+QT-DoG test [1] trial 1', 'ERM+QT-DoG test [2] trial 1',
    ]);
  });
});

/** Pids of live processes whose command line mentions `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

describe('local launcher workersPerJob', () => {
  it('sets each job\'s train.workers even when one job runs at a time (to leave cores free)', () => {
    const out = tempDir();
    const file = join(out, 'one.yaml');
    writeStripesSweep(
      file,
      ['dataset: { type: FixtureStripes, size: 24 }', 'network: { type: MNIST_CNN }', 'algorithm: { batchSize: 4 }', 'train: { steps: 2, checkpointFreq: 2, backend: wasm }'],
      ['algorithms: [ERM]', 'testEnvs: [[2]]'],
    );
    const r = qtdog(['sweep', file, '--jobs', '1', '--launcher-option', 'workersPerJob=1', '--out', join(out, 'sweep')]);
    expect(r.code).toBe(0);
    const [job] = (JSON.parse(readFileSync(join(out, 'sweep', 'sweep.json'), 'utf8')) as { jobs: Array<{ id: string }> }).jobs;
    expect(loadConfigFile(join(out, 'sweep', job!.id, 'config.yaml')).config.train.workers).toBe(1);
    expect(existsSync(join(out, 'sweep', job!.id, 'done'))).toBe(true);
    // A value that is not a positive integer is refused, naming the option.
    const bad = qtdog(['sweep', file, '--dry-run', '--launcher-option', 'workersPerJob=0', '--out', join(out, 'sweep')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/workersPerJob/);
  }, 120_000);
});

describe('qtdog sweep told to stop (SIGTERM to the sweep process alone)', () => {
  it('stops its running jobs too, starts no more, names what is left and exits with 143', async () => {
    const out = tempDir();
    const file = join(out, 'long.yaml');
    // Three jobs that would run for hours, two at a time.
    writeStripesSweep(
      file,
      ['dataset: { type: FixtureStripes, size: 40 }', 'network: { type: MNIST_CNN }', 'algorithm: { batchSize: 4 }', 'train: { steps: 1000000, checkpointFreq: 5, backend: wasm }'],
      ['algorithms: [ERM]', 'testEnvs: [[2]]', 'trials: 3'],
    );
    let sweep: ChildProcess | undefined;
    const exited = runAsync(process.execPath, [CLI, 'sweep', file, '--jobs', '2', '--out', join(out, 'sweep')], { onSpawn: (c) => (sweep = c) });
    // Wait until both running jobs have written a checkpoint line.
    const started = () => {
      try {
        const jobs = (JSON.parse(readFileSync(join(out, 'sweep', 'sweep.json'), 'utf8')) as { jobs: Array<{ id: string }> }).jobs;
        return jobs.filter((j) => existsSync(join(out, 'sweep', j.id, 'results.jsonl'))).length;
      } catch {
        return 0;
      }
    };
    const deadline = Date.now() + 120_000;
    while (started() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(started()).toBe(2);
    const jobPaths = `${join(out, 'sweep')}/`; // in the jobs' command lines, not in the sweep's own
    expect(processesMentioning(jobPaths).length).toBe(2);
    sweep!.kill('SIGTERM');
    const { code, stderr } = await exited;

    expect(code).toBe(143);
    expect(stderr).toMatch(/stopped by SIGTERM after .*; it resumes from its last checkpoint/);
    expect(stderr).toMatch(/sweep long stopped by SIGTERM: 0 jobs finished now, 2 stopped \(each resumes from its last checkpoint\), 1 not started, 0 done before; re-run the same command to go on/);
    // No orphans: the jobs were stopped with the sweep, and the third never started.
    expect(processesMentioning(jobPaths)).toEqual([]);
    expect(started()).toBe(2);
  }, 180_000);
});

describe('configs/sweeps/rmnist-qtdog-vs-erm.yaml', () => {
  it('expands to ERM, QT-DoG, CORAL and CORAL+QT-DoG on RotatedMNIST, test envs 0 and 5, 3 trials', async (ctx) => {
    const { registry } = createPluginContainer(builtinModules());
    if (!registry.has('algorithm', 'CORAL')) ctx.skip();
    const { jobs } = await dryRun(join(ROOT, 'configs/sweeps/rmnist-qtdog-vs-erm.yaml'));
    expect(new Set(jobs.map((j) => j.label))).toEqual(new Set(['ERM', 'ERM+QT-DoG', 'CORAL', 'CORAL+QT-DoG']));
    expect(new Set(jobs.map((j) => j.testEnvs.join()))).toEqual(new Set(['0', '5']));
    expect(new Set(jobs.map((j) => j.trialSeed))).toEqual(new Set([0, 1, 2]));
    expect(jobs.length).toBe(4 * 2 * 3);
    for (const j of jobs.filter((x) => x.label.endsWith('QT-DoG'))) expect(j.config.quantizer).toMatchObject({ type: 'LSQ', bits: 7, perChannel: true });
  });
});

describe('configs/sweeps/rfmnist-qtdog.yaml (issue 26)', () => {
  it('expands to ERM and ERM+QT-DoG on full RotatedFashionMNIST, test envs 0 and 5, 3 trials', async () => {
    const { jobs } = await dryRun(join(ROOT, 'configs/sweeps/rfmnist-qtdog.yaml'));
    expect(jobs.length).toBe(2 * 2 * 3);
    expect(new Set(jobs.map((j) => j.label))).toEqual(new Set(['ERM', 'ERM+QT-DoG']));
    expect(new Set(jobs.map((j) => j.testEnvs.join()))).toEqual(new Set(['0', '5']));
    for (const j of jobs) {
      expect(j.config.dataset.type).toBe('RotatedFashionMNIST');
      // DomainBed's defaults (draw 0), not the reduced batch of the RotatedMNIST sweep.
      const { registry } = createPluginContainer(builtinModules());
      const resolved = resolveRunConfig(j.config, registry, 'rfmnist-qtdog.yaml');
      expect(resolved.algorithm.options).toMatchObject({ lr: 1e-3, batchSize: 64, weightDecay: 0 });
      expect(resolved.evaluators.map((e) => e.type)).toEqual(['flatness', 'compression']);
    }
    // QT-DoG from 40% of the steps on, as the paper (2,000 of 5,000).
    for (const j of jobs.filter((x) => x.label === 'ERM+QT-DoG')) {
      expect(j.config.quantizer).toMatchObject({ type: 'LSQ', bits: 7, perChannel: true });
      const q = j.config.quantizer as { startStep: number };
      expect(q.startStep / (j.config.train as { steps: number }).steps).toBeCloseTo(0.4, 3);
    }
  });
});

describe('configs/sweeps/zoo-rmnist.yaml and zoo-cmnist.yaml (issue 4\'s table)', () => {
  const { registry } = createPluginContainer(builtinModules());
  const algorithms = registry.names('algorithm');

  it('zoo-rmnist: one job per algorithm, each the very run of configs/rmnist-<algorithm>.yaml', async () => {
    const { jobs } = await dryRun(join(ROOT, 'configs/sweeps/zoo-rmnist.yaml'));
    expect(jobs.map((j) => j.label).sort()).toEqual([...algorithms].sort());
    for (const j of jobs) {
      const file = join(ROOT, `configs/rmnist-${j.label.toLowerCase()}.yaml`);
      const loaded = loadConfigFile(file);
      const single = toRunConfigDoc(resolveRunConfig(loaded.config, registry, loaded.file), []);
      // Same hash: a run of the single config can stand in for the sweep's job, and the reverse.
      expect(jobId(single, []), j.label).toBe(j.id);
    }
  });

  it('zoo-cmnist: the same algorithms on ColoredMNIST, test environment 2 (-90%)', async () => {
    const { jobs } = await dryRun(join(ROOT, 'configs/sweeps/zoo-cmnist.yaml'));
    expect(jobs.map((j) => j.label).sort()).toEqual([...algorithms].sort());
    for (const j of jobs) {
      expect(j.config.dataset).toMatchObject({ type: 'ColoredMNIST', testEnvs: [2] });
      expect(j.config.train).toMatchObject({ steps: 1001, checkpointFreq: 100 });
      expect(j.config.algorithm).toMatchObject({ type: j.label, lr: 1e-3, batchSize: 32 });
    }
  });

  it('zoo-rmnist-swad: one ERM+SWAD job, the very run of configs/rmnist-erm-swad.yaml', async () => {
    const { jobs } = await dryRun(join(ROOT, 'configs/sweeps/zoo-rmnist-swad.yaml'));
    expect(jobs).toHaveLength(1);
    const loaded = loadConfigFile(join(ROOT, 'configs/rmnist-erm-swad.yaml'));
    const single = toRunConfigDoc(resolveRunConfig(loaded.config, registry, loaded.file), []);
    // The sweep pins 1 worker (comparable step times); workers are not part of a job's identity.
    expect(jobId(single, [])).toBe(jobs[0]!.id);
    expect(jobs[0]!.config.hooks).toEqual([expect.objectContaining({ type: 'SWAD', nConverge: 3, nTolerance: 6, toleranceRatio: 0.3 })]);
  });

  it('zoo-cmnist-swad: the same ERM+SWAD job on ColoredMNIST, test environment 2', async () => {
    const { jobs } = await dryRun(join(ROOT, 'configs/sweeps/zoo-cmnist-swad.yaml'));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.config.dataset).toMatchObject({ type: 'ColoredMNIST', testEnvs: [2] });
    expect(jobs[0]!.config.hooks).toEqual([expect.objectContaining({ type: 'SWAD' })]);
    expect(jobs[0]!.config.train).toMatchObject({ steps: 1001, checkpointFreq: 100, workers: 1 });
  });
});
