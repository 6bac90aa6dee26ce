import { execFileSync } from 'node:child_process';

/** One array task as Slurm reports it. */
export interface SlurmTaskState {
  /** Slurm's job state (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...). */
  state: string;
  /** The state is final: the task will not run again unless requeued or re-launched. */
  finished: boolean;
  exitCode: number | null;
}

const ACTIVE = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SUSPENDED', 'STAGE_OUT', 'SIGNALING', 'STOPPED', 'RESV_DEL_HOLD']);

/** Expands an ArrayTaskId field ('3', '0-4%2', '1,3-5') into task indices. */
export function expandTaskIds(field: string): number[] {
  const out: number[] = [];
  for (const part of field.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

function taskState(state: string, exit: string | undefined): SlurmTaskState {
  const s = state.replace(/\+$/, '').split(' ')[0]!;
  const code = exit ? Number(exit.split(':')[0]) : NaN;
  return { state: s, finished: !ACTIVE.has(s), exitCode: Number.isFinite(code) ? code : null };
}

/** Parses `scontrol -o show job <array id>` (one line per job record). */
export function parseScontrol(text: string): Map<number, SlurmTaskState> {
  const tasks = new Map<number, SlurmTaskState>();
  for (const line of text.split('\n')) {
    const field = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S+)`).exec(line)?.[1];
    const ids = field('ArrayTaskId');
    const state = field('JobState');
    if (!ids || !state) continue;
    for (const i of expandTaskIds(ids)) tasks.set(i, taskState(state, field('ExitCode')));
  }
  return tasks;
}

/** Parses `sacct -n -P -X -o JobID,State,ExitCode` lines ('12_3|COMPLETED|0:0', '12_[4-6]|PENDING|0:0'). */
export function parseSacct(text: string, arrayId: string): Map<number, SlurmTaskState> {
  const tasks = new Map<number, SlurmTaskState>();
  for (const line of text.split('\n')) {
    const [id, state, exit] = line.trim().split('|');
    if (!id || !state || !id.startsWith(`${arrayId}_`)) continue;
    const ids = id.slice(arrayId.length + 1).replace(/^\[|\]$/g, '');
    for (const i of expandTaskIds(ids)) tasks.set(i, taskState(state, exit));
  }
  return tasks;
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch {
    return undefined; // not installed, no accounting, or the job aged out of the controller
  }
}

/** A lookup of one task's state that asks Slurm once per array job, for a pass over many jobs. */
export function taskStateLookup(query: (arrayId: string) => Map<number, SlurmTaskState> = querySlurmTasks): (arrayId: string, index: number) => SlurmTaskState | undefined {
  const queried = new Map<string, Map<number, SlurmTaskState>>();
  return (arrayId, index) => {
    if (!queried.has(arrayId)) queried.set(arrayId, query(arrayId));
    return queried.get(arrayId)!.get(index);
  };
}

/**
 * The tasks of one array job: from the controller (`scontrol`, which keeps ended jobs for
 * MinJobAge), then from accounting (`sacct`, where the cluster keeps it) for tasks the controller
 * has forgotten. Empty when neither knows the job (or Slurm's tools are not here).
 */
export function querySlurmTasks(arrayId: string): Map<number, SlurmTaskState> {
  const tasks = parseScontrol(run('scontrol', ['-o', 'show', 'job', arrayId]) ?? '');
  const acct = run('sacct', ['-n', '-P', '-X', '-j', arrayId, '-o', 'JobID,State,ExitCode']);
  if (acct) for (const [i, s] of parseSacct(acct, arrayId)) if (!tasks.has(i)) tasks.set(i, s);
  return tasks;
}
