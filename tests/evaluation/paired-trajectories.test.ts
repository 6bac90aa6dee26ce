import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers';

const TOOL = join(ROOT, 'tools/results/paired-trajectories.mjs');

/** One run folder as a sweep leaves it: job.json, results.jsonl (test env 0 of 3), and `done` when finished. */
function writeRun(sweep: string, id: string, label: string, trial: number, test: number[], val: number[], done = true, flatness?: { train: number[]; test: number[] }): void {
  const dir = join(sweep, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ id, label, dataset: 'D', testEnvs: [0], draw: 0, trialSeed: trial }));
  const config = { seed: 0, trialSeed: trial, dataset: { type: 'D', testEnvs: [0] }, ...(label.includes('QT') ? { quantizer: { type: 'LSQ', options: { startStep: 10 } } } : {}) };
  const lines = test.map((t, i) =>
    JSON.stringify({ step: i * 10, config, env0_in_acc: t, env0_out_acc: t, env1_in_acc: 0.9, env1_out_acc: val[i], env2_in_acc: 0.9, env2_out_acc: val[i] }),
  );
  if (flatness) {
    // The end-of-run evaluators append their fields to the last checkpoint's record.
    const last = JSON.parse(lines.pop()!);
    lines.push(JSON.stringify({ ...last, 'flatness.radii': [1, 2], 'flatness.samples': 5, 'flatness.train': flatness.train, 'flatness.test': flatness.test }));
  }
  writeFileSync(join(dir, 'results.jsonl'), lines.join('\n') + '\n');
  if (done) writeFileSync(join(dir, 'done'), '');
}

describe('tools/results/paired-trajectories.mjs', () => {
  it('pairs the finished runs of a trial and prints checkpoint-wise and selected-checkpoint differences', () => {
    const sweep = tempDir();
    // Trial 0: from the quantizer's start (step 10) the treated run gains +2, +6, -4 points; the
    // training-domain validation picks step 30 for the base run (70%) and step 20 for the treated (46%).
    writeRun(sweep, 'b0', 'ERM', 0, [0.5, 0.6, 0.4, 0.7], [0.1, 0.2, 0.3, 0.4]);
    writeRun(sweep, 't0', 'ERM+QT-DoG', 0, [0.5, 0.62, 0.46, 0.66], [0.1, 0.2, 0.5, 0.4]);
    // Trial 1: +4 at every checkpoint from step 10; both select step 10.
    writeRun(sweep, 'b1', 'ERM', 1, [0.5, 0.5, 0.5, 0.5], [0.1, 0.9, 0.3, 0.4]);
    writeRun(sweep, 't1', 'ERM+QT-DoG', 1, [0.5, 0.54, 0.54, 0.54], [0.1, 0.9, 0.3, 0.4]);
    // An unfinished treated run of trial 2 has no partner and is left out.
    writeRun(sweep, 't2', 'ERM+QT-DoG', 2, [0.5, 0.9], [0.1, 0.2], false);
    const out = execFileSync('node', [TOOL, sweep], { encoding: 'utf8' });
    expect(out).toContain('| 20 | 40.0 | 46.0 | +6.0 | 30.0 | 50.0 |');
    expect(out).toContain('mean difference over these 3 checkpoints: +1.3; at the training-domain-validation checkpoints (ERM step 30: 70.0, ERM+QT-DoG step 20: 46.0): -24.0');
    expect(out).toContain('mean difference over these 3 checkpoints: +4.0;');
    expect(out).toContain('## Over 2 pair(s)');
    // Mean ± DomainBed standard error over the 2 pairs: (1.33, 4.0) and (-24, +4).
    expect(out).toContain('- mean over checkpoints of the paired difference: +2.7 ± 0.9');
    expect(out).toContain('- difference at the selected checkpoints: -10.0 ± 9.9');
    expect(out).not.toContain('trial 2');
    // --from moves the first compared checkpoint.
    expect(execFileSync('node', [TOOL, sweep, '--from', '20'], { encoding: 'utf8' })).toContain('mean difference over these 2 checkpoints: +1.0;');
  });

  it('prints the paired flatness difference of runs that measured it, and over pairs how many are flatter', () => {
    const sweep = tempDir();
    writeRun(sweep, 'b0', 'ERM', 0, [0.5, 0.6], [0.1, 0.2], true, { train: [0.1, 0.5], test: [0.2, 0.8] });
    writeRun(sweep, 't0', 'ERM+QT-DoG', 0, [0.5, 0.6], [0.1, 0.2], true, { train: [0.1, 0.3], test: [0.3, 0.6] });
    writeRun(sweep, 'b1', 'ERM', 1, [0.5, 0.6], [0.1, 0.2], true, { train: [0.2, 0.6], test: [0.2, 0.8] });
    writeRun(sweep, 't1', 'ERM+QT-DoG', 1, [0.5, 0.6], [0.1, 0.2], true, { train: [0.1, 0.5], test: [0.2, 1.0] });
    // A pair whose base run measured no flatness counts in the accuracy lines, not in the flatness line.
    writeRun(sweep, 'b2', 'ERM', 2, [0.5, 0.6], [0.1, 0.2]);
    writeRun(sweep, 't2', 'ERM+QT-DoG', 2, [0.5, 0.6], [0.1, 0.2], true, { train: [0.1, 0.3], test: [0.3, 0.6] });
    const out = execFileSync('node', [TOOL, sweep], { encoding: 'utf8' });
    expect(out).toContain('| train | 2 | 0.500 | 0.300 | -0.200 |');
    expect(out).toContain('| test | 1 | 0.200 | 0.300 | +0.100 |');
    expect(out).toContain('## Over 3 pair(s)');
    expect(out).toContain('over the 2 pair(s) that measured it');
    // Train F(2): -0.2 and -0.1; test F(2): -0.2 and +0.2 (DomainBed s.e.: population std / sqrt(n)).
    expect(out).toContain('train domains: F(1) -0.050 ± 0.035 (flatter in 1/2); F(2) -0.150 ± 0.035 (flatter in 2/2)');
    expect(out).toContain('test domains: F(1) +0.050 ± 0.035 (flatter in 0/2); F(2) +0.000 ± 0.141 (flatter in 1/2)');
  });

  it('names an unknown row in one line', () => {
    const sweep = tempDir();
    writeRun(sweep, 'b0', 'ERM', 0, [0.5, 0.6], [0.1, 0.2]);
    const r = spawnSync('node', [TOOL, sweep, '--treated', 'CORAL+QT-DoG'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`${sweep}: no row labelled 'CORAL+QT-DoG' (rows: ERM)`);
  });
});
