import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive, RunError } from '@qtdog/core';
import type { SweepJobInfo, SweepManifest } from '../report/sweep-manifest.js';
import { querySlurmTasks, taskStateLookup, type SlurmTaskState } from './slurm-query.js';
import { newestTasks } from './slurm-submissions.js';
import { jobFailure } from '../report/job-failure.js';

export type JobState = 'done' | 'running' | 'pending' | 'failed';

export interface JobStatus {
  info: SweepJobInfo;
  dir: string;
  state: JobState;
  /** Why: Slurm's state and exit code, the lock holder, or what the folder shows. */
  detail: string;
  /** The job's own log (qtdog run's output). */
  log: string;
  /** Slurm's log of the array task (setup errors land there), when it ran under Slurm. */
  slurmLog?: string;
}

export interface SweepStatus {
  dir: string;
  name: string;
  jobs: JobStatus[];
  counts: Record<JobState, number>;
}

const RUNNING = new Set(['RUNNING', 'COMPLETING', 'CONFIGURING', 'STAGE_OUT', 'SIGNALING', 'RESIZING']);

/** A run folder's lock, when a live process (here) or another machine holds it. */
function lockHolder(dir: string): string | undefined {
  const path = join(dir, '.qtdog-lock');
  if (!existsSync(path)) return undefined;
  try {
    const l = JSON.parse(readFileSync(path, 'utf8')) as { host: string; pid: number };
    if (l.host === hostname()) return processAlive(l.pid) ? `pid ${l.pid}` : undefined;
    return `${l.host} pid ${l.pid}`;
  } catch {
    return undefined;
  }
}

/**
 * Where each job of a sweep folder stands: done (its folder has `done`), running, pending or failed,
 * read from the folders and, for jobs submitted by the slurm launcher, from Slurm (`scontrol`, then
 * `sacct`). The newest submission that holds a job speaks for it.
 */
export function sweepStatus(dir: string, query: (arrayId: string) => Map<number, SlurmTaskState> = querySlurmTasks): SweepStatus {
  const manifestPath = join(dir, 'sweep.json');
  if (!existsSync(manifestPath)) throw new RunError(`${dir} is not a sweep folder (no sweep.json; \`qtdog sweep\` writes it when it starts)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as SweepManifest;
  const byJob = newestTasks(dir);
  const slurmState = taskStateLookup(query);

  const jobs = manifest.jobs.map((info): JobStatus => {
    const jobDir = join(dir, info.id);
    const log = join(jobDir, 'log.txt');
    const base = { info, dir: jobDir, log };
    if (existsSync(join(jobDir, 'done'))) return { ...base, state: 'done', detail: 'finished' };
    const task = byJob.get(info.id);
    if (task) {
      const s = slurmState(task.arrayId, task.index);
      const where = `Slurm task ${task.arrayId}_${task.index}`;
      if (s && !s.finished) {
        return { ...base, slurmLog: task.slurmLog, state: RUNNING.has(s.state) ? 'running' : 'pending', detail: `${where} ${s.state}` };
      }
      if (s) {
        const exit = s.exitCode !== null ? `, exit code ${s.exitCode}` : '';
        return { ...base, slurmLog: task.slurmLog, state: 'failed', detail: `${where} ${s.state}${exit} without finishing the run` };
      }
      const holder = lockHolder(jobDir);
      if (holder) return { ...base, slurmLog: task.slurmLog, state: 'running', detail: `${where}; run folder locked by ${holder}` };
      return { ...base, slurmLog: task.slurmLog, state: 'failed', detail: `${where} is no longer known to Slurm (cancelled while pending, or aged out of the controller without accounting) and the run did not finish` };
    }
    const holder = lockHolder(jobDir);
    if (holder) return { ...base, state: 'running', detail: `run folder locked by ${holder}` };
    const started = existsSync(log) || existsSync(join(jobDir, 'results.jsonl'));
    if (!started) return { ...base, state: 'pending', detail: 'not started' };
    const why = jobFailure(log);
    return { ...base, state: 'failed', detail: `started but stopped before finishing${why ? `: ${why}` : ''}` };
  });
  const counts: Record<JobState, number> = { done: 0, running: 0, pending: 0, failed: 0 };
  for (const j of jobs) counts[j.state]++;
  return { dir, name: manifest.name, jobs, counts };
}
