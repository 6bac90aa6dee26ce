import type { Command } from 'commander';
import Table from 'cli-table3';
import { RunError } from '@qtdog/core';
import { builtinModules } from '../builtin-modules.js';
import { runSweep, type SweepResult } from '../sweep/run-sweep.js';

export interface SweepCommandOptions {
  dryRun?: boolean;
  jobs?: string;
  out?: string;
}

function jobsTable(r: SweepResult): string {
  const table = new Table({ head: ['job', 'label', 'dataset', 'test envs', 'trial', 'draw', 'status'], style: { head: [], border: [] } });
  for (const j of r.jobs) table.push([j.id, j.label, j.dataset, j.testEnvs.join(','), String(j.trialSeed), String(j.draw), j.status]);
  return table.toString();
}

export async function sweepCommand(file: string, opts: SweepCommandOptions): Promise<void> {
  let jobs: number | undefined;
  if (opts.jobs !== undefined) {
    jobs = Number(opts.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new RunError(`--jobs: expected a positive integer, found '${opts.jobs}'`);
  }
  const r = await runSweep(file, { modules: builtinModules(), out: opts.out, jobs, dryRun: opts.dryRun, log: (m) => process.stderr.write(`${m}\n`) });
  const done = r.jobs.filter((j) => j.status === 'done').length;
  if (opts.dryRun) {
    process.stdout.write(`${jobsTable(r)}\n${r.jobs.length} jobs (${done} done, ${r.jobs.length - done} to run, ${r.parallelism} at a time); output folder ${r.outDir}\n`);
    return;
  }
  const failed = r.outcomes.filter((o) => !o.ok);
  process.stdout.write(
    `sweep ${r.name}: ${r.outcomes.length - failed.length} finished now, ${done} already done before, ${failed.length} failed; results in ${r.outDir}\n` +
      `make the report with: qtdog report ${r.outDir}\n`,
  );
  if (failed.length > 0) {
    throw new RunError(`${failed.length} of ${r.outcomes.length} jobs failed; their logs:\n${failed.map((o) => `  ${o.job.logFile}`).join('\n')}\n(re-run the same command to retry them; finished jobs are skipped)`);
  }
}

/** Adds `qtdog sweep` to the program. */
export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('run every job of a sweep file (algorithms x quantizers x datasets x test envs x hparam draws x trials); finished jobs are skipped')
    .argument('<sweep>', 'sweep file (YAML or JSON; docs/sweeps.md)')
    .option('--dry-run', 'list the jobs and whether each is done, run nothing')
    .option('-j, --jobs <n>', 'jobs at the same time (default: the launcher\'s, local: the number of cores)')
    .option('-o, --out <dir>', 'sweep folder (default: the sweep file\'s output:, else runs/sweeps/<name>)')
    .action(async (file: string, opts: SweepCommandOptions) => sweepCommand(file, opts));
}
