import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { definePlugin } from '@qtdog/core';
import type { JobOutcome, LaunchJob, Launcher, LaunchListener } from './launcher.js';

export const LocalLauncherOptions = z.object({
  /** Jobs at the same time ('auto' = the number of cores). */
  jobs: z.union([z.number().int().positive(), z.literal('auto')]).default('auto'),
  /**
   * Each job's `train.workers` (data-parallel threads). Unset: 1 when jobs run side by side, else
   * the job's own setting. Set it to leave cores free, e.g. one job on one core of two.
   */
  workersPerJob: z.number().int().positive().optional(),
});

/** Runs each job as a child process of this machine, at most `parallelism` at a time. */
export class LocalLauncher implements Launcher {
  readonly name = 'local';
  readonly parallelism: number;

  constructor(
    jobs: number | 'auto',
    readonly workersPerJob?: number,
  ) {
    this.parallelism = jobs === 'auto' ? availableParallelism() : jobs;
  }

  /**
   * Runs the jobs. When this process is told to stop (SIGINT, SIGTERM, SIGHUP: Ctrl-C, `kill`, a
   * closed terminal) no further job starts, the running jobs get the same signal and are waited
   * for, and their outcomes say `interrupted`: a job killed on its own would otherwise keep running
   * as an orphan, and a re-launch would find its folder locked. Jobs never started have no outcome.
   */
  async launch(jobs: readonly LaunchJob[], listener: LaunchListener = {}): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = [];
    const running = new Set<ChildProcess>();
    let stopSignal: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopSignal) return;
      stopSignal = signal;
      for (const child of running) child.kill(signal);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    let next = 0;
    // The cores are shared out among the jobs that run side by side: a job's native kernels
    // (oneDNN threads) and `workers: auto` use its share (QTDOG_CORES), not the whole machine,
    // which would oversubscribe it.
    const side = Math.min(this.parallelism, jobs.length);
    const cores = String(Math.max(1, Math.floor(availableParallelism() / Math.max(1, side))));
    const worker = async () => {
      while (!stopSignal && next < jobs.length) {
        const job = jobs[next++]!;
        listener.onStart?.(job);
        const outcome = await runJob(job, running, cores);
        if (stopSignal && !outcome.ok) {
          outcome.interrupted = true;
          outcome.signal ??= stopSignal;
        }
        outcomes.push(outcome);
        listener.onFinish?.(outcome);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.parallelism, jobs.length) }, worker));
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
    return outcomes;
  }
}

/** One child process; its output goes to the job's log. A job only succeeds if it wrote `done`. */
function runJob(job: LaunchJob, running: Set<ChildProcess>, cores: string): Promise<JobOutcome> {
  const started = Date.now();
  mkdirSync(dirname(job.logFile), { recursive: true });
  const fd = openSync(job.logFile, 'w');
  return new Promise((resolve) => {
    let settled = false;
    let child: ChildProcess | undefined;
    const finish = (exitCode: number | null, signal: string | null) => {
      // 'error' and 'exit' can both fire for one child.
      if (settled) return;
      settled = true;
      if (child) running.delete(child);
      closeSync(fd);
      resolve({ job, ok: exitCode === 0 && existsSync(job.doneFile), exitCode, signal, seconds: (Date.now() - started) / 1000 });
    };
    try {
      child = spawn(job.command, job.args, { cwd: job.cwd, stdio: ['ignore', fd, fd], env: { ...process.env, QTDOG_CORES: process.env.QTDOG_CORES ?? cores } });
    } catch {
      finish(null, null);
      return;
    }
    running.add(child);
    child.once('error', () => finish(null, null));
    child.once('exit', (code, signal) => finish(code, signal));
  });
}

export const localLauncherPlugin = definePlugin({
  kind: 'launcher',
  name: 'local',
  description: 'Runs sweep jobs as processes on this machine, N at a time (default: the number of cores)',
  options: LocalLauncherOptions,
  create: (options) => new LocalLauncher(options.jobs, options.workersPerJob),
});
