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

/** Every submission of a sweep folder, oldest first (by submission time). */
export function readSubmissions(sweepDir: string): SlurmSubmission[] {
  const dir = join(sweepDir, SLURM_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^submission-.+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SlurmSubmission)
    .sort((a, b) => a.submitted.localeCompare(b.submitted));
}
