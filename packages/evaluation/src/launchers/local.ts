import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { definePlugin } from '@qtdog/core';
import type { JobOutcome, LaunchJob, Launcher, LaunchListener } from './launcher.js';

export const LocalLauncherOptions = z.object({
  /** Jobs at the same time ('auto' = the number of cores). */
  jobs: z.union([z.number().int().positive(), z.literal('auto')]).default('auto'),
});

/** Runs each job as a child process of this machine, at most `parallelism` at a time. */
export class LocalLauncher implements Launcher {
  readonly name = 'local';
  readonly parallelism: number;

  constructor(jobs: number | 'auto') {
    this.parallelism = jobs === 'auto' ? availableParallelism() : jobs;
  }

  async launch(jobs: readonly LaunchJob[], listener: LaunchListener = {}): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = new Array(jobs.length);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        const job = jobs[i]!;
        listener.onStart?.(job);
        const outcome = await runJob(job);
        outcomes[i] = outcome;
        listener.onFinish?.(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.parallelism, jobs.length) }, worker));
    return outcomes;
  }
}

/** One child process; its output goes to the job's log. A job only succeeds if it wrote `done`. */
function runJob(job: LaunchJob): Promise<JobOutcome> {
  const started = Date.now();
  mkdirSync(dirname(job.logFile), { recursive: true });
  const fd = openSync(job.logFile, 'w');
  return new Promise((resolve) => {
    let settled = false;
    const finish = (exitCode: number | null, signal: string | null) => {
      // 'error' and 'exit' can both fire for one child.
      if (settled) return;
      settled = true;
      closeSync(fd);
      resolve({ job, ok: exitCode === 0 && existsSync(job.doneFile), exitCode, signal, seconds: (Date.now() - started) / 1000 });
    };
    let child;
    try {
      child = spawn(job.command, job.args, { cwd: job.cwd, stdio: ['ignore', fd, fd], env: process.env });
    } catch {
      finish(null, null);
      return;
    }
    child.once('error', () => finish(null, null));
    child.once('exit', (code, signal) => finish(code, signal));
  });
}

export const localLauncherPlugin = definePlugin({
  kind: 'launcher',
  name: 'local',
  description: 'Runs sweep jobs as processes on this machine, N at a time (default: the number of cores)',
  options: LocalLauncherOptions,
  create: (options) => new LocalLauncher(options.jobs),
});
