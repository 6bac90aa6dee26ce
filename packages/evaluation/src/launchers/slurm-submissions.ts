import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The sweep folder's sub-folder with the batch scripts, submission records and Slurm's task logs. */
export const SLURM_DIR = 'slurm';

/** What one `sbatch --array` submitted: which sweep job each array task runs. */
export interface SlurmSubmission {
  arrayId: string;
  script: string;
  submitted: string;
  tasks: { index: number; id: string; label: string; slurmLog: string }[];
}

export function writeSubmission(sweepDir: string, s: SlurmSubmission): void {
  writeFileSync(join(sweepDir, SLURM_DIR, `submission-${s.arrayId}.json`), JSON.stringify(s, null, 2) + '\n');
}

/** Where a sweep job ran last under Slurm: the array task of the newest submission that holds it. */
export interface SubmittedTask {
  arrayId: string;
  index: number;
  slurmLog: string;
}

/** Each job's newest array task, by job id (later submissions take over from earlier ones). */
export function newestTasks(sweepDir: string): Map<string, SubmittedTask> {
  const byJob = new Map<string, SubmittedTask>();
  for (const s of readSubmissions(sweepDir)) for (const t of s.tasks) byJob.set(t.id, { arrayId: s.arrayId, index: t.index, slurmLog: t.slurmLog });
  return byJob;
}

/** Every submission of a sweep folder, oldest first (by submission time). */
export function readSubmissions(sweepDir: string): SlurmSubmission[] {
  const dir = join(sweepDir, SLURM_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^submission-.+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SlurmSubmission)
    .sort((a, b) => a.submitted.localeCompare(b.submitted));
}
