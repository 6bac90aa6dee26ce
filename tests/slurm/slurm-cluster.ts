// A real single-node Slurm for the launcher tests: munged (as the munge user), slurmctld and slurmd
// (as root) with a minimal slurm.conf for this host, state and spool under a temporary folder.
// Only the daemons this helper started are stopped again (by their process ids).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@qtdog/core';

export interface SlurmCluster {
  dir: string;
  /** The slurm.conf; clients find it through SLURM_CONF. */
  conf: string;
  /** Stops the daemons this helper started and waits for slurmctld and slurmd to exit. */
  stop(): Promise<void>;
}

const BINARIES = ['/usr/sbin/munged', '/usr/bin/munge', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/bin/scontrol', '/usr/bin/scancel', '/usr/bin/sinfo'];

/** Why a Slurm cannot be started here, or undefined when it can. */
export function slurmUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `Slurm needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'starting slurmctld, slurmd and munged needs root (this test runs as another user)';
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) return `Slurm or MUNGE is not installed (missing ${missing.join(', ')}); .ci/run installs Debian's slurm-wlm and munge`;
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mungeWorks(): boolean {
  return spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor(what: string, ok: () => boolean, seconds: number, logs: string[]): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    if (ok()) return;
    await sleep(250);
  }
  const tails = logs.filter(existsSync).map((l) => `--- ${l}\n${readFileSync(l, 'utf8').split('\n').slice(-15).join('\n')}`);
  throw new Error(`${what} did not happen within ${seconds} s\n${tails.join('\n')}`);
}

/** Starts munged (unless one answers already), slurmctld and slurmd; resolves once the node is idle. */
export async function startSlurm(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'qtdog-slurm-'));
  const pids: number[] = [];
  let mungePid: number | undefined;
  if (!mungeWorks()) {
    // Debian's munge package made /etc/munge/munge.key; make one if it is missing.
    if (!existsSync('/etc/munge/munge.key')) {
      mkdirSync('/etc/munge', { recursive: true });
      execFileSync('sh', ['-c', 'dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none && chown munge:munge /etc/munge /etc/munge/munge.key && chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key']);
    }
    execFileSync('sh', ['-c', 'mkdir -p /run/munge /var/lib/munge /var/log/munge && chown munge:munge /run/munge /var/lib/munge /var/log/munge && chmod 755 /run/munge']);
    execFileSync('runuser', ['-u', 'munge', '--', '/usr/sbin/munged']);
    await waitFor('munged answering', mungeWorks, 15, ['/var/log/munge/munged.log']);
    mungePid = readPid('/run/munge/munged.pid');
  }
  const host = hostname();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const memMb = Math.floor((totalmem() / 2 ** 20) * 0.8);
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=qtdogtest',
      `SlurmctldHost=${host}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      // Ended jobs stay visible to scontrol for 10 minutes (sweep status reads them there).
      'MinJobAge=600',
      `NodeName=${host} CPUs=${cpus().length} RealMemory=${memMb} State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const stop = () => {
    for (const pid of [...pids].reverse()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (mungePid) {
      try {
        process.kill(mungePid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  try {
    execFileSync('/usr/sbin/slurmctld', ['-f', conf], { env });
    await waitFor('slurmctld writing its pid file', () => readPid(join(dir, 'slurmctld.pid')) !== undefined, 20, [join(dir, 'slurmctld.log')]);
    pids.push(readPid(join(dir, 'slurmctld.pid'))!);
    execFileSync('/usr/sbin/slurmd', ['-f', conf], { env });
    await waitFor('slurmd writing its pid file', () => readPid(join(dir, 'slurmd.pid')) !== undefined, 20, [join(dir, 'slurmd.log')]);
    pids.push(readPid(join(dir, 'slurmd.pid'))!);
    const idle = () => spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout?.trim() === 'idle';
    await waitFor('the node becoming idle in sinfo', idle, 30, [join(dir, 'slurmctld.log'), join(dir, 'slurmd.log')]);
  } catch (e) {
    stop();
    throw e;
  }
  return {
    dir,
    conf,
    stop: async () => {
      stop();
      for (let i = 0; i < 40 && pids.some(processAlive); i++) await sleep(250);
    },
  };
}
