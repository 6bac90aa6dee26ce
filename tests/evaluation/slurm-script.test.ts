// The slurm launcher's batch script and its reading of Slurm's answers, without a cluster
// (tests/slurm runs it against a real one).
import { describe, expect, it } from 'vitest';
import { expandTaskIds, parseSacct, parseScontrol, shellQuote, SlurmLauncher, SlurmLauncherOptions } from '@qtdog/evaluation';

const job = (id: string) => ({
  id,
  label: `ERM ${id}`,
  command: '/usr/bin/node',
  args: ['/opt/qtdog/cli/dist/bin.js', 'run', `/sweeps/s 1/${id}/config.yaml`, '--out', `/sweeps/s 1/${id}`],
  logFile: `/sweeps/s 1/${id}/log.txt`,
  doneFile: `/sweeps/s 1/${id}/done`,
});

describe('slurm launcher batch script', () => {
  it('sets the array, throttle, requeue and every resource option, and one case per job', () => {
    const opts = SlurmLauncherOptions.parse({ partition: 'gpu', time: '02:00:00', cpusPerTask: 4, mem: '8G', throttle: 3, sbatchArgs: ['--account=dg'], setup: 'module load nodejs/20' });
    const l = new SlurmLauncher(opts);
    const s = l.batchScript([job('a'), job('b')], '/sweeps/s 1', 'rmnist');
    expect(s).toContain('#SBATCH --array=0-1%3');
    for (const flag of ['--requeue', '--partition=gpu', '--time=02:00:00', '--cpus-per-task=4', '--mem=8G', '--account=dg']) expect(s).toContain(`#SBATCH ${flag}`);
    expect(s).toContain('#SBATCH --job-name=qtdog-rmnist');
    expect(s).toContain('module load nodejs/20');
    expect(s).toContain('  1) echo "== task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on');
    // Paths with spaces are quoted for the shell; the log is appended to.
    expect(s).toContain(`exec /usr/bin/node /opt/qtdog/cli/dist/bin.js run '/sweeps/s 1/b/config.yaml' --out '/sweeps/s 1/b' >> '/sweeps/s 1/b/log.txt' 2>&1 ;;`);
    expect(l.workersPerJob).toBe(4);
    expect(l.parallelism).toBe(3);
  });

  it("takes node from the task's PATH when asked, and sets no throttle by default", () => {
    const s = new SlurmLauncher(SlurmLauncherOptions.parse({ node: 'node' })).batchScript([job('a')], '/x', 'n');
    expect(s).toContain('exec node /opt/qtdog/cli/dist/bin.js run');
    expect(s).toContain('#SBATCH --array=0-0\n');
  });

  it('quotes words for sh', () => {
    expect(shellQuote('/a/b-c_d.e')).toBe('/a/b-c_d.e');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});

describe('reading Slurm task states', () => {
  it('expands array task ranges', () => {
    expect(expandTaskIds('3')).toEqual([3]);
    expect(expandTaskIds('0-4%2')).toEqual([0, 1, 2, 3, 4]);
    expect(expandTaskIds('1,3-5')).toEqual([1, 3, 4, 5]);
    expect(expandTaskIds('0-6:3')).toEqual([0, 3, 6]);
  });

  it('parses scontrol records, pending ranges included', () => {
    const text = [
      'JobId=12 ArrayJobId=11 ArrayTaskId=0 JobName=a JobState=COMPLETED Reason=None ExitCode=0:0',
      'JobId=13 ArrayJobId=11 ArrayTaskId=1 JobName=a JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0',
      'JobId=14 ArrayJobId=11 ArrayTaskId=2 JobName=a JobState=RUNNING Reason=None ExitCode=0:0',
      'JobId=11 ArrayJobId=11 ArrayTaskId=3-4%1 JobName=a JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0',
    ].join('\n');
    const t = parseScontrol(text);
    expect(t.get(0)).toEqual({ state: 'COMPLETED', finished: true, exitCode: 0 });
    expect(t.get(1)).toEqual({ state: 'FAILED', finished: true, exitCode: 3 });
    expect(t.get(2)!.finished).toBe(false);
    expect(t.get(4)).toEqual({ state: 'PENDING', finished: false, exitCode: 0 });
    expect(t.size).toBe(5);
  });

  it('parses sacct lines of one array only', () => {
    const t = parseSacct('7_0|COMPLETED|0:0\n7_1|CANCELLED by 0|0:15\n7_[2-3]|PENDING|0:0\n70_1|FAILED|1:0\n', '7');
    expect(t.get(1)).toEqual({ state: 'CANCELLED', finished: true, exitCode: 0 });
    expect(t.get(3)!.state).toBe('PENDING');
    expect(t.size).toBe(4);
  });
});
