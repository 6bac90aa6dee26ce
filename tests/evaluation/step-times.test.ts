import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildStepTimeTables, runStepTime, trainingDomainValidation, writeReport, type LoadedSweep, type SweepManifest } from '@qtdog/evaluation';
import { tempDir } from '../helpers';

/** Checkpoint records every 100 steps with the given mean step time of each interval. */
function records(times: number[], workers: number, first = 9): Array<Record<string, unknown>> {
  return [{ step: 0, stepTime: first, workers }, ...times.map((t, i) => ({ step: (i + 1) * 100, stepTime: t, workers }))];
}

function sweepOf(runs: Array<{ label: string; dataset?: string; records: Array<Record<string, unknown>> }>): LoadedSweep {
  return {
    dir: '/nowhere',
    name: 'toy',
    manifest: null,
    datasets: {},
    runs: runs.map((r, i) => ({
      id: `r${i}`,
      dir: `/nowhere/r${i}`,
      status: 'done',
      records: r.records as never,
      info: { id: `r${i}`, label: r.label, algorithm: r.label, quantizer: null, bits: 32, dataset: r.dataset ?? 'Toy', testEnvs: [0], draw: 0, trialSeed: 0 },
    })),
  };
}

describe('time per step in the report', () => {
  it('a run\'s step time weights each checkpoint interval by its steps and leaves out the first step', () => {
    expect(runStepTime(records([1, 2], 1))).toBeCloseTo(1.5, 12);
    // A last checkpoint after 50 steps counts half as much as a full interval of 100.
    expect(runStepTime([...records([1], 1), { step: 150, stepTime: 4 }])).toBeCloseTo((100 * 1 + 50 * 4) / 150, 12);
    // Resumed runs and records without times: intervals start at the previous record's step.
    expect(runStepTime([{ step: 0 }, { step: 100 }, { step: 200, stepTime: 3 }])).toBe(3);
    expect(runStepTime([{ step: 0, stepTime: 5 }])).toBeNull();
  });

  it('each row is the mean over its runs, with its ratio to ERM per dataset', () => {
    const [t, u] = buildStepTimeTables(
      sweepOf([
        { label: 'ERM', records: records([1, 1], 2) },
        { label: 'ERM', records: records([2, 2], 2) },
        { label: 'SAM', records: records([3, 3], 2) },
        { label: 'CORAL', dataset: 'Other', records: records([2, 2], 2) },
      ]),
    );
    expect(t!.dataset).toBe('Toy');
    expect(t!.note).toBeUndefined();
    expect(t!.rows).toEqual([
      { label: 'ERM', seconds: 1.5, runs: 2, workers: [2], ratioToErm: 1 },
      { label: 'SAM', seconds: 3, runs: 1, workers: [2], ratioToErm: 2 },
    ]);
    // No ERM on that dataset: no ratio.
    expect(u!.rows[0]!.ratioToErm).toBeNull();
  });

  it('says so when rows ran with different numbers of workers', () => {
    const [t] = buildStepTimeTables(sweepOf([{ label: 'ERM', records: records([1], 2) }, { label: 'SAM', records: records([3], 1) }]));
    expect(t!.note).toMatch(/different numbers of workers/);
  });

  it('qtdog report writes the table into results.md and results.json', async () => {
    const dir = tempDir('qtdog-steptime-');
    const jobs: SweepManifest['jobs'] = [];
    for (const [id, label, t] of [['a', 'ERM', 2], ['b', 'SAM', 5]] as const) {
      jobs.push({ id, label, algorithm: label, quantizer: null, bits: 32, dataset: 'Toy', testEnvs: [0], draw: 0, trialSeed: 0 });
      mkdirSync(join(dir, id));
      const lines = records([t, t], 1).map((r) => ({ ...r, config: { seed: 0, trialSeed: 0, dataset: { type: 'Toy', testEnvs: [0] } }, env0_in_acc: 0.5, env0_out_acc: 0.5, env1_in_acc: 0.6, env1_out_acc: 0.6 }));
      writeFileSync(join(dir, id, 'results.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      writeFileSync(join(dir, id, 'done'), 'done\n');
    }
    const manifest: SweepManifest = { format: 'qtdog-sweep/1', name: 'toy', file: 'toy.yaml', datasets: { Toy: { environments: ['a', 'b'] } }, jobs };
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(manifest));
    const r = await writeReport(dir, { methods: [trainingDomainValidation], plots: false, html: true });
    const md = readFileSync(join(r.outDir, 'results.md'), 'utf8');
    expect(md).toMatch(/## Time per step/);
    expect(md).toMatch(/\| SAM \| 5\.00 \| 2\.50 \| 1 \| 1 \|/);
    expect(JSON.parse(readFileSync(join(r.outDir, 'results.json'), 'utf8')).stepTimes[0].rows[1].ratioToErm).toBeCloseTo(2.5, 12);
    expect(readFileSync(join(r.outDir, 'report.html'), 'utf8')).toMatch(/<h2>Time per step<\/h2>/);
  });
});
