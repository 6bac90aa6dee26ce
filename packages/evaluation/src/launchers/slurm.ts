import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { definePlugin, RunError } from '@qtdog/core';
import type { JobOutcome, LaunchContext, LaunchJob, Launcher, LaunchListener } from './launcher.js';
import { querySlurmTasks, taskStateLookup, type SlurmTaskState } from './slurm-query.js';
import { newestTasks, SLURM_DIR, writeSubmission, type SlurmSubmission } from './slurm-submissions.js';

export const SlurmLauncherOptions = z.object({
  /** `--partition`; the cluster's default when left out. */
  partition: z.string().min(1).optional(),
  /** `--time` per task, in any form sbatch takes (e.g. '02:00:00', '1-00:00:00'). */
  time: z.string().min(1).optional(),
  /** `--cpus-per-task`; also each job's `train.workers` (data-parallel threads inside the task). */
  cpusPerTask: z.number().int().positive().default(1),
  /** `--mem` per task (e.g. '4G'). */
  mem: z.string().min(1).optional(),
  /** At most this many tasks of the array at once (`--array=...%N`); all at once when left out. */
  throttle: z.number().int().positive().optional(),
  /** More sbatch flags, one per entry (e.g. ['--account=abc', '--qos=low']). */
  sbatchArgs: z.array(z.string()).default([]),
  /** Shell lines each task runs before its job (e.g. 'module load nodejs/20'). */
  setup: z.string().default(''),
  /** The Node.js each task runs the CLI with: this machine's by default; 'node' to take it from the task's PATH. */
  node: z.string().min(1).optional(),
  /** Wait for the array to end (polling squeue/sacct) and report each job, as the local launcher does. */
  wait: z.boolean().default(false),
  /** Seconds between polls while waiting. */
  pollSeconds: z.number().positive().default(10),
  /** Job name shown by squeue (default qtdog-<sweep name>). */
  jobName: z.string().min(1).optional(),
});
export type SlurmLauncherOptionsT = z.infer<typeof SlurmLauncherOptions>;

/** Single-quotes a word for sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Sweep jobs whose newest Slurm task is still pending or running. */
function activeJobIds(sweepDir: string): Set<string> {
  const stateOf = taskStateLookup();
  const active = new Set<string>();
  for (const [id, t] of newestTasks(sweepDir)) {
    const s = stateOf(t.arrayId, t.index);
    if (s && !s.finished) active.add(id);
  }
  return active;
}

/**
 * Submits a sweep's unfinished jobs as one Slurm job array (`sbatch --array`), one task per job.
 * Each task runs `qtdog run` on its job's config into the job's folder, appending to its log, so a
 * requeued or re-launched task resumes the run from its last checkpoint (`--requeue` is set).
 * Nothing is scheduled here: Slurm does all of it.
 */
export class SlurmLauncher implements Launcher {
  readonly name = 'slurm';
  readonly parallelism: number;

  constructor(private readonly options: SlurmLauncherOptionsT) {
    // How many jobs may run at the same time is Slurm's business; the throttle caps it.
    this.parallelism = options.throttle ?? Number.POSITIVE_INFINITY;
  }

  /** Each task's data-parallel threads: its CPUs. */
  get workersPerJob(): number {
    return this.options.cpusPerTask;
  }

  /** The batch script for these jobs (exported for tests and for `--dry-run` readers). */
  batchScript(jobs: readonly LaunchJob[], sweepDir: string, name: string): string {
    const o = this.options;
    const array = `0-${jobs.length - 1}${o.throttle ? `%${o.throttle}` : ''}`;
    const lines = ['#!/bin/bash', `#SBATCH --job-name=${shellQuote(o.jobName ?? `qtdog-${name}`)}`, `#SBATCH --array=${array}`];
    lines.push(`#SBATCH --output=${join(sweepDir, SLURM_DIR, '%A_%a.out')}`, '#SBATCH --requeue', `#SBATCH --cpus-per-task=${o.cpusPerTask}`);
    if (o.partition) lines.push(`#SBATCH --partition=${o.partition}`);
    if (o.time) lines.push(`#SBATCH --time=${o.time}`);
    if (o.mem) lines.push(`#SBATCH --mem=${o.mem}`);
    for (const flag of o.sbatchArgs) lines.push(`#SBATCH ${flag}`);
    lines.push('', `# qtdog sweep ${name}: ${jobs.length} jobs, one array task each.`, 'set -e');
    if (o.setup.trim()) lines.push('# setup (the launcher\'s `setup` option)', o.setup.trim());
    lines.push('case "$SLURM_ARRAY_TASK_ID" in');
    for (const [i, job] of jobs.entries()) {
      const node = o.node ?? job.command;
      const cmd = [node, ...job.args].map(shellQuote).join(' ');
      const cd = job.cwd ? `cd ${shellQuote(job.cwd)} && ` : '';
      // Appends: a requeued task's log keeps the earlier attempt's lines above the resumed ones.
      lines.push(`  ${i}) ${cd}echo "== task \${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID} on $(hostname), $(date -u +%FT%TZ)" >> ${shellQuote(job.logFile)}`);
      lines.push(`     exec ${cmd} >> ${shellQuote(job.logFile)} 2>&1 ;;`);
    }
    lines.push('  *) echo "no job for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;', 'esac', '');
    return lines.join('\n');
  }

  async launch(jobs: readonly LaunchJob[], listener: LaunchListener = {}, context?: LaunchContext): Promise<JobOutcome[]> {
    if (jobs.length === 0) return [];
    const sweepDir = resolve(context?.sweepDir ?? dirname(dirname(jobs[0]!.logFile)));
    const name = context?.name ?? basename(sweepDir);
    // Jobs an earlier submission still has queued or running are left to it.
    const queued = activeJobIds(sweepDir);
    const held = jobs.filter((j) => queued.has(j.id));
    if (held.length > 0) context?.log?.(`${held.length} jobs are still queued or running in Slurm from an earlier submission; not submitted again`);
    jobs = jobs.filter((j) => !queued.has(j.id));
    if (jobs.length === 0) return [];
    const dir = join(sweepDir, SLURM_DIR);
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const script = join(dir, `array-${stamp}.sh`);
    writeFileSync(script, this.batchScript(jobs, sweepDir, name));
    chmodSync(script, 0o755);
    let out: string;
    try {
      out = execFileSync('sbatch', ['--parsable', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw new RunError('the slurm launcher needs `sbatch` on PATH (run qtdog sweep on a Slurm login node)');
      throw new RunError(`sbatch refused ${script}: ${(err.stderr ?? err.message).trim()}`);
    }
    const arrayId = out.trim().split(';')[0]!;
    const submission: SlurmSubmission = {
      arrayId,
      script,
      submitted: new Date().toISOString(),
      tasks: jobs.map((j, i) => ({ index: i, id: j.id, label: j.label, slurmLog: join(dir, `${arrayId}_${i}.out`) })),
    };
    writeSubmission(sweepDir, submission);
    context?.log?.(`submitted Slurm array job ${arrayId} (${jobs.length} tasks${this.options.throttle ? `, at most ${this.options.throttle} at once` : ''}); script ${script}`);
    if (!this.options.wait) return [];
    for (const j of jobs) listener.onStart?.(j);
    return this.waitFor(jobs, submission, listener);
  }

  /** Polls until no task of the array is pending or running, reporting each as it ends. */
  private async waitFor(jobs: readonly LaunchJob[], submission: SlurmSubmission, listener: LaunchListener): Promise<JobOutcome[]> {
    const started = Date.now();
    const outcomes: (JobOutcome | undefined)[] = jobs.map(() => undefined);
    for (;;) {
      const states = querySlurmTasks(submission.arrayId);
      for (const [i, job] of jobs.entries()) {
        if (outcomes[i]) continue;
        const s: SlurmTaskState | undefined = states.get(i);
        const done = existsSync(job.doneFile);
        // A task Slurm no longer lists while it lists its siblings was cancelled while pending.
        const ended = s ? s.finished : done || states.size > 0;
        if (!ended) continue;
        const ok = done && (s?.state ?? 'COMPLETED') === 'COMPLETED';
        outcomes[i] = { job, ok, exitCode: s?.exitCode ?? (ok ? 0 : null), signal: s && !ok ? s.state : null, seconds: (Date.now() - started) / 1000 };
        listener.onFinish?.(outcomes[i]!);
      }
      if (outcomes.every((o) => o)) return outcomes as JobOutcome[];
      await new Promise((r) => setTimeout(r, this.options.pollSeconds * 1000));
    }
  }
}

export const slurmLauncherPlugin = definePlugin({
  kind: 'launcher',
  name: 'slurm',
  description: 'Submits the unfinished jobs of a sweep as one Slurm job array (sbatch --array, --requeue); see docs/cluster.md',
  options: SlurmLauncherOptions,
  create: (options) => new SlurmLauncher(options),
});
