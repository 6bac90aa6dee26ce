import { describe, expect, it } from 'vitest';
import {
  buildTables,
  hparamsAccs,
  leaveOneDomainOut,
  sweepAcc,
  tableToLatex,
  tableToMarkdown,
  testDomainOracle,
  trainingDomainValidation,
  type LoadedSweep,
  type ResultRecord,
  type SweepJobInfo,
} from '@qtdog/evaluation';

/**
 * A synthetic results set whose right answers are known by construction. Three environments; a run
 * is (draw, trial, test envs) with checkpoints at steps 0, 1, 2. Accuracies are written per step as
 * [in, out] for env0, env1, env2.
 */
type Accs = [[number, number], [number, number], [number, number]];
function run(draw: number, trial: number, testEnvs: number[], steps: Accs[]): ResultRecord[] {
  return steps.map((accs, step) => {
    const r: ResultRecord = { step, config: { seed: draw, trialSeed: trial, dataset: { type: 'Synthetic', testEnvs } } };
    accs.forEach(([i, o], e) => {
      r[`env${e}_in_acc`] = i;
      r[`env${e}_out_acc`] = o;
    });
    return r;
  });
}
const fill = (v: number): Accs => [[v, v], [v, v], [v, v]];

// Test env 0. Draw 0: training-domain validation (mean out acc of env1, env2) peaks at step 1
// (0.9), where env0_in is 0.61. Draw 1 peaks at 0.8 (step 2). So training-domain -> draw 0 step 1 -> 0.61.
// Oracle: last step, ranked by env0_out: draw 0 has 0.50, draw 1 has 0.95 -> draw 1 step 2 -> env0_in 0.77.
const draw0: Accs[] = [
  [[0.1, 0.3], [0.5, 0.5], [0.5, 0.5]],
  [[0.61, 0.4], [0.5, 0.9], [0.5, 0.9]],
  [[0.7, 0.5], [0.5, 0.7], [0.5, 0.7]],
];
const draw1: Accs[] = [
  [[0.33, 0.2], [0.5, 0.6], [0.5, 0.6]],
  [[0.5, 0.3], [0.5, 0.7], [0.5, 0.7]],
  [[0.77, 0.95], [0.5, 0.8], [0.5, 0.8]],
];
// Leave-one-out for test env 0 uses runs [0,1] (validate on env1_in) and [0,2] (env2_in):
// draw 0 scores (env1_in + env2_in) / 2 = 0.5, 0.6, 0.55 at steps 0..2; draw 1 scores 0.9, 0.3, 0.4.
// Best: draw 1 step 0 (0.9) -> run [0]'s env0_in at step 0 = 0.33.
const pair = (draw: number, other: number, inAccs: number[]) =>
  run(draw, 0, [0, other], inAccs.map((v) => { const a = fill(0.5); a[other] = [v, 0.5]; return a; }));
const records: ResultRecord[] = [
  ...run(0, 0, [0], draw0),
  ...run(1, 0, [0], draw1),
  ...pair(0, 1, [0.5, 0.6, 0.5]),
  ...pair(0, 2, [0.5, 0.6, 0.6]),
  ...pair(1, 1, [0.9, 0.3, 0.4]),
  ...pair(1, 2, [0.9, 0.3, 0.4]),
];

describe('model selection on a synthetic sweep (answers known by construction)', () => {
  it('training-domain validation: best mean out accuracy of training envs, over checkpoints then draws', () => {
    const c = sweepAcc(trainingDomainValidation, records, 0)!;
    expect(c).toMatchObject({ seed: 0, step: 1, testAcc: 0.61 });
    expect(c.valAcc).toBeCloseTo(0.9, 12);
    // Runs holding out two environments are not training-domain runs: they are ignored.
    expect(sweepAcc(trainingDomainValidation, records.filter((r) => r.config.dataset.testEnvs.length === 2), 0)).toBeNull();
    expect(hparamsAccs(trainingDomainValidation, records, 0).map((d) => d.seed)).toEqual([0, 1]);
  });

  it('test-domain oracle: last checkpoint of each run, draws ranked by the test env out accuracy', () => {
    const c = sweepAcc(testDomainOracle, records, 0)!;
    expect(c).toMatchObject({ seed: 1, step: 2, testAcc: 0.77, valAcc: 0.95 });
  });

  it('leave-one-domain-out: validates on the held-out env of the [t, v] runs, reports run [t]', () => {
    const c = sweepAcc(leaveOneDomainOut, records, 0)!;
    expect(c).toMatchObject({ seed: 1, step: 0, testAcc: 0.33 });
    expect(c.valAcc).toBeCloseTo(0.9, 12);
    // Without draw 1's [0, 2] run, draw 1 cannot be scored: draw 0's best step (1, score 0.6) wins.
    const partial = records.filter((r) => !(r.config.seed === 1 && r.config.dataset.testEnvs.join() === '0,2'));
    expect(sweepAcc(leaveOneDomainOut, partial, 0)).toMatchObject({ seed: 0, step: 1, testAcc: 0.61 });
    // With no pair runs at all there is nothing to select.
    expect(sweepAcc(leaveOneDomainOut, records.filter((r) => r.config.dataset.testEnvs.length === 1), 0)).toBeNull();
  });

  it('breaks ties as DomainBed: first checkpoint within a run, later draw across draws', () => {
    const tie = [...run(0, 0, [0], [fill(0.5), fill(0.5)]), ...run(1, 0, [0], [fill(0.5), fill(0.5)])];
    tie[1]!.env0_in_acc = 0.9; // same score as step 0; step 0 must stay chosen
    const c = sweepAcc(trainingDomainValidation, tie, 0)!;
    expect(c).toMatchObject({ seed: 1, step: 0 });
  });
});

describe('results tables', () => {
  const job = (id: string, label: string, trialSeed: number): SweepJobInfo => ({
    id, label, algorithm: label, quantizer: null, bits: 32, dataset: 'Synthetic', testEnvs: [0], draw: 0, trialSeed,
  });
  // ERM: trials 0 and 1 finished, test accuracies 0.9 and 0.8 at their selected checkpoints.
  // CORAL: trial 0 finished (0.7), trial 1 failed. Mixup: nothing finished.
  const single = (trial: number, acc: number) => run(0, trial, [0], [fill(0.5), [[acc, 0.5], [0.5, 0.9], [0.5, 0.9]]]);
  const sweep: LoadedSweep = {
    dir: '/nowhere',
    name: 'synthetic',
    manifest: null,
    datasets: { Synthetic: { environments: ['a', 'b', 'c'] } },
    runs: [
      { id: 'e0', dir: '', info: job('e0', 'ERM', 0), status: 'done', records: single(0, 0.9) },
      { id: 'e1', dir: '', info: job('e1', 'ERM', 1), status: 'done', records: single(1, 0.8) },
      { id: 'c0', dir: '', info: job('c0', 'CORAL', 0), status: 'done', records: single(0, 0.7) },
      { id: 'c1', dir: '', info: job('c1', 'CORAL', 1), status: 'unfinished', records: single(1, 0.1).slice(0, 1) },
      { id: 'm0', dir: '', info: job('m0', 'Mixup', 0), status: 'not started', records: [] },
      { id: 'm1', dir: '', info: job('m1', 'Mixup', 1), status: 'not started', records: [] },
    ],
  };

  it('mean ± standard error over trials; missing trials are counted, not dropped', () => {
    const [t] = buildTables(sweep, [trainingDomainValidation]);
    expect(t!.columns).toEqual([{ testEnv: 0, name: 'a' }]);
    const erm = t!.rows[0]!;
    expect(erm.label).toBe('ERM');
    expect(erm.cells[0]!.mean).toBeCloseTo(0.85, 12);
    // DomainBed: population std (0.05) / sqrt(2).
    expect(erm.cells[0]!.err).toBeCloseTo(0.05 / Math.SQRT2, 12);
    expect(erm.cells[0]!.trials.map((x) => x.run)).toEqual(['e0', 'e1']);
    const md = tableToMarkdown(t!);
    expect(md.split('\n')).toEqual([
      '| Algorithm | a | Avg |',
      '|:---|---:|---:|',
      '| ERM | 85.0 ± 3.5 | 85.0 |',
      '| CORAL | 70.0 ± 0.0 (1/2) | 70.0 |',
      '| Mixup | X (0/2) | X |',
    ]);
    expect(tableToLatex(t!)).toContain('CORAL & 70.0 $\\pm$ 0.0 (1/2) & 70.0 \\\\');
  });

  it('makes one table per selection method and says why leave-one-out is empty', () => {
    const tables = buildTables(sweep, [trainingDomainValidation, leaveOneDomainOut, testDomainOracle]);
    expect(tables.map((t) => t.selection)).toEqual(['training-domain', 'leave-one-out', 'oracle']);
    expect(tables[1]!.note).toMatch(/two environments/);
    expect(tables[1]!.rows.every((r) => r.avg === null)).toBe(true);
    // Oracle on these runs: last checkpoint's env0_in.
    expect(tables[2]!.rows[0]!.cells[0]!.mean).toBeCloseTo(0.85, 12);
  });
});
