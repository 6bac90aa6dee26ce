import { constants } from 'node:os';
import type { Command } from 'commander';
import { plainTable } from '../plain-table.js';
import { parse as parseYaml } from 'yaml';
import { RunError } from '@qtdog/core';
import { sweepStatus } from '@qtdog/evaluation';
import { builtinModules } from '../builtin-modules.js';
import { runSweep, type SweepResult } from '../sweep/run-sweep.js';

export interface SweepCommandOptions {
  dryRun?: boolean;
  jobs?: string;
  out?: string;
  launcher?: string;
  launcherOption?: string[];
  wait?: boolean;
}

/** `key=value` pairs of --launcher-option; values read as YAML scalars (numbers, booleans, lists). */
function launcherOptions(pairs: string[] = [], wait?: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new RunError(`--launcher-option: expected key=value, found '${p}'`);
    out[p.slice(0, eq)] = parseYaml(p.slice(eq + 1));
  }
  if (wait) out.wait = true;
  return out;
}

function jobsTable(r: SweepResult): string {
  const table = plainTable(['job', 'label', 'dataset', 'test envs', 'trial', 'draw', 'status']);
  for (const j of r.jobs) table.push([j.id, j.label, j.dataset, j.testEnvs.join(','), String(j.trialSeed), String(j.draw), j.status]);
  return table.toString();
}

export async function sweepCommand(file: string, opts: SweepCommandOptions): Promise<void> {
  let jobs: number | undefined;
  if (opts.jobs !== undefined) {
    jobs = Number(opts.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new RunError(`--jobs: expected a positive integer, found '${opts.jobs}'`);
  }
  const r = await runSweep(file, {
    modules: builtinModules(),
    out: opts.out,
    jobs,
    dryRun: opts.dryRun,
    launcher: opts.launcher,
    launcherOptions: launcherOptions(opts.launcherOption, opts.wait),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const done = r.jobs.filter((j) => j.status === 'done').length;
  if (opts.dryRun) {
    process.stdout.write(`${jobsTable(r)}\n${r.jobs.length} jobs (${done} done, ${r.jobs.length - done} to run, ${r.parallelism} at a time); output folder ${r.outDir}\n`);
    return;
  }
  const pending = r.jobs.length - done;
  const stopped = r.outcomes.filter((o) => o.interrupted);
  if (stopped.length > 0) {
    const signal = stopped[0]!.signal ?? 'SIGINT';
    const finished = r.outcomes.filter((o) => o.ok).length;
    throw new SweepInterrupted(
      signal,
      `sweep ${r.name} stopped by ${signal}: ${finished} jobs finished now, ${stopped.length} stopped (each resumes from its last checkpoint), ` +
        `${pending - r.outcomes.length} not started, ${done} done before; re-run the same command to go on`,
    );
  }
  if (pending > 0 && r.outcomes.length === 0) {
    // A queue launcher (slurm without wait) only submitted the jobs.
    process.stdout.write(`sweep ${r.name}: ${pending} jobs submitted to the ${r.launcher} launcher, ${done} already done; follow them with: qtdog sweep status ${r.outDir}\n`);
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

/** The sweep was told to stop; the exit code is the shell's for that signal (130 for Ctrl-C). */
class SweepInterrupted extends RunError {
  readonly exitCode: number;
  constructor(signal: string, message: string) {
    super(message);
    this.exitCode = 128 + ((constants.signals as Record<string, number>)[signal] ?? 2);
  }
}

/** `qtdog sweep status <dir>`: a table of the jobs and a count of each state; failed ones name their logs. */
export function sweepStatusCommand(dir: string): void {
  const s = sweepStatus(dir);
  const table = plainTable(['job', 'label', 'dataset', 'test envs', 'trial', 'draw', 'state', 'detail']);
  for (const j of s.jobs) table.push([j.info.id, j.info.label, j.info.dataset, j.info.testEnvs.join(','), String(j.info.trialSeed), String(j.info.draw), j.state, j.detail]);
  const c = s.counts;
  let text = `${table.toString()}\nsweep ${s.name}: ${s.jobs.length} jobs: ${c.done} done, ${c.running} running, ${c.pending} pending, ${c.failed} failed\n`;
  const failed = s.jobs.filter((j) => j.state === 'failed');
  if (failed.length > 0) {
    text += `failed jobs' logs:\n${failed.map((j) => `  ${j.info.id}: ${j.log}${j.slurmLog ? ` (Slurm: ${j.slurmLog})` : ''}`).join('\n')}\n`;
  }
  process.stdout.write(text);
}

/** Adds `qtdog sweep` (and `qtdog sweep status`) to the program. */
export function registerSweepCommand(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('run every job of a sweep file (algorithms x quantizers x datasets x test envs x hparam draws x trials); finished jobs are skipped')
    .argument('<sweep>', 'sweep file (YAML or JSON; docs/sweeps.md)')
    .option('--dry-run', 'list the jobs and whether each is done, run nothing')
    .option('-j, --jobs <n>', 'jobs at the same time (default: the launcher\'s, local: the number of cores)')
    .option('-o, --out <dir>', 'sweep folder (default: the sweep file\'s output:, else runs/sweeps/<name>)')
    .option('--launcher <name>', 'launcher plugin instead of the sweep file\'s (local, slurm, ...; qtdog list launcher)')
    .option('--launcher-option <key=value>', 'a launcher option over the sweep file\'s (repeatable), e.g. partition=gpu', (v: string, prev: string[] = []) => [...prev, v])
    .option('--wait', 'with a queue launcher (slurm): wait for the jobs and report each')
    .action(async (file: string, opts: SweepCommandOptions) => sweepCommand(file, opts));
  sweep
    .command('status')
    .description('jobs of a sweep folder: done, running, pending, failed (from the folders, and from Slurm for submitted jobs)')
    .argument('<sweep-dir>', 'the sweep folder (with sweep.json)')
    .action((dir: string) => sweepStatusCommand(dir));
}
