import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunError } from '../errors.js';

interface LockInfo {
  host: string;
  pid: number;
  started: string;
  /** Slurm job and array task, when run by Slurm (a requeued task takes its own lock over). */
  slurm?: string;
}

export const LOCK_FILE = '.qtdog-lock';

function slurmId(): string | undefined {
  const job = process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID;
  if (!job) return undefined;
  return `${job}:${process.env.SLURM_ARRAY_TASK_ID ?? ''}`;
}

/** Whether a process of this machine with this pid exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The release function of a lock just taken. A run stopped by Ctrl-C, `kill` or a closed terminal
 * never reaches its `finally`, so the lock is also removed on those signals (and on `process.exit`);
 * the process then dies of the same signal, as it would have without the handler, so a launcher
 * still sees how it ended. Only SIGKILL (or a crash of the machine) leaves a lock behind, which the
 * next launch on this host takes over.
 */
function releaseOnExit(path: string): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('exit', release);
    rmSync(path, { force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    // With our listener gone, re-raising runs the default action (or another listener's) for it.
    process.kill(process.pid, signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on('exit', release);
  return release;
}

/**
 * An exclusive lock on a run folder (host and pid inside), so two launches never train the same run
 * at once. A lock whose process is gone (same host), or left by the same Slurm task before a
 * requeue, is taken over. Returns the release function.
 */
export function lockRunFolder(outDir: string, log: (m: string) => void): () => void {
  const path = join(outDir, LOCK_FILE);
  const me: LockInfo = { host: hostname(), pid: process.pid, started: new Date().toISOString(), slurm: slurmId() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return releaseOnExit(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunError(`cannot lock ${outDir}: ${(e as Error).message}`);
    }
    let held: LockInfo | undefined;
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    } catch {
      held = undefined; // torn lock file: its writer died while writing it
    }
    const stale =
      !held ||
      (held.host === me.host && !processAlive(held.pid)) ||
      (held.slurm !== undefined && held.slurm === me.slurm);
    if (!stale) {
      throw new RunError(`${outDir} is being trained by process ${held!.pid} on ${held!.host} (since ${held!.started}); remove ${path} if that process is gone`);
    }
    log(`${outDir}: taking over a stale lock${held ? ` of process ${held.pid} on ${held.host}` : ''}`);
    rmSync(path, { force: true });
  }
  throw new RunError(`cannot lock ${outDir}: another launch keeps taking it`);
}
